"""N:M conservation over generated batches (hypothesis draws the batches, their sizes and the gaps).

For every N:M group layer 1 forms: its members' sums agree within the tolerances when it is MATCHED
and differ beyond them when it is an AMOUNT_MISMATCH; the difference it records is exactly the sums'
difference; no row is in two groups; and every input row of both sides is in the results once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal as D

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon.config.ruleset import MatchRules
from recon.matching.layer1 import match_frames
from tests.matching.factory import DAY, DAY_START, _ours, _theirs, frames

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CENT = D("0.01")
NOON = DAY_START + dt.timedelta(hours=2)  # far from either midnight: nothing here is pending

cents = st.integers(-5_000, 500_000)  # refunds net a batch: a member may be negative
batch = st.tuples(st.lists(cents, min_size=1, max_size=4), st.integers(1, 4),
                  st.sampled_from([0, 1, 2, 3, 50]))  # our members, their line count, gap in cents
day = st.lists(batch, min_size=0, max_size=6)


def _build(batches, loose: int) -> tuple[list[dict], list[dict]]:
    ours, theirs = [], []
    for b, (members, lines, gap) in enumerate(batches):
        total = sum(members) + gap
        split = [total // lines] * lines
        split[0] += total - sum(split)  # the channel's lines add up to our sum plus the gap
        for m in members:
            n = len(ours)
            row = _ours(n, f"M{n:05d}", None, "PAYMENT", None, D(m) * CENT, D(0), NOON)
            ours.append({**row, "merchant_order_no": f"B{b}", "source_line": n + 2})
        for s in split:
            n = len(theirs)
            row = _theirs(f"C{n:05d}", None, "PAYMENT", None, None, D(s) * CENT, D(0), NOON)
            theirs.append({**row, "payout_id": f"B{b}", "source_line": n + 2})
    for i in range(loose):  # rows without a batch, and a batch only one side has
        n, m = len(ours), len(theirs)
        ours.append({**_ours(n, f"L{i}", None, "PAYMENT", None, D(i + 1), D(0), NOON + dt.timedelta(hours=1)),
                     "merchant_order_no": None if i % 2 else f"ONLY-OURS-{i}", "source_line": n + 2})
        theirs.append({**_theirs(f"X{i}", None, "PAYMENT", None, None, D(i + 7), D(0), NOON + dt.timedelta(hours=2)),
                       "payout_id": None, "source_line": m + 2})
    return ours, theirs


@FAST
@given(batches=day, loose=st.integers(0, 3), tol_cents=st.integers(0, 2), rel=st.sampled_from(["0", "0.0001"]))
def test_groups_conserve_their_sums_and_every_row_appears_once(batches, loose, tol_cents, rel):
    rules = MatchRules(our_group_key="merchant_order_no", their_group_key="payout_id",
                       amount_tolerance=D(tol_cents) * CENT, amount_tolerance_rel=D(rel))
    ours, theirs = _build(batches, loose)
    bill, internal = frames(ours, theirs)
    res = match_frames(bill, internal, rules, DAY, channel="wx", zone="Asia/Shanghai")

    # every input row of both sides is in the results exactly once
    seen_o = Counter(zip(res["our_source_file"], res["our_source_line"]))
    seen_t = Counter(zip(res["their_source_file"], res["their_source_line"]))
    seen_o.pop((None, None), None)
    seen_t.pop((None, None), None)
    assert seen_o == Counter(zip(internal["source_file"], internal["source_line"]))
    assert seen_t == Counter(zip(bill["source_file"], bill["source_line"]))

    groups = res.filter(pl.col("pass_name").str.starts_with("groups:"))
    assert groups.height == sum(max(len(m), n) for m, n, _ in batches)  # every batch formed its group
    for (gid,), rows in groups.group_by("group_id"):
        # no row in two groups: each member's own key is its group's
        assert set(internal.filter(pl.col("txn_id").is_in(rows["our_txn_id"].drop_nulls().to_list()))
                   ["merchant_order_no"]) == {gid}
        assert set(bill.filter(pl.col("channel_txn_id").is_in(rows["their_channel_txn_id"].drop_nulls().to_list()))
                   ["payout_id"]) == {gid}
        our_sum, their_sum = rows["our_amount"].sum(), rows["their_amount"].sum()
        allowance = max(rules.amount_tolerance, abs(our_sum) * rules.amount_tolerance_rel)
        [outcome] = set(rows["outcome"])
        if outcome == "MATCHED":
            assert abs(their_sum - our_sum) <= allowance
        else:
            assert outcome == "AMOUNT_MISMATCH" and abs(their_sum - our_sum) > allowance
        assert rows["diff_amount"].drop_nulls().to_list() == [their_sum - our_sum]
        assert set(rows["group_size"]) == {rows.height}
        if rows.height > 1 or outcome != "MATCHED":  # a batch of one row a side that matches is a plain pair
            reason = rows["reason"][0]
            assert f"sum to {our_sum:.2f} CNY" in reason and f"to {their_sum:.2f} CNY" in reason
