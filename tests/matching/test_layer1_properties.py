"""Invariants of layer 1 over generated days (FAULTS.md E4, E8): hypothesis draws the day and the faults."""

from __future__ import annotations

import random
from collections import Counter

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon.matching.layer1 import match_frames
from recon.matching.model import PAIRED
from recon.config.ruleset import MatchRules
from tests.matching.factory import DAY, KINDS, clean_day, frames, inject, per_input_row

RULES = MatchRules()
FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _match(bill: pl.DataFrame, internal: pl.DataFrame, rules: MatchRules = RULES) -> pl.DataFrame:
    return match_frames(bill, internal, rules, DAY, channel="wx", zone="Asia/Shanghai")


faults = st.dictionaries(st.sampled_from(sorted(KINDS)), st.integers(1, 3), max_size=4)


@FAST
@given(n=st.integers(0, 40), seed=st.integers(0, 10_000), injected=faults)
def test_every_input_row_lands_in_exactly_one_outcome(n, seed, injected):
    ours, theirs = clean_day(n, seed)
    payments = sum(r["record_type"] == "PAYMENT" for r in theirs)
    for i, (kind, k) in enumerate(sorted(injected.items())):
        if payments >= 3:
            inject(ours, theirs, kind, k, seed + i)
    bill, internal = frames(ours, theirs)
    results = _match(bill, internal)
    by_ours, by_theirs = per_input_row(results)
    assert sorted(by_ours) == sorted(zip(internal["source_file"], internal["source_line"]))
    assert sorted(by_theirs) == sorted(zip(bill["source_file"], bill["source_line"]))
    assert all(len(outcomes) == 1 for outcomes in (*by_ours.values(), *by_theirs.values()))
    # counts add up on both sides: paired rows are shared, the rest belong to one side
    paired = results.filter(pl.col("outcome").is_in(list(PAIRED)))
    assert paired["their_source_line"].n_unique() == paired.height  # no channel line used twice
    assert paired.filter(pl.col("group_size") == 1)["our_source_line"].n_unique() == \
        paired.filter(pl.col("group_size") == 1).height  # no row of ours used twice
    singles_o = results.filter(pl.col("their_source_file").is_null()).height
    singles_t = results.filter(pl.col("our_source_file").is_null()).height
    assert paired["our_source_line"].n_unique() + singles_o == internal.height
    assert paired.height + singles_t == bill.height


@FAST
@given(n=st.integers(30, 60), seed=st.integers(0, 10_000), kind=st.sampled_from(sorted(KINDS)),
       k=st.integers(1, 5))
def test_injecting_k_faults_of_a_kind_finds_exactly_those_k(n, seed, kind, k):
    ours, theirs = clean_day(n, seed)
    picked = inject(ours, theirs, kind, k, seed)
    bill, internal = frames(ours, theirs)
    results = _match(bill, internal)
    counts = Counter(results["outcome"].to_list())
    assert counts[KINDS[kind]] == k
    assert set(counts) == {"MATCHED", KINDS[kind]}
    found = results.filter(pl.col("outcome") == KINDS[kind])
    side = "our_txn_id" if kind in ("drop_theirs", "status", "amount", "fee", "currency") else "their_channel_txn_id"
    expected = {(ours if side == "our_txn_id" else theirs)[i]["txn_id" if side == "our_txn_id" else "channel_txn_id"]
                for i in picked}
    assert set(found[side].to_list()) == expected
    assert found["reason"].null_count() == 0


@FAST
@given(n=st.integers(0, 40), seed=st.integers(0, 10_000), injected=faults)
def test_shuffled_input_gives_identical_output(n, seed, injected):
    ours, theirs = clean_day(n, seed)
    if n >= 36:
        for i, (kind, k) in enumerate(sorted(injected.items())):
            inject(ours, theirs, kind, k, seed + i)
    bill, internal = frames(ours, theirs)
    first = _match(bill, internal)
    rng = random.Random(seed)
    shuffled = _match(bill.sample(fraction=1.0, shuffle=True, seed=rng.randint(0, 99)),
                      internal.sample(fraction=1.0, shuffle=True, seed=rng.randint(0, 99)))
    assert first.equals(shuffled)


def _swap(bill: pl.DataFrame, internal: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The same rows with the sides' roles exchanged (fields both sides share)."""
    as_ours = bill.select(
        pl.col("channel_txn_id").alias("txn_id"), pl.lit("MER1").alias("merchant_id"),
        pl.lit(None, pl.String).alias("merchant_order_no"), "channel", "merchant_txn_id", "channel_txn_id",
        "record_type", "merchant_refund_id", pl.lit(None, pl.String).alias("original_txn_id"), "trade_time",
        "currency", "amount", "fee", "status", "source_file", "source_line")
    as_theirs = internal.select(
        "channel", pl.lit("1900000109").alias("account"), pl.lit(DAY).alias("bill_date"), "record_type",
        "channel_txn_id", "merchant_txn_id", pl.lit(None, pl.String).alias("channel_refund_id"),
        "merchant_refund_id", "trade_time", "currency", "amount", "fee", (pl.col("amount") - pl.col("fee")).alias("net_amount"),
        "status", "source_file", "source_line")
    return as_theirs, as_ours


@FAST
@given(n=st.integers(10, 40), seed=st.integers(0, 10_000), drop_o=st.integers(0, 3), drop_t=st.integers(0, 3))
def test_swapping_the_sides_swaps_local_only_and_channel_only(n, seed, drop_o, drop_t):
    ours, theirs = clean_day(n, seed, refunds=False)
    rng = random.Random(seed)
    for i in rng.sample(range(n), drop_o + drop_t)[:drop_o]:
        ours[i]["_drop"] = True
    for i in [j for j in rng.sample(range(n), n) if not ours[j].get("_drop")][:drop_t]:
        theirs[i]["_drop"] = True
    bill, internal = frames(ours, theirs)
    straight = Counter(_match(bill, internal)["outcome"].to_list())
    swapped = Counter(_match(*_swap(bill, internal))["outcome"].to_list())
    assert straight["LOCAL_ONLY"] == swapped["CHANNEL_ONLY"] == drop_t
    assert straight["CHANNEL_ONLY"] == swapped["LOCAL_ONLY"] == drop_o
    assert straight["MATCHED"] == swapped["MATCHED"] == n - drop_o - drop_t
