"""Exact-sum proposals (issue 23): the search's invariants (exact, no reuse, bounded) under
hypothesis, and the post-pass through layer 1 on frames (scenarios, too-large blocks, auto-accept)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from recon.config.ruleset import MatchRules, ProposalRules, subset_bound
from recon.matching import engine, proposals
from recon.matching.layer1 import match_frames
from recon.matching.proposals import Row, search_block
from tests.matching.factory import DAY, DAY_START, _ours, _theirs, clean_day, frames

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def row(side: str, i: int, amount: Decimal | int | str) -> Row:
    amount = Decimal(amount)
    label = f"{'M' if side == 'O' else 'C'}{i:03d}"
    return Row(side, -1 - i if side == "O" else i, label, amount, "CNY", (amount, label, "", i, i))


def block(ours: list, theirs: list) -> list[Row]:
    return [row("O", i, a) for i, a in enumerate(ours)] + [row("T", i, a) for i, a in enumerate(theirs)]


def check_exact_and_unique(found: list[proposals.Proposal], max_members: int) -> None:
    used: list[tuple[str, int]] = []
    for p in found:
        assert sum((m.amount for m in p.members), Decimal(0)) == p.target.amount
        assert {m.side for m in p.members} == {"T" if p.target.side == "O" else "O"}
        assert 2 <= len(p.members) <= max_members
        assert 0 < p.confidence <= proposals.SURE
        used += [(r.side, r.key) for r in (*p.members, p.target)]
    assert len(used) == len(set(used)), "a row is in two proposals"


# Small amounts in quarters: many rows add up to many others, the hard case for reuse.
amounts = st.lists(st.integers(-3, 12).filter(bool).map(lambda q: Decimal(q) / 4), max_size=12)


@FAST
@given(ours=amounts, theirs=amounts, k=st.integers(2, 5))
def test_proposals_are_exact_never_reuse_a_row_and_stay_within_the_bound(ours, theirs, k):
    rows = block(ours, theirs)
    found, evaluations = search_block(rows, k)
    check_exact_and_unique(found, k)
    assert evaluations <= subset_bound(len(rows), k)


@FAST
@given(members=st.lists(st.integers(1, 40), min_size=2, max_size=10), k=st.integers(2, 4),
       pick=st.data())
def test_a_lone_target_that_some_subset_adds_up_to_gets_a_proposal(members, k, pick):
    size = pick.draw(st.integers(2, min(k, len(members))))
    chosen = pick.draw(st.lists(st.sampled_from(range(len(members))), min_size=size, max_size=size, unique=True))
    target = sum(members[i] for i in chosen)
    found, _ = search_block(block([target], members), k)
    assert len(found) == 1
    assert sum(m.amount for m in found[0].members) == target
    # and the fewest members win: no smaller subset adds up to it
    fewest = min(n for n in range(2, k + 1) if any(sum(c) == target for c in itertools.combinations(members, n)))
    assert len(found[0].members) == fewest


@FAST
@given(n=st.integers(3, 24), k=st.integers(2, 5), ours_share=st.integers(0, 24))
def test_equal_amounts_cannot_blow_the_bound(n, k, ours_share):
    # the adversarial block: every member the same amount, so every subset of each size hits
    n_ours = min(ours_share, n - 1)
    rows = block(["1.00"] * n_ours, ["2.00"] * (n - n_ours))
    found, evaluations = search_block(rows, k)
    check_exact_and_unique(found, k)
    assert evaluations <= subset_bound(n, k)


def test_the_default_bound_is_what_the_docs_say_and_oversized_limits_are_refused():
    rules = ProposalRules()
    assert subset_bound(rules.max_block_rows, rules.max_members) == 55_454
    assert (rules.enabled, rules.auto_accept) == (True, False)
    with pytest.raises(ValidationError, match="subsets per block"):
        ProposalRules(max_block_rows=200, max_members=10)
    with pytest.raises(ValidationError):
        MatchRules.model_validate({"proposals": {"max_members": 1}})


# --- through layer 1 -------------------------------------------------------------------------------

AGGREGATE = ["10.00", "20.50", "3.25", "7.00", "9.25"]  # 50.00


def aggregate_day(orders: list[str] = AGGREGATE, total: str = "50.00", *, extra_ours: int = 0):
    """A clean day, plus five orders of ours the channel booked as one daily aggregate line."""
    ours, theirs = clean_day(8, seed=3, refunds=False)
    time = DAY_START + dt.timedelta(hours=20)
    for j, amount in enumerate([*orders, *["1.00"] * extra_ours]):
        ours.append(_ours(900 + j, f"A{j:03d}", None, "PAYMENT", None, Decimal(amount), Decimal(0),
                          time + dt.timedelta(minutes=j)))
    theirs.append(_theirs("AGG-20240501", None, "PAYMENT", None, None, Decimal(total), Decimal(0),
                          time + dt.timedelta(hours=1)))
    for line, r in enumerate(ours, start=2):
        r["source_line"] = line
    for line, r in enumerate(theirs, start=2):
        r["source_line"] = line
    return frames(ours, theirs)


def match(bill: pl.DataFrame, internal: pl.DataFrame, **settings) -> pl.DataFrame:
    rules = MatchRules(proposals=ProposalRules(**settings))
    return match_frames(bill, internal, rules, DAY, channel="wx", zone="Asia/Shanghai")


def test_a_daily_aggregate_line_against_five_orders_is_one_suggested_proposal():
    results = match(*aggregate_day())
    proposed = results.filter(pl.col("pass_name") == "exact_sum")
    assert proposed["outcome"].to_list() == ["SUGGESTED"] * 6
    assert sorted(proposed["our_merchant_txn_id"].drop_nulls()) == [f"A{j:03d}" for j in range(5)]
    assert proposed["their_channel_txn_id"].drop_nulls().to_list() == ["AGG-20240501"]
    reason = proposed["reason"][0]
    assert set(proposed["reason"]) == {reason}, "every row of the proposal tells the same story"
    assert reason == ("exact-sum proposal: sum of 5 of our orders A002, A003, A004, A000, A001 "
                      "(3.25+7.00+9.25+10.00+20.50 = 50.00) equals channel line AGG-20240501; confidence 0.9")
    assert proposed["confidence"].to_list() == [0.9] * 6
    # each row keeps its own side's money: the file's sums count nothing twice
    assert sum(proposed["our_amount"].drop_nulls()) == Decimal("50.00") == proposed["their_amount"].drop_nulls()[0]
    assert results.filter(pl.col("outcome") != "MATCHED").height == 6


def test_without_an_exact_sum_nothing_is_proposed():
    results = match(*aggregate_day(total="50.01"))
    assert results.filter(pl.col("pass_name") == "exact_sum").is_empty()
    assert sorted(set(results["outcome"])) == ["CHANNEL_ONLY", "LOCAL_ONLY", "MATCHED"]


def test_auto_accept_matches_an_unambiguous_proposal_and_only_when_configured():
    results = match(*aggregate_day(), auto_accept=True)
    proposed = results.filter(pl.col("pass_name") == "exact_sum")
    assert proposed["outcome"].to_list() == ["MATCHED"] * 6
    assert proposed["reason"][0].startswith("exact-sum match: sum of 5 of our orders")
    assert set(results["outcome"]) == {"MATCHED"}


def test_an_ambiguous_proposal_has_a_lower_confidence_and_is_never_auto_accepted():
    # 1.00 + 4.00 and 2.00 + 3.00 both make 5.00: which pair the channel meant is a person's call
    results = match(*aggregate_day(["1.00", "4.00", "2.00", "3.00"], "5.00"), auto_accept=True)
    proposed = results.filter(pl.col("pass_name") == "exact_sum")
    assert proposed["outcome"].to_list() == ["SUGGESTED"] * 3
    assert proposed["confidence"].to_list() == [0.45] * 3
    assert results.filter(pl.col("outcome") == "LOCAL_ONLY").height == 2


def test_a_block_too_large_is_not_searched_and_its_rows_say_so():
    results = match(*aggregate_day(extra_ours=20))  # 25 orders + 1 line: 26 rows > 24
    left = results.filter(pl.col("outcome") != "MATCHED")
    assert set(left["outcome"]) == {"LOCAL_ONLY", "CHANNEL_ONLY"} and left.height == 26
    assert all(r.endswith("block of 26 rows too large to search (limit 24)") for r in left["reason"])
    assert left["reason"].str.contains("no record of ours|not in the channel.s bill").all(), "the layer-1 reason is kept"
    # the limit is the rule set's: raised, the same block is searched
    bigger = match(*aggregate_day(extra_ours=20), max_block_rows=30)
    assert bigger.filter(pl.col("pass_name") == "exact_sum").height == 6


def test_disabled_proposals_leave_the_rows_as_layer_1_left_them():
    results = match(*aggregate_day(), enabled=False)
    assert sorted(set(results["outcome"])) == ["CHANNEL_ONLY", "LOCAL_ONLY", "MATCHED"]


def test_same_input_in_any_row_order_gives_identical_results():
    bill, internal = aggregate_day(["1.00", "4.00", "2.00", "3.00", "6.00", "5.00"], "5.00")
    first = match(bill, internal)
    rng = random.Random(5)
    for _ in range(3):
        shuffled = [f.sample(fraction=1.0, shuffle=True, seed=rng.randint(0, 999)) for f in (bill, internal)]
        assert match(*shuffled).equals(first)


def test_the_search_on_a_full_adversarial_block_stays_within_its_counter_bound():
    # 24 leftovers of the same amount in one block, the rule set's largest searched block
    ours, theirs = clean_day(3, seed=1, refunds=False)
    time = DAY_START + dt.timedelta(hours=3)
    for j in range(20):
        ours.append(_ours(500 + j, f"E{j:03d}", None, "PAYMENT", None, Decimal("1.00"), Decimal(0), time))
    for j in range(4):
        theirs.append(_theirs(f"S{j}", None, "PAYMENT", None, None, Decimal(2 + j), Decimal(0), time))
    for line, r in enumerate(ours, start=2):
        r["source_line"] = line
    for line, r in enumerate(theirs, start=2):
        r["source_line"] = line
    con = engine.connect()
    off = MatchRules(proposals=ProposalRules(enabled=False))
    match_frames(*frames(ours, theirs), off, DAY, channel="wx", zone="Asia/Shanghai", con=con)
    stats = proposals.propose(con, ProposalRules())
    assert (stats.searched, stats.too_large) == (1, 0)
    assert 0 < stats.max_block_evaluations <= subset_bound(24, 5)
    assert [len(p.members) for p in stats.proposals] == [2, 3, 4, 5]  # 2.00, 3.00, 4.00, 5.00
    check_exact_and_unique(stats.proposals, 5)
