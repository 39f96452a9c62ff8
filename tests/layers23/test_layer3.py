"""Layer 3 scenarios: book positions vs bank balances, and payouts vs bank credits (by hand)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from layers23_helpers import D, internal, layer_settings, line, rows_of, workspace, write_balances, write_bill
from recon.matching.layers23 import run_layers23
from recon.matching.layer3_cash import load_positions_csv

MON, TUE, WED, SAT = D(2024, 3, 4), D(2024, 3, 5), D(2024, 3, 6), D(2024, 3, 9)
IBAN = "DE89370400440532013000"
NONE = internal([])


def layer3(ws, day, **where):
    return rows_of(ws.results_dir(day) / "layer3.parquet", **where)


def test_books_2_2m_bank_2_0m_is_a_cash_mismatch_of_0_2m(tmp_path):
    ws = workspace(tmp_path)
    write_balances(ws, "bank", MON, [(IBAN, "EUR", "2000000.00")])
    summary = run_layers23(ws, MON, internal=NONE, settings=layer_settings(),
                           positions={IBAN: ("EUR", Decimal("2200000.00"))})
    [row] = layer3(ws, MON, section="cash")
    assert (row["kind"], row["channel"], row["key"]) == ("CASH_MISMATCH", "bank", f"{IBAN}:EUR")
    assert (row["our_amount"], row["their_amount"], row["diff"]) == \
        (Decimal("2200000"), Decimal("2000000"), Decimal("-200000"))
    assert "2,200,000.00 EUR" in row["reason"] and "2,000,000.00 EUR" in row["reason"]
    assert "-200,000.00 EUR" in row["reason"] and row["their_ref"] == "S20240304"
    assert summary.discrepancies == 1


def test_equal_positions_are_cash_ok_and_unbooked_accounts_are_flagged(tmp_path):
    ws = workspace(tmp_path)
    write_balances(ws, "bank", MON, [(IBAN, "EUR", "1500.00"), (IBAN, "USD", "80.00")])
    books = pl.DataFrame({"account": [IBAN, "GB33BUKB20201555555555"], "currency": ["EUR", "GBP"],
                          "balance": [Decimal("1500.00"), Decimal("10.00")]})
    run_layers23(ws, MON, internal=NONE, settings=layer_settings(), positions=books)
    kinds = {(r["currency"], r["kind"]) for r in layer3(ws, MON, section="cash")}
    assert kinds == {("EUR", "CASH_OK"), ("USD", "CASH_UNBOOKED"), ("GBP", "CASH_NO_STATEMENT")}


def test_weekend_without_statement_is_not_an_error(tmp_path):
    ws = workspace(tmp_path)
    summary = run_layers23(ws, SAT, internal=NONE, settings=layer_settings(),
                           positions={IBAN: ("EUR", Decimal("2200000.00"))})
    assert layer3(ws, SAT) == [] and summary.discrepancies == 0
    assert any("not a business day" in n for n in summary.notes)
    # The same missing statement on a Monday is worth a look.
    summary = run_layers23(ws, MON, internal=NONE, settings=layer_settings(),
                           positions={IBAN: ("EUR", Decimal("2200000.00"))})
    assert [r["kind"] for r in layer3(ws, MON)] == ["CASH_NO_STATEMENT"]


def test_holiday_without_statement_is_not_an_error(tmp_path):
    ws = workspace(tmp_path)
    summary = run_layers23(ws, D(2024, 4, 1), internal=NONE, settings=layer_settings(),
                           positions={IBAN: ("EUR", Decimal("1.00"))})
    assert summary.discrepancies == 0


def test_payouts_received_not_received_mismatched_and_unexpected_credit(tmp_path):
    ws = workspace(tmp_path)
    write_bill(ws, "stripe", MON, [
        line("PAYOUT", "tr_1", "-1000.00", payout_id="po_ref1_abc"),  # lands, named in the bank memo
        line("PAYOUT", "tr_po_2", "-2500.00"),  # lands, no reference: by amount and date
        line("PAYOUT", "tr_3", "-700.00", payout_id="po_ref3_xyz"),  # lands as 690.00
        line("PAYOUT", "tr_4", "-300.00", payout_id="po_ref4_lost"),  # never lands
    ])
    write_bill(ws, "bank", MON, [
        line("PAYMENT", "B1", "1000.00", memo="STRIPE PAYOUT po_ref1_abc"),
        line("PAYMENT", "B2", "2500.00", memo="STRIPE"),
        line("PAYMENT", "B3", "690.00", memo="STRIPE po_ref3_xyz"),
        line("PAYMENT", "B4", "42.00", memo="ACME LTD INVOICE 17"),
        line("PAYMENT", "B5", "-99.00", memo="rent"),  # a debit: not a candidate
    ], account=IBAN)
    run_layers23(ws, MON, internal=NONE, settings=layer_settings())
    got = {r["key"]: r for r in layer3(ws, MON, section="payout")}
    assert {k: r["kind"] for k, r in got.items()} == {
        "payout:po_ref1_abc": "PAYOUT_RECEIVED",
        "payout:tr_po_2": "PAYOUT_RECEIVED",
        "payout:po_ref3_xyz": "PAYOUT_AMOUNT_MISMATCH",
        "payout:po_ref4_lost": "PAYOUT_IN_TRANSIT",
        "credit:B4@5": "UNEXPECTED_CREDIT",
    }
    mismatch = got["payout:po_ref3_xyz"]
    assert (mismatch["our_amount"], mismatch["their_amount"], mismatch["diff"]) == \
        (Decimal("700"), Decimal("690"), Decimal("-10"))
    assert got["payout:po_ref1_abc"]["their_ref"] == "bank:B1"
    assert got["credit:B4@5"]["channel"] == "bank" and got["credit:B4@5"]["their_amount"] == Decimal("42")
    assert not got["payout:po_ref4_lost"]["is_discrepancy"]

    # landing_days = 1: po_ref4_lost may land until Tuesday; on Wednesday it is not received.
    write_bill(ws, "bank", TUE, [], account=IBAN)
    run_layers23(ws, WED, internal=NONE, settings=layer_settings())
    [lost] = layer3(ws, WED, section="payout")
    assert (lost["kind"], lost["our_amount"], lost["their_amount"]) == \
        ("PAYOUT_NOT_RECEIVED", Decimal("300"), Decimal("0"))


def test_book_positions_from_a_csv(tmp_path):
    books = tmp_path / "books"
    books.mkdir()
    (books / "2024-03-04.csv").write_text(
        "date,account,currency,balance\n2024-03-04,A1,EUR,2200000.00\n2024-03-03,A1,EUR,1.00\n", encoding="utf-8")
    frame = load_positions_csv("books/{date:%Y-%m-%d}.csv", tmp_path, MON)
    assert frame.to_dicts() == [{"channel": None, "account": "A1", "currency": "EUR", "amount": Decimal("2200000")}]
