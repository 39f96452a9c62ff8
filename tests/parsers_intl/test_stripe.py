"""stripe.balance: golden sample, zero- and three-decimal currencies, every rejection cause."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from recon.errors import StatementRejected

SAMPLE = "sample_statements/stripe/stripe_balance_2026-01-15.csv"
HEADER = "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id,charge_id,automatic_payout_id\n"


def test_golden_sample(parse, golden, repo):
    parsed = parse(repo / SAMPLE, "stripe.balance", bill_date=dt.date(2026, 1, 15), account="acct_1Demo")
    golden("stripe_balance_2026-01-15", parsed.bill)
    assert "no control totals: Stripe reports carry no footer to check against" in parsed.checks
    assert set(parsed.bill["currency"]) == {"USD", "EUR", "JPY", "KWD"}


def test_refund_jpy_kwd_and_signs(parse, write):
    p = write(HEADER
              + "txn_1,2026-01-15 01:02:03,jpy,1500,75,1425,charge,ch_1,ch_1,po_1\n"
              + "txn_2,2026-01-15 02:00:00,JPY,-500,0,-500,refund,re_1,ch_1,po_1\n"
              + "txn_3,2026-01-15 03:00:00,KWD,12.345,0.105,12.240,charge,ch_2,ch_2,po_2\n"
              + "txn_4,2026-01-15 04:00:00,USD,-30.00,15.00,-45.00,dispute,du_1,ch_3,po_3\n")
    bill = parse(p, "stripe.balance", account="acct_1").bill
    rows = bill.select("record_type", "channel_txn_id", "channel_refund_id", "currency", "amount", "fee", "net_amount").rows()
    assert rows == [
        ("PAYMENT", "ch_1", None, "JPY", Decimal(1500), Decimal(75), Decimal(1425)),
        ("REFUND", "ch_1", "re_1", "JPY", Decimal(-500), Decimal(0), Decimal(-500)),
        ("PAYMENT", "ch_2", None, "KWD", Decimal("12.345"), Decimal("0.105"), Decimal("12.240")),
        ("CHARGEBACK", "ch_3", None, "USD", Decimal(-30), Decimal(15), Decimal(-45)),
    ]
    assert bill["trade_time"][0] == dt.datetime(2026, 1, 15, 1, 2, 3, tzinfo=dt.timezone.utc)
    assert set(bill["status"]) == {"SUCCESS"} and set(bill["account"]) == {"acct_1"}


def test_unknown_category_is_other_with_warning(parse, write):
    p = write(HEADER + "txn_1,2026-01-15 01:02:03,USD,1.00,0,1.00,brand_new_thing,,,\n")
    parsed = parse(p, "stripe.balance")
    assert parsed.bill["record_type"].to_list() == ["OTHER"]
    assert parsed.bill["status"].to_list() == ["UNKNOWN"]
    assert parsed.warnings and parsed.warnings[0].line == 2


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("txn_1,2026-01-15 01:02:03,USD,10.00,0.30,9.80,charge,ch,ch,po\n", 2, "net"),            # row total
        ("txn_1,2026-01-15 01:02:03,JPY,100.5,0,100.5,charge,ch,ch,po\n", 2, "more decimals than JPY"),
        ("txn_1,2026-01-15 01:02:03,USD,1.001,0,1.001,charge,ch,ch,po\n", 2, "more decimals than USD"),
        ("txn_1,2026-01-15 01:02:03,USD,1e3,0,1e3,charge,ch,ch,po\n", 2, "not an amount"),
        ("txn_1,2026-01-15 01:02:03,USD,\"1,5\",0,\"1,5\",charge,ch,ch,po\n", 2, "not an amount"),
        ("txn_1,15/01/2026,USD,1.00,0,1.00,charge,ch,ch,po\n", 2, "created_utc"),
        ("txn_1,2026-01-15 01:02:03,USD,1.00,0,1.00,charge,ch,ch,po\ntxn_2,2026-01-15 01:0", 3, "fields"),  # truncated
        ("txn_1,2026-01-15 01:02:03,US,1.00,0,1.00,charge,ch,ch,po\n", 2, "currency"),
        ("1.2302025304E+022,2026-01-15 01:02:03,USD,1.00,0,1.00,charge,ch,ch,po\n", 2, "scientific"),
    ],
)
def test_rejections(parse, write, body, line, words):
    with pytest.raises(StatementRejected) as exc:
        parse(write(HEADER + body), "stripe.balance")
    assert exc.value.problem.line == line
    assert words in exc.value.problem.message


def test_missing_required_column(parse, write):
    with pytest.raises(StatementRejected, match="missing required column"):
        parse(write("balance_transaction_id,created_utc,currency,gross,net,reporting_category\n"), "stripe.balance")


def test_wrong_encoding(parse, write):
    p = write(HEADER.encode() + "txn_1,2026-01-15 01:02:03,USD,1.00,0,1.00,charge,ch_é,ch,po\n".encode("latin-1"))
    with pytest.raises(StatementRejected, match="not valid utf-8") as exc:
        parse(p, "stripe.balance")
    assert exc.value.problem.line == 2


def test_bom_and_crlf(parse, write):
    p = write(("\ufeff" + HEADER + "txn_1,2026-01-15 01:02:03,USD,1.00,0,1.00,charge,ch,ch,po\n").replace("\n", "\r\n"))
    assert parse(p, "stripe.balance").bill["source_line"].to_list() == [2]


def test_quoted_newline_keeps_physical_lines(parse, write):
    p = write("balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,description\n"
              'txn_1,2026-01-15 01:02:03,USD,1.00,0,1.00,charge,"two\nlines"\n'
              "txn_2,2026-01-15 01:02:04,USD,2.00,0,2.00,charge,x\n")
    bill = parse(p, "stripe.balance").bill
    assert bill["source_line"].to_list() == [2, 4]
    assert bill["memo"][0] == "two\nlines"
