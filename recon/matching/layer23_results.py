"""The rows layers 2 and 3 write: one schema for `results/<D>/layer2.parquet` and `layer3.parquet`.

The queue reads these files generically, so every row carries the same columns whatever section it
comes from: what was compared (`section`, `key`), our figure, theirs, the difference (their - our,
as in layer 1) and a sentence with both figures. Non-discrepancies (BILL_OK, SETTLED, CASH_OK,
PAYOUT_RECEIVED, and SETTLEMENT_NOT_CHECKED for a channel nothing reports payouts of) and waiting states (SETTLEMENT_PENDING, PAYOUT_IN_TRANSIT) are written too so the
report can show them; `is_discrepancy` says which rows a person must look at.

Rows are sorted by every column in a fixed order, a total order, so a re-run writes the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

from recon.errors import InvariantBroken
from recon.files import atomic_path
from recon.money import fmt
from recon.schema import MONEY

# Kinds that are not discrepancies: the queue must not open items for them.
OK_KINDS = frozenset({"BILL_OK", "SETTLED", "CASH_OK", "PAYOUT_RECEIVED", "SETTLEMENT_NOT_CHECKED"})
WAITING_KINDS = frozenset({"SETTLEMENT_PENDING", "PAYOUT_IN_TRANSIT"})

RESULT_COLUMNS: dict[str, pl.DataType] = {
    "business_date": pl.Date(),
    "layer": pl.Int64(),
    "section": pl.String(),  # bill | settlement | cash | payout
    "channel": pl.String(),
    "account": pl.String(),
    "currency": pl.String(),
    "kind": pl.String(),
    "key": pl.String(),
    "our_amount": MONEY,
    "their_amount": MONEY,
    "diff": MONEY,
    "is_discrepancy": pl.Boolean(),
    "reason": pl.String(),
    "our_count": pl.Int64(),
    "their_count": pl.Int64(),
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "due_date": pl.Date(),
    "payout_ids": pl.String(),  # payouts claimed / matched, comma-separated, sorted
    "their_ref": pl.String(),  # the bank line (or statement) on the other side
    "their_date": pl.Date(),
}
SORT_ORDER = ("channel", "account", "currency", "section", "kind", "key", "period_start",
              "period_end", "due_date", "payout_ids", "their_ref", "their_date")


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One comparison's outcome; amounts are exact Decimals, `diff` is their - our."""

    business_date: dt.date
    layer: int
    section: str
    channel: str
    account: str
    currency: str
    kind: str
    key: str
    our_amount: Decimal | None
    their_amount: Decimal | None
    reason: str
    our_count: int | None = None
    their_count: int | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    due_date: dt.date | None = None
    payout_ids: str | None = None
    their_ref: str | None = None
    their_date: dt.date | None = None

    def record(self) -> dict:
        row = asdict(self)
        ours, theirs = self.our_amount, self.their_amount
        row["diff"] = None if ours is None or theirs is None else theirs - ours
        row["is_discrepancy"] = self.kind not in OK_KINDS | WAITING_KINDS
        return row


def money_text(amount: Decimal | None, currency: str) -> str:
    return "nothing" if amount is None else fmt(amount, currency)


# The queue's natural key of an item (recon/queue/sources.py): two rows sharing it would be one item.
NATURAL_KEY = ("layer", "kind", "channel", "account", "business_date", "key")


def to_frame(rows: list[ResultRow]) -> pl.DataFrame:
    seen = Counter(tuple(getattr(r, c) for c in NATURAL_KEY) for r in rows)
    twice = sorted((k for k, n in seen.items() if n > 1), key=str)
    if twice:
        raise InvariantBroken(f"layer 2/3 rows share a natural key: {twice[0]}")
    frame = pl.DataFrame([r.record() for r in rows], schema=RESULT_COLUMNS, orient="row") if rows \
        else pl.DataFrame(schema=RESULT_COLUMNS)
    return sort_rows(frame.select(list(RESULT_COLUMNS)))


def sort_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """A total order: the meaningful columns first, then every other column as a tie-break."""
    keys = [*SORT_ORDER, *(c for c in RESULT_COLUMNS if c not in SORT_ORDER)]
    return frame.sort(keys, nulls_last=True)


def write_results(frame: pl.DataFrame, target: Path) -> Path:
    """Replace `target` whole and atomically; a crash leaves the previous file intact."""
    with atomic_path(target) as tmp:
        # No statistics: the file depends on the rows only (readers never prune these small files).
        frame.write_parquet(tmp, statistics=False, compression="zstd")
    return target
