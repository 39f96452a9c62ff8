"""Groups of the day as the report shows them: combined payments (1:N, the channel's `group_key`
rule) and batches (N:M, `our_group_key` / `their_group_key`).

Layer 1 writes one results row per channel line of a 1:N group, all naming the same `group_id`,
with our order's amount on the anchor line only; an N:M group's rows each carry one row of ours and
one line of the channel's (the longer side's extra members alone), every row of either side once.
Read line by line, an analyst sees 60.00 and 40.00 against a 100.00 order and cannot tell whether
the group adds up. This frame puts each group's rows together and follows them with one total row:
the sum of the channel's lines against the sum of ours, the difference (channel minus ours, as
everywhere in results) and how many rows each side has. Money stays the exact Decimal.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from recon.excel.words import t
from recon.schema import MONEY

GROUP_COLUMNS = ("group_id", "group_row", "channel", "account", "currency", "group_size",
                 "their_channel_txn_id", "their_amount", "our_txn_id", "our_amount", "diff", "outcome",
                 "our_count", "their_count")
_SCHEMA = {"group_id": pl.String(), "group_row": pl.String(), "channel": pl.String(), "account": pl.String(),
           "currency": pl.String(), "group_size": pl.Int32(), "their_channel_txn_id": pl.String(),
           "their_amount": MONEY, "our_txn_id": pl.String(), "our_amount": MONEY, "diff": MONEY,
           "outcome": pl.String(), "our_count": pl.Int32(), "their_count": pl.Int32()}


def _sum(values: list[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, Decimal(0)) if present else None


def group_rows(layer1: pl.DataFrame | None, language: str = "en") -> pl.DataFrame:
    """Each group's rows, then a total row (both sums, diff, each side's count); empty when none."""
    if layer1 is None or "group_id" not in layer1.columns:
        return pl.DataFrame(schema=_SCHEMA)
    lines = layer1.filter(pl.col("group_id").is_not_null() & (pl.col("group_size") > 1))
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for row in lines.iter_rows(named=True):  # a 1:N and an N:M group never share a pass
        groups.setdefault((row["channel"], row["group_id"], row["pass_name"] or ""), []).append(row)
    out: list[dict] = []
    for (channel, group_id, _), rows in sorted(groups.items()):
        rows.sort(key=lambda r: (r["their_channel_txn_id"] is None, r["their_channel_txn_id"] or "",
                                 r["their_source_line"] or 0, r["our_txn_id"] or ""))
        currency = next((r["our_currency"] or r["their_currency"] for r in rows
                         if r["our_currency"] or r["their_currency"]), None)
        account = next((r["account"] for r in rows if r["account"]), None)
        for r in rows:
            out.append({"group_id": group_id, "group_row": t("group.line", language), "channel": channel,
                        "account": r["account"], "currency": currency, "group_size": r["group_size"],
                        "their_channel_txn_id": r["their_channel_txn_id"], "their_amount": r["their_amount"],
                        "our_txn_id": r["our_txn_id"], "our_amount": r["our_amount"], "diff": None,
                        "outcome": r["outcome"], "our_count": None, "their_count": None})
        theirs, ours = _sum([r["their_amount"] for r in rows]), _sum([r["our_amount"] for r in rows])
        diff = theirs - ours if theirs is not None and ours is not None else None
        outcomes = sorted({r["outcome"] for r in rows})
        # a 1:N group's lines all name our one order; an N:M group's rows name one row of ours each
        ours_named = list(dict.fromkeys(r["our_txn_id"] for r in rows if r["our_txn_id"]))
        out.append({"group_id": group_id, "group_row": t("total", language), "channel": channel,
                    "account": account, "currency": currency, "group_size": len(rows),
                    "their_channel_txn_id": None, "their_amount": theirs,
                    "our_txn_id": ours_named[0] if len(ours_named) == 1 else None,
                    "our_amount": ours, "diff": diff, "outcome": ", ".join(outcomes),
                    "our_count": len(ours_named),
                    "their_count": sum(r["their_channel_txn_id"] is not None for r in rows)})
    return pl.DataFrame(out, schema=_SCHEMA) if out else pl.DataFrame(schema=_SCHEMA)
