"""The report keys only a day's item rows column-wise (`queue_view._layer1_identities`); every row
must still name the identity the queue's per-row reader (`read_layer1`, the oracle) gives it, settled
rows none."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from layers import LAYER1_SCHEMA

from recon.queue.sources import SETTLED_OUTCOMES, read_layer1
from recon.report.queue_view import _layer1_identities

SCHEMA = {**LAYER1_SCHEMA, "group_id": pl.String(), "group_size": pl.Int64()}
D1 = dt.date(2026, 3, 10)
ids = lambda p: st.sampled_from([None, "", f"{p}1", f"{p}2", f"{p}3"])  # noqa: E731
money = st.one_of(st.none(), st.integers(-500, 5000).map(lambda n: Decimal(n).scaleb(-2)))
row = st.fixed_dictionaries({
    "business_date": st.just(D1), "channel": st.sampled_from(["wechat", "alipay"]),
    "account": st.sampled_from([None, "", "1900000109"]),
    "outcome": st.sampled_from(["MATCHED", "AUTO_RESOLVED", "AMOUNT_MISMATCH", "DUPLICATE", "FEE_MISMATCH",
                                "PENDING", "LOCAL_ONLY", "CHANNEL_ONLY"]),
    "match_key": ids("K"), "carried_from": st.sampled_from([None, dt.date(2026, 3, 9)]), "our_txn_id": ids("T"),
    "our_merchant_txn_id": ids("S"), "their_channel_txn_id": ids("C"), "their_merchant_txn_id": ids("S"),
    "our_amount": money, "their_amount": money, "diff_amount": money, "diff_fee": money,
    "group_id": st.sampled_from([None, "G1", "G2"]), "group_size": st.sampled_from([None, 1, 2, 3]),
})


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(row, max_size=30))
def test_item_rows_get_the_queue_readers_identities(rows):
    frame = pl.DataFrame([{name: r.get(name) for name in SCHEMA} for r in rows], schema=SCHEMA, orient="row")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layer1.parquet"
        frame.write_parquet(path)
        found, _ = read_layer1(path)
    records = iter(found)
    expected = [(None,) * 4 if r["outcome"] in SETTLED_OUTCOMES else next(records).identity[1:] for r in rows]
    assert _layer1_identities(frame).rows() == expected
