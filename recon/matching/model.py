"""What layer 1 produces: the outcome of every row and the columns of `results/<D>/layer1.parquet`.

The column list is a cross-module contract (CONTRIBUTING.md): the queue, the report and clearing
read it while this module is being written, so it is declared once here, with its dtypes, and the
writer casts to it. Columns after `diff_fee` are additions the contract allows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import polars as pl

from recon.schema import MONEY, UTC_TIME


class Outcome(StrEnum):
    """Exactly one per row of each side (DOMAIN.md, "Discrepancy kinds")."""

    MATCHED = "MATCHED"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    FEE_MISMATCH = "FEE_MISMATCH"
    STATUS_MISMATCH = "STATUS_MISMATCH"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    FX_MISMATCH = "FX_MISMATCH"  # two currencies, compared through a rate: beyond the tolerance
    CHANNEL_ONLY = "CHANNEL_ONLY"
    LOCAL_ONLY = "LOCAL_ONLY"
    DUPLICATE = "DUPLICATE"
    PENDING = "PENDING"
    SUGGESTED = "SUGGESTED"
    AUTO_RESOLVED = "AUTO_RESOLVED"


# Outcomes that pair a row of ours with a row of theirs.
PAIRED = frozenset({
    Outcome.MATCHED, Outcome.AMOUNT_MISMATCH, Outcome.FEE_MISMATCH, Outcome.STATUS_MISMATCH,
    Outcome.CURRENCY_MISMATCH, Outcome.FX_MISMATCH, Outcome.SUGGESTED, Outcome.AUTO_RESOLVED,
})

RESULT_COLUMNS: dict[str, pl.DataType] = {
    "business_date": pl.Date(),
    "channel": pl.String(),
    "account": pl.String(),
    "outcome": pl.String(),
    "pass_name": pl.String(),
    "match_key": pl.String(),
    "reason": pl.String(),
    "confidence": pl.Float64(),
    "carried_from": pl.Date(),
    "our_txn_id": pl.String(),
    "our_merchant_id": pl.String(),
    "our_merchant_txn_id": pl.String(),
    "our_channel_txn_id": pl.String(),
    "our_merchant_refund_id": pl.String(),
    "our_record_type": pl.String(),
    "our_currency": pl.String(),
    "our_amount": MONEY,
    "our_fee": MONEY,
    "our_status": pl.String(),
    "our_trade_time": UTC_TIME,
    "our_source_file": pl.String(),
    "our_source_line": pl.Int64(),
    "their_channel_txn_id": pl.String(),
    "their_merchant_txn_id": pl.String(),
    "their_channel_refund_id": pl.String(),
    "their_merchant_refund_id": pl.String(),
    "their_record_type": pl.String(),
    "their_currency": pl.String(),
    "their_amount": MONEY,
    "their_fee": MONEY,
    "their_status": pl.String(),
    "their_trade_time": UTC_TIME,
    "their_source_file": pl.String(),
    "their_source_line": pl.Int64(),
    "diff_amount": MONEY,
    "diff_fee": MONEY,
    # --- additions -------------------------------------------------------------------------
    # 1:N groups: every line of the group names the same `group_id`; our money appears on the
    # anchor line only (`group_size` > 1 on all of them), so sums over the file never count our
    # order twice. 1 for ordinary pairs and single rows.
    "group_id": pl.String(),
    "group_size": pl.Int32(),
    # The other side's row the near-miss search found closest, for unmatched rows.
    "closest": pl.String(),
    # Needed to carry a pending row into the next day and to explain it there.
    "our_merchant_order_no": pl.String(),
    "our_original_txn_id": pl.String(),
    "their_account": pl.String(),
    "their_counterparty": pl.String(),
    # Which side of the row came from an earlier day (ours, theirs, both); null for today's rows.
    # A pair can be carried on one side only: `carried_from` alone does not say which.
    "carried_side": pl.String(),
}

# The contract's order plus tie-breakers, so two runs write identical bytes (FAULTS.md E4).
SORT_ORDER = ("channel", "outcome", "match_key", "our_txn_id", "their_channel_txn_id",
              "their_source_line", "our_source_file", "our_source_line", "their_source_file")


def empty_results() -> pl.DataFrame:
    return pl.DataFrame(schema=RESULT_COLUMNS)


@dataclass(frozen=True, slots=True)
class ChannelSummary:
    channel: str
    our_rows: int
    their_rows: int
    outcomes: tuple[tuple[str, int], ...]  # (outcome, result rows), sorted by outcome


@dataclass(frozen=True, slots=True)
class Layer1Summary:
    """What `match_day` did: per-channel counts, where it wrote, and whether it only looked."""

    business_date: dt.date
    path: Path | None  # None on a dry run
    channels: tuple[ChannelSummary, ...]
    dry_run: bool = False
    changes: tuple = field(default=())  # diff.Change rows on a dry run
    counts: tuple = field(default=())  # diff.OutcomeCount rows on a dry run

    def totals(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for ch in self.channels:
            total.update(dict(ch.outcomes))
        return dict(sorted(total.items()))

    def as_dict(self) -> dict:
        return {
            "business_date": self.business_date.isoformat(),
            "path": str(self.path) if self.path else None,
            "dry_run": self.dry_run,
            "channels": [
                {"channel": c.channel, "our_rows": c.our_rows, "their_rows": c.their_rows,
                 "outcomes": dict(c.outcomes)} for c in self.channels
            ],
            "totals": self.totals(),
            **({"changes": [c.as_dict() for c in self.changes],
                "counts": [c.as_dict() for c in self.counts]} if self.dry_run else {}),
        }
