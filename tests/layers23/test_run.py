"""run_layers23 as a whole: byte-identical re-runs, one-channel runs, workspace settings."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from layers23_helpers import D, internal, line, rows_of, workspace, write_balances, write_bill

from recon.matching.layer23_results import OK_KINDS, RESULT_COLUMNS, WAITING_KINDS
from recon.matching.layers23 import run_layers23
from recon.queue.sources import read_generic

MON, TUE = D(2024, 3, 4), D(2024, 3, 5)
IBAN = "DE89370400440532013000"


def _day(ws):
    write_bill(ws, "stripe", MON, [line("PAYMENT", "ch_1", "600000.00", "1800.00"),
                                   line("PAYMENT", "ch_2", "403000.00", "1200.00"),
                                   line("FEE", "fee_1", "-5.00")])
    write_bill(ws, "stripe", TUE, [line("PAYOUT", "po_b", "-20000.00"), line("PAYOUT", "po_a", "-980000.00"),
                                   line("PAYMENT", "ch_3", "10.00", "0.30", currency="USD")])
    write_bill(ws, "bank", TUE, [line("PAYMENT", "B1", "980000.00", memo="po_a"),
                                 line("PAYMENT", "B2", "7.00", memo="interest")], account=IBAN)
    write_balances(ws, "bank", TUE, [(IBAN, "EUR", "2000000.00")])


def test_rerun_writes_the_same_bytes(tmp_path):
    ws = workspace(tmp_path)
    _day(ws)
    ours = internal([("t3", "PAYMENT", "10.00", "0.30")], currency="USD")
    books = {IBAN: ("EUR", Decimal("2200000.00"))}
    run_layers23(ws, TUE, internal=ours, positions=books)  # the built-in settings (stripe: T+2)
    first = [(ws.results_dir(TUE) / f"layer{n}.parquet").read_bytes() for n in (2, 3)]
    summary = run_layers23(ws, TUE, internal=ours, positions=books)
    assert [(ws.results_dir(TUE) / f"layer{n}.parquet").read_bytes() for n in (2, 3)] == first
    frame = pl.read_parquet(ws.results_dir(TUE) / "layer3.parquet")
    assert dict(frame.schema) == RESULT_COLUMNS
    assert set(frame["business_date"].to_list()) == {TUE} and set(frame["layer"].to_list()) == {3}
    assert not list(ws.results_dir(TUE).glob(".tmp-*"))
    assert summary.discrepancies == int(frame["is_discrepancy"].sum()) + int(
        pl.read_parquet(ws.results_dir(TUE) / "layer2.parquet")["is_discrepancy"].sum())


def test_one_channel_run_keeps_other_channels_rows(tmp_path):
    ws = workspace(tmp_path)
    _day(ws)
    run_layers23(ws, TUE, internal=internal([]), positions={IBAN: ("EUR", Decimal("2200000.00"))})
    before = rows_of(ws.results_dir(TUE) / "layer3.parquet", channel="bank")
    assert {r["kind"] for r in before} == {"CASH_MISMATCH", "UNEXPECTED_CREDIT"}
    run_layers23(ws, TUE, "stripe", internal=internal([]))
    assert rows_of(ws.results_dir(TUE) / "layer3.parquet", channel="bank") == before


def test_workspace_settlement_toml_overrides_the_cycle(tmp_path):
    ws = workspace(tmp_path)
    _day(ws)
    # Built in, Stripe is T+2: Monday's money is due Wednesday, so on Tuesday nothing is judged.
    run_layers23(ws, TUE, internal=internal([]))
    assert rows_of(ws.results_dir(TUE) / "layer2.parquet", section="settlement", kind="SETTLED") == []
    (ws.rules_dir / "settlement.toml").write_text('[channels.stripe]\ncycle = "T+1"\n', encoding="utf-8")
    run_layers23(ws, TUE, internal=internal([]))
    [row] = rows_of(ws.results_dir(TUE) / "layer2.parquet", section="settlement", currency="EUR")
    # 600,000 - 1,800 + 403,000 - 1,200 - 5 (a fee line) = 999,995.00 owed, 1,000,000.00 paid.
    assert (row["kind"], row["diff"]) == ("SETTLEMENT_OVER", Decimal("5"))


def test_the_queue_reads_both_files_and_flags_only_discrepancies(tmp_path):
    ws = workspace(tmp_path)
    _day(ws)
    run_layers23(ws, TUE, internal=internal([]), positions={IBAN: ("EUR", Decimal("2200000.00"))})
    for n in (2, 3):
        path = ws.results_dir(TUE) / f"layer{n}.parquet"
        items, _ = read_generic(path, n)  # unique identities, money parsed exactly
        frame = pl.read_parquet(path)
        # good news (BILL_OK, SETTLED, CASH_OK...) is not an item; waiting kinds are PENDING items
        wanted = frame.filter(pl.col("is_discrepancy") | pl.col("kind").is_in(list(WAITING_KINDS)))
        assert sorted(i.kind for i in items) == sorted(wanted["kind"].to_list())
        assert all(i.pending == (i.kind in WAITING_KINDS) for i in items)
        ok = frame.filter(~pl.col("is_discrepancy"))["kind"].to_list()
        assert all(k in OK_KINDS | WAITING_KINDS for k in ok)
