"""Layer 2 scenarios with figures worked by hand. 2024-03-04 is a Monday; T+1 on business days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from layers23_helpers import D, internal, layer_settings, line, rows_of, workspace, write_bill
from recon.matching.layers23 import run_layers23

MON, TUE, WED, THU = D(2024, 3, 4), D(2024, 3, 5), D(2024, 3, 6), D(2024, 3, 7)
NONE = internal([])


def settlement(ws, day):
    return rows_of(ws.results_dir(day) / "layer2.parquet", section="settlement")


def test_split_payout_980000_plus_20000_settles(tmp_path):
    ws = workspace(tmp_path)
    # Monday owes 600,000 - 1,800 + 403,000 - 1,200 = 1,000,000.00, due Tuesday.
    write_bill(ws, "stripe", MON, [line("PAYMENT", "ch_1", "600000.00", "1800.00"),
                                   line("PAYMENT", "ch_2", "403000.00", "1200.00")])
    write_bill(ws, "stripe", TUE, [line("PAYOUT", "po_a", "-980000.00"), line("PAYOUT", "po_b", "-20000.00")])
    summary = run_layers23(ws, TUE, internal=NONE, settings=layer_settings())
    [row] = settlement(ws, TUE)
    assert (row["kind"], row["key"]) == ("SETTLED", "period:2024-03-04..2024-03-04:EUR")
    assert row["our_amount"] == row["their_amount"] == Decimal("1000000")
    assert row["diff"] == 0 and row["payout_ids"] == "po_a,po_b" and row["due_date"] == TUE
    assert not row["is_discrepancy"]
    assert all(not r["is_discrepancy"] for r in rows_of(ws.results_dir(TUE) / "layer2.parquet"))
    assert (2, "SETTLED", 1) in summary.kinds


def test_payout_a_day_late_is_pending_then_settled(tmp_path):
    ws = workspace(tmp_path)
    write_bill(ws, "stripe", MON, [line("PAYMENT", "ch_1", "502.00", "2.00")])  # owes 500.00
    write_bill(ws, "stripe", TUE, [line("PAYMENT", "ch_2", "100.00")])  # owes 100.00, due Wed
    run_layers23(ws, TUE, internal=NONE, settings=layer_settings())
    [pending] = settlement(ws, TUE)
    assert (pending["kind"], pending["is_discrepancy"]) == ("SETTLEMENT_PENDING", False)
    assert (pending["our_amount"], pending["their_amount"]) == (Decimal("500"), Decimal("0"))
    assert "still open until 2024-03-07" in pending["reason"]

    write_bill(ws, "stripe", WED, [line("PAYOUT", "po_late", "-500.00")])
    run_layers23(ws, WED, internal=NONE, settings=layer_settings())
    by_key = {r["key"]: r for r in settlement(ws, WED)}
    assert by_key["period:2024-03-04..2024-03-04:EUR"]["kind"] == "SETTLED"
    assert by_key["period:2024-03-05..2024-03-05:EUR"]["kind"] == "SETTLEMENT_PENDING"  # Tuesday's is due today


def test_missing_payout_becomes_missing_when_the_window_closes(tmp_path):
    ws = workspace(tmp_path)
    write_bill(ws, "stripe", MON, [line("PAYMENT", "ch_1", "502.00", "2.00")])
    run_layers23(ws, WED, internal=NONE, settings=layer_settings())
    assert [r["kind"] for r in settlement(ws, WED)] == ["SETTLEMENT_PENDING"]
    run_layers23(ws, THU, internal=NONE, settings=layer_settings())  # due Tue + 2 business days
    [row] = settlement(ws, THU)
    assert (row["kind"], row["our_amount"], row["their_amount"], row["diff"]) == \
        ("SETTLEMENT_MISSING", Decimal("500"), Decimal("0"), Decimal("-500"))
    assert row["is_discrepancy"] and "no payout by 2024-03-07" in row["reason"]


@pytest.mark.parametrize(("paid", "kind", "diff"), [("-480.00", "SETTLEMENT_SHORT", "-20"),
                                                     ("-520.00", "SETTLEMENT_OVER", "20")])
def test_short_and_over(tmp_path, paid, kind, diff):
    ws = workspace(tmp_path)
    write_bill(ws, "stripe", MON, [line("PAYMENT", "ch_1", "502.00", "2.00")])
    write_bill(ws, "stripe", TUE, [line("PAYOUT", "po_1", paid)])
    run_layers23(ws, THU, internal=NONE, settings=layer_settings())
    [row] = settlement(ws, THU)
    assert (row["kind"], row["diff"]) == (kind, Decimal(diff))


def test_one_payout_id_covering_two_days(tmp_path):
    ws = workspace(tmp_path)
    write_bill(ws, "stripe", MON, [line("PAYMENT", "ch_1", "301.00", "1.00", payout_id="po_X")])  # 300
    write_bill(ws, "stripe", TUE, [line("PAYMENT", "ch_2", "200.00", payout_id="po_X")])  # 200
    write_bill(ws, "stripe", WED, [line("PAYOUT", "tr_1", "-500.00", payout_id="po_X")])
    run_layers23(ws, WED, internal=NONE, settings=layer_settings())
    [row] = settlement(ws, WED)
    assert (row["kind"], row["key"], row["period_start"], row["period_end"]) == ("SETTLED", "payout:po_X", MON, TUE)
    assert row["our_amount"] == Decimal("500") and row["our_count"] == 2


def test_weekend_trades_settle_together_on_monday(tmp_path):
    ws = workspace(tmp_path)
    write_bill(ws, "stripe", D(2024, 3, 1), [line("PAYMENT", "ch_f", "100.00")])
    write_bill(ws, "stripe", D(2024, 3, 2), [line("PAYMENT", "ch_s", "50.00")])
    write_bill(ws, "stripe", D(2024, 3, 3), [line("REFUND", "re_s", "-30.00")])
    write_bill(ws, "stripe", MON, [line("PAYOUT", "po_m", "-120.00")])  # 100 + 50 - 30
    run_layers23(ws, MON, internal=NONE, settings=layer_settings())
    [row] = settlement(ws, MON)
    assert (row["kind"], row["key"], row["our_count"]) == ("SETTLED", "period:2024-03-01..2024-03-03:EUR", 3)


def test_fee_charged_twice_is_a_bill_fee_mismatch(tmp_path):
    ws = workspace(tmp_path)
    # The channel charged ch_2's 1.20 fee twice: its fees total 0.60 + 2.40 = 3.00, ours 1.80.
    write_bill(ws, "stripe", MON, [line("PAYMENT", "ch_1", "100.00", "0.60"),
                                   line("PAYMENT", "ch_2", "200.00", "2.40"),
                                   line("REFUND", "re_1", "-50.00")])
    ours = internal([("t1", "PAYMENT", "100.00", "0.60"), ("t2", "PAYMENT", "200.00", "1.20"),
                     ("t3", "REFUND", "-50.00", "0")])
    run_layers23(ws, MON, internal=ours, settings=layer_settings())
    bill = {(r["key"], r["kind"]): r for r in rows_of(ws.results_dir(MON) / "layer2.parquet", section="bill")}
    assert set(bill) == {("PAYMENT:EUR", "BILL_FEE_MISMATCH"), ("REFUND:EUR", "BILL_OK")}
    fee = bill[("PAYMENT:EUR", "BILL_FEE_MISMATCH")]
    assert (fee["our_amount"], fee["their_amount"], fee["diff"]) == (Decimal("1.8"), Decimal("3"), Decimal("1.2"))
    assert "1.80 EUR" in fee["reason"] and "3.00 EUR" in fee["reason"]
    assert (fee["account"], fee["currency"], fee["our_count"], fee["their_count"]) == ("acct_1", "EUR", 2, 2)


def test_a_line_only_the_channel_has_is_one_difference_with_count_and_amount(tmp_path):
    ws = workspace(tmp_path)
    write_bill(ws, "stripe", MON, [line("PAYMENT", "ch_1", "100.00"), line("PAYMENT", "ch_9", "25.00"),
                                   line("PAYMENT", "ch_x", "70.00", status="FAILED")])  # failed: not counted
    run_layers23(ws, MON, internal=internal([("t1", "PAYMENT", "100.00", "0")]), settings=layer_settings())
    kinds = {r["kind"]: r for r in rows_of(ws.results_dir(MON) / "layer2.parquet", section="bill")}
    assert set(kinds) == {"BILL_AMOUNT_MISMATCH"}  # one difference, one row: counts travel with it
    row = kinds["BILL_AMOUNT_MISMATCH"]
    assert (row["our_count"], row["their_count"], row["diff"]) == (1, 2, Decimal("25"))
    assert "we have 1 rows, the channel's bill has 2" in row["reason"] and "25.00 EUR" in row["reason"]


def test_a_payout_of_a_period_closed_since_is_not_an_open_periods_over(tmp_path):
    # Each day is paid the next: Monday's 500.00 on Tuesday, Tuesday's 100.00 on Wednesday, ...
    # On Friday Monday's period has closed (Tuesday + 2 business days), but its payout is still read
    # back for layer 3: it stays Monday's, never Tuesday's (open until Friday) paid too much.
    ws = workspace(tmp_path)
    FRI = D(2024, 3, 8)
    owed = {MON: "500.00", TUE: "100.00", WED: "200.00", THU: "300.00"}
    for n, (day, amount) in enumerate(owed.items()):
        paid = [line("PAYOUT", f"po_{n - 1}", f"-{owed[day - dt.timedelta(days=1)]}")] if day != MON else []
        write_bill(ws, "stripe", day, [line("PAYMENT", f"ch_{n}", amount), *paid])
    write_bill(ws, "stripe", FRI, [line("PAYOUT", "po_3", "-300.00")])
    run_layers23(ws, FRI, internal=NONE, settings=layer_settings())
    rows = settlement(ws, FRI)
    assert {r["kind"] for r in rows} == {"SETTLED"}, [(r["key"], r["kind"], r["reason"]) for r in rows]
