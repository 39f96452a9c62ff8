"""Cross-day pending: rows near midnight that the other side books on the next day.

Most real discrepancies are cross-day (DOMAIN.md): a payment at 23:59:58 on our clock is in the
channel's next bill. Layer 1 marks such a row PENDING instead of throwing it at a person; the next
day's match reads it back from the earlier `layer1.parquet` and gives it another chance. Found, it
closes as AUTO_RESOLVED; still missing after `pending_days`, it becomes LOCAL_ONLY / CHANNEL_ONLY.

A row keeps its identity (side, source file, source line) and its first pending day
(`carried_from`) however many days it waits. Reading several earlier days tolerates a day whose
results are missing; for each row the latest day that mentions it decides whether it is still
pending, so a row resolved yesterday is never carried again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import polars as pl

from recon.internal import INTERNAL_COLUMNS
from recon.schema import BILL_COLUMNS

OURS = {  # internal column <- result column
    "txn_id": "our_txn_id", "merchant_id": "our_merchant_id", "merchant_order_no": "our_merchant_order_no",
    "merchant_txn_id": "our_merchant_txn_id", "channel_txn_id": "our_channel_txn_id",
    "record_type": "our_record_type", "merchant_refund_id": "our_merchant_refund_id",
    "original_txn_id": "our_original_txn_id", "trade_time": "our_trade_time", "currency": "our_currency",
    "amount": "our_amount", "fee": "our_fee", "status": "our_status",
    "source_file": "our_source_file", "source_line": "our_source_line",
}
THEIRS = {  # bill column <- result column
    "account": "their_account", "channel_txn_id": "their_channel_txn_id",
    "merchant_txn_id": "their_merchant_txn_id", "channel_refund_id": "their_channel_refund_id",
    "merchant_refund_id": "their_merchant_refund_id", "record_type": "their_record_type",
    "trade_time": "their_trade_time", "currency": "their_currency", "amount": "their_amount",
    "fee": "their_fee", "status": "their_status", "source_file": "their_source_file",
    "source_line": "their_source_line", "counterparty": "their_counterparty",
}


def earlier_results(results_path: Callable[[dt.date], Path], date: dt.date,
                    pending_days: int) -> list[tuple[dt.date, pl.DataFrame]]:
    """(day, rows) for the days a row pending now could have started on, newest first.

    Only rows that can matter are read: PENDING ones, and those a carried row ended in (they have
    `carried_from`); a day of ten million matched rows stays on disk.
    """
    found = []
    for back in range(1, pending_days + 1):
        day = date - dt.timedelta(days=back)
        path = results_path(day)
        if path.exists():
            rows = pl.scan_parquet(path).filter(
                (pl.col("outcome") == "PENDING") | pl.col("carried_from").is_not_null()).collect()
            found.append((day, rows))
    return found


def carried(history: list[tuple[dt.date, pl.DataFrame]], channel: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows still pending for `channel`: (ours in internal columns, theirs in bill columns).

    `history` is newest first. Each frame gains `carried_from`, the day the row first went pending.
    """
    seen: set[tuple] = set()
    ours: list[dict] = []
    theirs: list[dict] = []
    for day, frame in history:
        rows = frame.filter(pl.col("channel") == channel)
        for row in rows.iter_rows(named=True):
            for side, out in (("our", ours), ("their", theirs)):
                file, line = row[f"{side}_source_file"], row[f"{side}_source_line"]
                if file is None:
                    continue
                identity = (side, file, line)
                if identity in seen:  # a later day already decided this row
                    continue
                seen.add(identity)
                if row["outcome"] == "PENDING":
                    mapping = OURS if side == "our" else THEIRS
                    rec = {col: row.get(src) for col, src in mapping.items()}
                    rec["carried_from"] = row["carried_from"] or day
                    out.append(rec)
    return _frame(ours, {**INTERNAL_COLUMNS}), _frame(theirs, _bill_columns())


def _bill_columns() -> dict[str, pl.DataType]:
    wanted = {c: t for c, t in BILL_COLUMNS.items() if c in THEIRS}
    return {**wanted, "counterparty": pl.String()}


def _frame(rows: list[dict], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    full = {**{c: t for c, t in schema.items() if c in OURS or c in THEIRS}, "carried_from": pl.Date()}
    if not rows:
        return pl.DataFrame(schema=full)
    return pl.DataFrame([{c: r.get(c) for c in full} for r in rows], schema=full, orient="row")
