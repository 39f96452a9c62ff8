"""The day's bill skips its sort only when the sort would change nothing (issue #24)."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.ingest import _in_order

KEYS = st.lists(st.tuples(st.sampled_from(["raw/a.csv", "raw/b.csv", "raw/a.csv.rev2", "raw/é.csv"]),
                          st.integers(1, 6)), max_size=8)


@settings(max_examples=300, deadline=None)
@given(KEYS)
def test_a_bill_called_in_order_is_its_own_sort(keys) -> None:
    bill = pl.DataFrame(keys, schema={"source_file": pl.String, "source_line": pl.Int64}, orient="row")
    ordered = bill.sort("source_file", "source_line")
    if _in_order(bill):
        assert bill.equals(ordered)
    unique = sorted(set(keys))
    assert _in_order(pl.DataFrame(unique, schema=bill.schema, orient="row"))  # what a parser emits
