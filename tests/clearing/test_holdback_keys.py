"""Clearing finds queue items by the queue's natural keys: its column-wise keys equal read_layer1's."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon.clearing.holdback import item_keys
from recon.matching.model import RESULT_COLUMNS
from recon.queue.sources import read_layer1

DAY = dt.date(2026, 11, 20)
IDS = st.sampled_from([None, "", "K1", "K2"])  # few values: shared keys (duplicates) are common
ROW = st.fixed_dictionaries({
    "outcome": st.sampled_from(["MATCHED", "AUTO_RESOLVED", "AMOUNT_MISMATCH", "DUPLICATE", "LOCAL_ONLY", "PENDING"]),
    "account": st.sampled_from([None, "", "A1"]),
    "carried_from": st.sampled_from([None, DAY - dt.timedelta(days=1)]),
    "match_key": IDS, "our_txn_id": IDS, "their_channel_txn_id": IDS,
    "our_merchant_txn_id": IDS, "their_merchant_txn_id": IDS,
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, max_size=25))
def test_item_keys_equal_the_queue_keys(tmp_path, rows):
    full = pl.DataFrame([{c: None for c in RESULT_COLUMNS} | r | {"business_date": DAY, "channel": "wx"} for r in rows],
                        schema=RESULT_COLUMNS)  # type: ignore[arg-type]
    path = tmp_path / "layer1.parquet"
    full.write_parquet(path)
    found, settled = read_layer1(path)
    found_iter, settled_iter = iter(found), iter(settled)
    expected = []
    for outcome in full["outcome"]:
        if outcome in ("MATCHED", "AUTO_RESOLVED"):
            s = next(settled_iter)
            expected.append((None, s.channel, s.account, s.business_date, s.key))
        else:
            d = next(found_iter)
            expected.append((d.kind, d.channel, d.account, d.business_date, d.key))
    assert list(item_keys(full).iter_rows()) == expected
