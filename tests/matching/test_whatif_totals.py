"""A what-if's totals are the sum of its days, whatever the days hold (hypothesis)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from recon.matching.diff import Transition
from recon.matching.whatif import ChannelWhatIf, DayWhatIf, WhatIf

OUTCOMES = st.sampled_from([None, "MATCHED", "AMOUNT_MISMATCH", "LOCAL_ONLY", "CHANNEL_ONLY", "PENDING"])
MONEY = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2)
TRANSITION = st.builds(
    lambda ch, side, before, after, rows, amounts: Transition(ch, side, before, after, rows,
                                                              tuple(sorted(amounts.items()))),
    st.sampled_from(["wx", "ali"]), st.sampled_from(["ours", "theirs"]), OUTCOMES, OUTCOMES,
    st.integers(1, 1000), st.dictionaries(st.sampled_from(["CNY", "USD", "JPY"]), MONEY, min_size=1, max_size=3))


@given(st.lists(st.lists(TRANSITION, max_size=6), max_size=5))
def test_totals_are_the_sum_of_the_days(days: list[list[Transition]]):
    result = WhatIf(dt.date(2024, 5, 1), dt.date(2024, 5, 9), ("ali", "wx"), tuple(
        DayWhatIf(dt.date(2024, 5, 1 + i), (ChannelWhatIf("wx", tuple(moves), ()),)) for i, moves in enumerate(days)))
    rows: Counter = Counter()
    money: Counter = Counter()
    for t in (t for moves in days for t in moves):
        rows[t.key] += t.rows
        for currency, amount in t.amounts:
            money[(t.key, currency)] += amount
    totals = result.totals()
    assert len({t.key for t in totals}) == len(totals)  # one line per (channel, side, before, after)
    assert {t.key: t.rows for t in totals} == dict(rows)
    assert {(t.key, c): a for t in totals for c, a in t.amounts} == dict(money)
    doc = result.as_dict()
    assert doc["totals"]["rows_changed"] == sum(d["rows_changed"] for d in doc["days"]) == sum(rows.values())
