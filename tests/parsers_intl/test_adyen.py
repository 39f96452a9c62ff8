"""adyen.settlement: golden sample, layouts by header name, time zones, batch check, rejections."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.synth.intl import _ADYEN_HEADER
from recon.errors import StatementRejected

SAMPLE = "sample_statements/adyen/settlement_detail_report_batch_101.csv"
PAY = 'Co,Shop,,,,2026-01-15 23:50:00,CET,MerchantPayout,"TX1XT batch 7, Shop",,,,,{nc},{amt},,,,,,,,7,,,,,,,\n'


def row(psp, ref, t, tz, typ, gc, gdr, gcr, rate, nc, ndr, ncr, comm="", markup="", mmr=""):
    return f"Co,Shop,{psp},{ref},visa,{t},{tz},{typ},M{psp},{gc},{gdr},{gcr},{rate},{nc},{ndr},{ncr},{comm},{markup},,,visa,{mmr},7,,,,,,,\n"


GOOD = [
    row("881", "ORD-1", "2026-01-15 10:00:00", "CET", "Settled", "EUR", "", "100.00", "1", "EUR", "", "98.50", "1.20", "0.30"),
    row("882", "ORD-2", "2026-07-15 10:00:00", "CEST", "Settled", "JPY", "", "1500", "0.0061", "EUR", "", "9.04", "0.11"),
    row("881", "ORD-1", "2026-01-15 12:00:00", "PST", "Refunded", "EUR", "40.00", "", "1", "EUR", "40.00", "", "", "", "RF-1"),
]


def test_golden_sample(parse, golden, repo):
    parsed = parse(repo / SAMPLE, "adyen.settlement")
    golden("adyen_settlement_detail_report_batch_101", parsed.bill)
    assert parsed.checks[0].startswith("batch 101 EUR: rows net")


def test_rows_zones_jpy_and_refund(parse, write):
    parsed = parse(write(_ADYEN_HEADER + "".join(GOOD) + PAY.format(nc="EUR", amt="67.54")), "adyen.settlement")
    bill = parsed.bill
    rows = bill.select("record_type", "channel_txn_id", "merchant_txn_id", "channel_refund_id", "merchant_refund_id",
                       "amount", "fee", "net_amount").rows()
    assert rows[:3] == [
        ("PAYMENT", "881", "ORD-1", None, None, Decimal("100.00"), Decimal("1.50"), Decimal("98.50")),
        ("PAYMENT", "882", "ORD-2", None, None, Decimal("9.15"), Decimal("0.11"), Decimal("9.04")),
        ("REFUND", "881", "ORD-1", "M881", "RF-1", Decimal("-40.00"), Decimal(0), Decimal("-40.00")),
    ]
    assert rows[3][0] == "PAYOUT" and rows[3][7] == Decimal("-67.54")
    utc = dt.timezone.utc
    assert bill["trade_time"].to_list()[:3] == [dt.datetime(2026, 1, 15, 9, tzinfo=utc), dt.datetime(2026, 7, 15, 8, tzinfo=utc),
                                                dt.datetime(2026, 1, 15, 20, tzinfo=utc)]
    assert bill["gross_currency"][1] == "JPY" and bill["gross_amount"][1] == Decimal(1500)
    assert parsed.checks[0] == "batch 7 EUR: rows net 67.540000 = MerchantPayout 67.540000"


def test_reordered_columns(parse, write):
    cols = _ADYEN_HEADER.strip().split(",")
    order = list(reversed(range(len(cols))))
    def flip(line: str) -> str:
        import csv, io
        cells = next(csv.reader(io.StringIO(line)))
        return ",".join(f'"{cells[i]}"' for i in order) + "\n"
    text = flip(_ADYEN_HEADER) + "".join(flip(r) for r in GOOD) + flip(PAY.format(nc="EUR", amt="67.54"))
    assert parse(write(text), "adyen.settlement").bill["net_amount"].sum() == Decimal(0)


def test_unknown_type_is_other_with_warning(parse, write):
    text = _ADYEN_HEADER + row("", "", "2026-01-15 10:00:00", "CET", "SomethingNew", "", "", "", "", "EUR", "", "1.00")
    parsed = parse(write(text), "adyen.settlement")
    assert parsed.bill["record_type"].to_list() == ["OTHER"] and parsed.bill["status"].to_list() == ["UNKNOWN"]
    assert parsed.warnings[0].line == 2


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (_ADYEN_HEADER + "".join(GOOD) + PAY.format(nc="EUR", amt="67.55"), 5, "MerchantPayout"),
        (_ADYEN_HEADER + GOOD[0].replace("98.50", "98.40"), 2, "net 98.40"),
        (_ADYEN_HEADER + GOOD[1].replace("9.04", "9.54"), 2, "x rate"),
        (_ADYEN_HEADER + GOOD[0].replace("98.50", "98.500"), 2, "more decimals than EUR"),
        (_ADYEN_HEADER + GOOD[1].replace(",1500,", ",1500.5,"), 2, "more decimals than JPY"),
        (_ADYEN_HEADER + GOOD[0].replace("ORD-1", "1.2302025304E+022"), 2, "scientific notation"),
        (_ADYEN_HEADER + GOOD[0].replace("CET", "CST"), 2, "TimeZone"),
        (_ADYEN_HEADER + GOOD[0].replace("2026-01-15 10:00:00", "15.01.2026 10:00"), 2, "Creation Date"),
        (_ADYEN_HEADER + GOOD[0].replace("98.50", "9,850"), 2, "fields"),
        (_ADYEN_HEADER + GOOD[0][:40], 2, "fields"),
        (_ADYEN_HEADER.replace("Batch Number", "Batch"), 1, "missing required column(s) Batch Number"),
    ],
)
def test_rejections(parse, write, text, line, words):
    with pytest.raises(StatementRejected) as exc:
        parse(write(text), "adyen.settlement")
    assert words in exc.value.problem.message
    assert exc.value.problem.line == line


def test_wrong_encoding(parse, write):
    data = (_ADYEN_HEADER + GOOD[0].replace("ORD-1", "ORD-\u00e9")).encode("cp1252")
    with pytest.raises(StatementRejected, match="not valid utf-8"):
        parse(write(data), "adyen.settlement")
