"""Golden files humans can diff: a bill rendered as one aligned text line per row.

A golden file is compared, never rewritten, unless RECON_UPDATE_GOLDEN=1 is set explicitly; then the
test still fails once so the new file gets reviewed in the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

GOLDEN_COLUMNS = ("record_type", "channel_txn_id", "merchant_txn_id", "channel_refund_id", "merchant_refund_id",
                  "trade_time", "currency", "amount", "fee", "net_amount", "status", "source_line")


def render(bill: pl.DataFrame, columns: tuple[str, ...] = GOLDEN_COLUMNS) -> str:
    lines = [" | ".join(columns)]
    for row in bill.select(columns).iter_rows():
        lines.append(" | ".join("" if v is None else str(v) for v in row))
    return "\n".join(lines) + "\n"


def assert_golden(text: str, path: Path) -> None:
    if os.environ.get("RECON_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        raise AssertionError(f"golden file {path} rewritten; review the diff and re-run without RECON_UPDATE_GOLDEN")
    assert path.exists(), f"missing golden file {path} (create it with RECON_UPDATE_GOLDEN=1 and review it)"
    assert text == path.read_text(encoding="utf-8")
