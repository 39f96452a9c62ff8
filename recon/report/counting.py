"""A results file reduced to a few rows per group, never held whole.

A day of results can be 10M rows of some 45 columns; what a report shows of most of them is only
how many there are and how much money they put at stake, per channel, account, currency and kind.
Both reports (the day's Summary, `data._count_lines`; the period's facts, `period_data.layer_facts`)
reduce a file here: one grouped query over a lazy scan, reading only the columns the groups and
sums use, run on polars' streaming engine (the file passes through in batches, each folded into
the groups), so memory holds the groups, not the day. Sums over polars' Decimal are exact: summing
the groups again gives the figures the rows themselves give.
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl


def count_groups(lazy: pl.LazyFrame, inputs: Collection[str], keys: dict[str, pl.Expr],
                 sums: dict[str, pl.Expr]) -> pl.DataFrame:
    """One row per group of `keys` (name -> expression): the keys, then each of `sums` (name -> an
    aggregation), computed from the columns of `inputs` that `lazy` has (a results file's columns
    differ per layer; the expressions must name only those)."""
    present = [c for c in lazy.collect_schema().names() if c in inputs]
    return lazy.select(present).group_by(**keys).agg(**sums).collect(engine="streaming")
