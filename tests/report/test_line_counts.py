"""The Summary's layer-1 figures come from per-group counts of the file (data._count_lines), never
from the whole day's rows: they must equal what the rows themselves give (hypothesis, the previous
row-wise definition as the oracle)."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from layers import DAY, LAYER1_SCHEMA, row
from recon.queue.sources import SETTLED_OUTCOMES
from recon.report.data import DayData, _read_layer1

OUTCOMES = ["MATCHED", "AUTO_RESOLVED", "AMOUNT_MISMATCH", "LOCAL_ONLY", "CHANNEL_ONLY", "PENDING", "DUPLICATE",
            "STATUS_MISMATCH"]
money = st.none() | st.decimals(min_value=Decimal("-99999.99"), max_value=Decimal("99999.99"), places=2)
line = st.fixed_dictionaries({
    "outcome": st.sampled_from(OUTCOMES), "channel": st.sampled_from(["wechat", "alipay"]),
    "account": st.sampled_from(["1900000109", "2088", None]), "our": money, "their": money,
    "our_currency": st.sampled_from(["CNY", "USD"]), "their_currency": st.sampled_from(["CNY", "USD", None])})


def _per_channel_of_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """The previous definition: the Summary's per-channel block grouped over every row."""
    settled = pl.col("outcome").is_in(list(SETTLED_OUTCOMES))
    stake = pl.coalesce("diff_amount", "their_amount", "our_amount").abs()
    return (rows.with_columns(currency=pl.coalesce("our_currency", "their_currency"))
            .group_by("channel", "account", "currency")
            .agg(lines=pl.len(), matched=settled.sum(), discrepancies=(~settled & (pl.col("outcome") != "PENDING")).sum(),
                 pending=(pl.col("outcome") == "PENDING").sum(), at_stake=stake.filter(~settled).sum())
            .sort("channel", "account", "currency"))


def _kinds_of_rows(rows: pl.DataFrame) -> dict[str, int]:
    return dict(rows.group_by("outcome").len().iter_rows())


@settings(max_examples=60, deadline=None)
@given(st.lists(line, min_size=1, max_size=30))
def test_counted_figures_equal_the_rows_figures(lines):
    rows = []
    for n, ln in enumerate(lines):
        r = row(ln["outcome"], f"k{n}", our=None if ln["our"] is None else str(ln["our"]),
                their=None if ln["their"] is None else str(ln["their"]), channel=ln["channel"], account=ln["account"])
        if ln["our"] is not None:
            r["our_currency"] = ln["our_currency"]
        if ln["their"] is not None:
            r["their_currency"] = ln["their_currency"]
        rows.append(r)
    frame = pl.DataFrame(rows, schema=LAYER1_SCHEMA, orient="row")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layer1.parquet"
        frame.write_parquet(path)
        shown, counted = _read_layer1(path)
    data = DayData(date=DAY, layer1=shown, lines=counted)
    expected = _per_channel_of_rows(frame)
    got = data.per_channel()
    assert got.schema == expected.schema
    assert got.equals(expected)
    kinds = {kind: per_layer[1] for group in ("discrepancy", "waiting", "ok")
             for kind, per_layer in data.kinds_by_layer(group)}
    assert kinds == _kinds_of_rows(frame)
    assert counted.height <= frame.height
