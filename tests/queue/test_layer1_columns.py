"""Layer-1 queue identities computed column-wise (`sources.layer1_frame`, `settled_layer1`) equal the
per-row definitions: the discrepancy records `read_layer1` keys row by row (duplicates `#n`, a
group's lines under its anchor's key) and the settled records as they were built one row at a time
(the oracle below, kept only here). The queue sync looks up only the settled rows known by an open
item's identity (`sync._layer1_hits`, a filtered scan): it finds what indexing every settled record
finds (`sync._settled_index`, what the sync did before), the last row in the file winning."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from layers import LAYER1_SCHEMA

from recon.queue.sources import SETTLED_OUTCOMES, Settled, layer1_frame, read_layer1, settled_layer1
from recon.queue.sync import _layer1_hits, _settled_index

SCHEMA = {**LAYER1_SCHEMA, "group_id": pl.String(), "group_size": pl.Int64()}
D1 = dt.date(2026, 3, 10)
_SETTLED_KEYS = ("match_key", "our_merchant_txn_id", "our_channel_txn_id", "our_txn_id",
                 "our_merchant_refund_id", "their_merchant_txn_id", "their_channel_txn_id",
                 "their_merchant_refund_id", "their_channel_refund_id")


def oracle_settled(frame: pl.DataFrame) -> list[Settled]:
    out = []
    for row in frame.iter_rows(named=True):
        if row["outcome"] not in SETTLED_OUTCOMES:
            continue
        key = (row.get("match_key") or row.get("our_txn_id") or row.get("their_channel_txn_id")
               or row.get("our_merchant_txn_id") or row.get("their_merchant_txn_id") or "?")
        keys = tuple(dict.fromkeys(k for k in (key, *(row.get(c) for c in _SETTLED_KEYS)) if k))
        out.append(Settled(1, row["channel"], row.get("account") or "", row.get("carried_from") or row["business_date"],
                           keys, row["outcome"], row.get("reason") or ""))
    return out


ids = lambda p: st.sampled_from([None, "", f"{p}1", f"{p}2", f"{p}3"])  # noqa: E731
money = st.one_of(st.none(), st.integers(-500, 5000).map(lambda n: Decimal(n).scaleb(-2)))
row = st.fixed_dictionaries({
    "business_date": st.just(D1), "channel": st.sampled_from(["wechat", "alipay"]),
    "account": st.sampled_from([None, "", "1900000109"]),
    "outcome": st.sampled_from(["MATCHED", "AUTO_RESOLVED", "AMOUNT_MISMATCH", "DUPLICATE", "FEE_MISMATCH",
                                "PENDING", "LOCAL_ONLY"]),
    "match_key": ids("K"), "reason": st.sampled_from([None, "", "why"]),
    "carried_from": st.sampled_from([None, dt.date(2026, 3, 9)]), "our_txn_id": ids("T"),
    "our_merchant_txn_id": ids("S"), "our_channel_txn_id": ids("C"), "their_channel_txn_id": ids("C"),
    "their_merchant_txn_id": ids("S"), "their_channel_refund_id": ids("R"),
    "our_amount": money, "their_amount": money, "diff_amount": money, "diff_fee": money,
    "our_currency": st.sampled_from([None, "CNY"]),
    "group_id": st.sampled_from([None, "G1", "G2"]), "group_size": st.sampled_from([None, 1, 2, 3]),
})


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(row, max_size=25))
def test_column_wise_identities_equal_the_per_row_ones(rows):
    frame = pl.DataFrame([{name: r.get(name) for name in SCHEMA} for r in rows], schema=SCHEMA, orient="row")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layer1.parquet"
        frame.write_parquet(path)
        found, settled = read_layer1(path)
    keyed = layer1_frame(frame).filter(~pl.col("q_settled"))
    assert keyed.select("channel", "q_account", "q_period", "q_key", "q_member").rows() == [
        (d.channel, d.account, d.business_date, d.key, d.member) for d in found]
    assert settled == oracle_settled(frame)


identity = st.tuples(st.just(1), st.sampled_from(["wechat", "alipay"]), st.sampled_from(["", "1900000109"]),
                     st.sampled_from([D1, dt.date(2026, 3, 9)]),
                     st.sampled_from(["?", *(f"{p}{n}" for p in "KTSCR" for n in (1, 2, 3))]))


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(row, max_size=25), others=st.sets(identity, max_size=6), data=st.data())
def test_open_items_find_the_rows_that_settle_them_as_the_whole_index_did(rows, others, data):
    frame = pl.DataFrame([{name: r.get(name) for name in SCHEMA} for r in rows], schema=SCHEMA, orient="row")
    whole = _settled_index(oracle_settled(frame))
    # open items: some known by a settled row's id (several rows may share it: the last one wins), some not
    wanted = others | data.draw(st.sets(st.sampled_from(sorted(whole))) if whole else st.just(set()))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layer1.parquet"
        frame.write_parquet(path)
        hits = _layer1_hits(settled_layer1(path), wanted)
    assert {k: (s.outcome, s.reason) for k, s in hits.items()} == {
        k: (whole[k].outcome, whole[k].reason) for k in wanted if k in whole}
