"""Clearing (清分/清算): what each merchant is owed for a reconciled day, written out and booked.

`clear_day(ws, date)` runs after a day is matched:
1. `holdback.classify_frame` picks the day's transactions from `results/<D>/layer1.parquet` and the
   discrepancy queue: cleared, held back (open discrepancy) or released (resolved since);
2. `compute.compute_frame` applies the fee rules (`fee_rules`, `fees`: percentage, fixed, min/max,
   tiered by month-to-date volume, refunds returning the fee or not, named rounding per
   transaction or per total; one DuckDB statement, `fees_sql`) and the split rules (`splits`; one
   statement, `splits_sql`), and checks
   gross = net_payable + fees + splits + held on every line; a batch of whole merchants at a time
   (`compute.merchant_batches`: no merchant's figures depend on another's), after the day's
   refusals were checked as a whole (`compute.check_day`), so memory is bounded by the batch;
3. `posting.post_day` books one CLEAR entry per merchant, currency and channel in the payment
   core's ledger, once per deterministic key; a changed day is corrected by reversal + new entry;
4. `output.DayFiles` writes `clearing/<D>/settlements.csv` and `merchant-<id>.csv` atomically: each
   batch's detail files wait beside their targets while the next batches are computed.
The ledger is posted before the files are put in place: if writing fails, a re-run posts nothing
new and writes the files; and nothing is ever posted twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from recon.clearing.compute import Booking, Settlement, bookings, check_day, compute_frame, merchant_batches
from recon.clearing.fee_rules import ClearingRules, clearing_of
from recon.clearing.holdback import State, classify_frame
from recon.clearing.output import DayFiles, month_volume, text
from recon.clearing.posting import PostingReport, post_day
from recon.core.accounting import accounting_of
from recon.store.engine import open_store
from recon.workspace import Workspace

__all__ = ["ClearingSummary", "clear_day"]

BATCH_ROWS = 200_000  # transactions computed at once (whole merchants): bounds the stage's memory, not its result


@dataclass(frozen=True, slots=True)
class ClearingSummary:
    date: dt.date
    settlements: tuple[Settlement, ...]
    cleared: int
    released: int
    held: int
    posted: tuple[str, ...]
    reversed: tuple[str, ...]
    unchanged: tuple[str, ...]
    files: tuple[Path, ...]
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "date": self.date.isoformat(), "cleared": self.cleared, "released": self.released, "held": self.held,
            "settlements": [{"merchant_id": s.merchant_id, "currency": s.currency,
                             **{k: text(getattr(s, k), s.currency) for k in
                                ("gross", "refunds", "fees", "splits", "held", "net_payable")}}
                            for s in self.settlements],
            "posted": list(self.posted), "reversed": list(self.reversed), "unchanged": list(self.unchanged),
            "files": [str(p) for p in self.files], "notes": list(self.notes),
        }


def clear_day(ws: Workspace, date: dt.date, *, now: dt.datetime | None = None) -> ClearingSummary:
    rules = clearing_of(ws)
    accounting = accounting_of(ws)
    engine = open_store(ws.store_url())
    zone = ZoneInfo(ws.settings.defaults.timezone)
    presented, notes = classify_frame(ws.results_dir, engine, zone, date)
    volume = month_volume(ws.clearing_dir, date)
    check_day(presented, rules)
    with DayFiles(ws.clearing_dir(date), date) as files:
        books = [b for batch in merchant_batches(presented, BATCH_ROWS)
                 for b in _clear_batch(date, batch, rules, volume, files)]
        report: PostingReport = post_day(engine, date, tuple(books), accounting, rules, now=now)
    states = presented["state"].value_counts()
    count = lambda s: sum(n for state, n in states.iter_rows() if state == s)  # noqa: E731
    return ClearingSummary(date, tuple(files.settlements), count(State.CLEARED), count(State.RELEASED),
                           count(State.HELD), tuple(report.posted), tuple(report.reversed), tuple(report.unchanged),
                           tuple(files.paths), tuple(notes))


def _clear_batch(date: dt.date, batch: pl.DataFrame, rules: ClearingRules, volume: dict[tuple[str, str], Decimal],
                 files: DayFiles) -> tuple[Booking, ...]:
    """One batch computed and its files staged; its frames are freed before the next batch."""
    day = compute_frame(date, batch, rules, volume)
    files.add(day)
    return bookings(day)
