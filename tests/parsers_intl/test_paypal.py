"""paypal.stl: golden sample, x100 amounts for every currency, footers, sequencing, rejections."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.synth.intl import _STL_COLUMNS
from recon.errors import StatementRejected

SAMPLE = "sample_statements/paypal/STL-20260115.01.009.CSV"
CH = '"CH",' + ",".join(f'"{c}"' for c in _STL_COLUMNS) + "\n"
HEAD = '"RH",2026/01/16 02:05:05 -0800,"A","EZ782AXEUJUW8",009,\n"FH",01\n"SH",2026/01/15 00:00:00 -0800,2026/01/15 23:59:59 -0800,"EZ782AXEUJUW8",""\n' + CH
T = "2026/01/15 23:30:00 -0800"


def sb(tid, code, dc, gross, cur, fdc="", fee="", ref="", reftype=""):
    return f'"SB","{tid}","INV-{tid}","{ref}","{reftype}","{code}",{T},{T},"{dc}",{gross},"{cur}","{fdc}",{fee},"{cur if fee != "" else ""}","","","","","",,,\n'


def stl(rows, sf, rf=None, sc=None, ff=None, head=HEAD, rc=True):
    n = len(rows)
    rf = sf if rf is None else rf
    text = head + "".join(rows) + "".join(f'"SF",{s}\n' for s in sf) + f'"SC",{n if sc is None else sc}\n'
    if rc:
        text += "".join(f'"RF",{s}\n' for s in rf) + f'"RC",{n}\n'
    return text + f'"FF",{n if ff is None else ff}\n'


BAL = '"CR",0,"CR",0,"CR",0,"CR",0,"CR",0,"CR",0'
GOOD = [sb("P1", "T0006", "CR", 15000, "JPY", "DR", 500), sb("R1", "T1107", "DR", 5000, "JPY", "CR", 100, "P1", "TXN"),
        sb("P2", "T0006", "CR", 1999, "USD", "DR", 88), sb("W1", "T0400", "DR", 1000, "USD")]
GOOD_SF = [f'"JPY",15000,5000,100,500,{BAL},2', f'"USD",1999,1000,0,88,{BAL},2']


def test_golden_sample(parse, golden, repo):
    parsed = parse(repo / SAMPLE, "paypal.stl")
    golden("paypal_STL-20260115.01.009", parsed.bill)
    assert any(c.startswith("RC count and RF totals") for c in parsed.checks)


def test_x100_for_jpy_refund_and_payout(parse, write):
    bill = parse(write(stl(GOOD, GOOD_SF)), "paypal.stl").bill
    rows = bill.select("record_type", "channel_txn_id", "channel_refund_id", "currency", "amount", "fee", "net_amount", "account").rows()
    assert rows == [
        ("PAYMENT", "P1", None, "JPY", Decimal(150), Decimal(5), Decimal(145), "EZ782AXEUJUW8"),
        ("REFUND", "P1", "R1", "JPY", Decimal(-50), Decimal(-1), Decimal(-49), "EZ782AXEUJUW8"),
        ("PAYMENT", "P2", None, "USD", Decimal("19.99"), Decimal("0.88"), Decimal("19.11"), "EZ782AXEUJUW8"),
        ("PAYOUT", "W1", None, "USD", Decimal(-10), Decimal(0), Decimal(-10), "EZ782AXEUJUW8"),
    ]
    assert bill["trade_time"][0] == dt.datetime(2026, 1, 16, 7, 30, tzinfo=dt.timezone.utc)
    assert bill["bill_date"][0] == dt.date(2026, 1, 15)
    assert bill["source_line"].to_list() == [5, 6, 7, 8]


def test_utf16_file(parse, write):
    assert parse(write(stl(GOOD, GOOD_SF).encode("utf-16")), "paypal.stl").bill.height == 4


def test_unknown_tcode_is_other_with_warning(parse, write):
    rows = [sb("X1", "T9876", "CR", 100, "USD")]
    parsed = parse(write(stl(rows, [f'"USD",100,0,0,0,{BAL},1'])), "paypal.stl")
    assert parsed.bill["record_type"].to_list() == ["OTHER"] and parsed.bill["status"].to_list() == ["UNKNOWN"]
    assert parsed.warnings[0].line == 5 and "T9876" in parsed.warnings[0].message


def test_second_file_of_split_report(parse, write):
    head = '"FH",02\n"SH",2026/01/15 00:00:00 -0800,2026/01/15 23:59:59 -0800,"EZ782AXEUJUW8",""\n' + CH
    parsed = parse(write(stl(GOOD, GOOD_SF, head=head, rc=False)), "paypal.stl")
    assert any("file 02 of a split report" in c for c in parsed.checks)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (stl(GOOD, [GOOD_SF[0], f'"USD",1999,1000,0,87,{BAL},2']), None, "SF USD: fee DR 87 != 88"),
        (stl(GOOD, GOOD_SF, sc=3), None, "SC count 3"),
        (stl(GOOD, GOOD_SF, ff=5), None, "FF count 5"),
        (stl(GOOD, GOOD_SF).rsplit('"FF"', 1)[0], None, "truncated"),
        (stl(GOOD, GOOD_SF).split('"RH"', 1)[1].split("\n", 1)[1], 1, "lacks its RH"),
        (stl([sb("P1", "T0006", "CR", 15050, "JPY")], [f'"JPY",15050,0,0,0,{BAL},1']), 5, "more decimals than JPY"),
        (stl([sb("P1", "T0006", "XX", 100, "USD")], [f'"USD",100,0,0,0,{BAL},1']), 5, "not CR or DR"),
        (stl([sb("P1", "T0006", "CR", "1.00", "USD")], [f'"USD",100,0,0,0,{BAL},1']), 5, "unsigned integer"),
        (stl(GOOD, GOOD_SF).replace(T, "2026-01-15 23:30:00", 1), 5, "Initiation Date"),
        (stl(GOOD, GOOD_SF).replace('"Fee Amount"', '"Fee Amt"'), 4, "missing required column"),
        (stl(GOOD, GOOD_SF).replace('"SC"', '"ZZ"'), None, "out of place"),
    ],
)
def test_rejections(parse, write, text, line, words):
    with pytest.raises(StatementRejected) as exc:
        parse(write(text), "paypal.stl")
    assert words in exc.value.problem.message
    if line is not None:
        assert exc.value.problem.line == line


def test_wrong_encoding(parse, write):
    data = stl(GOOD, GOOD_SF).replace('"INV-P2"', '"INV-\u00e9"').encode("latin-1")
    with pytest.raises(StatementRejected, match="not valid utf-8"):
        parse(write(data), "paypal.stl")
