"""Invariants of the period's figures over any mix of outcomes, days, channels and amounts (hypothesis)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from layers import GENERIC_SCHEMA, LAYER1_SCHEMA, generic, row
from recon.excel.words import KINDS, OK_OUTCOMES, WAITING_OUTCOMES
from recon.report.period_data import PeriodData, layer_facts

DAY0 = dt.date(2025, 3, 1)
L1 = ["MATCHED", "AUTO_RESOLVED", "AMOUNT_MISMATCH", "LOCAL_ONLY", "CHANNEL_ONLY", "PENDING", "DUPLICATE"]
L23 = ["BILL_OK", "SETTLED", "CASH_OK", "PAYOUT_RECEIVED", "SETTLEMENT_SHORT", "CASH_MISMATCH",
       "SETTLEMENT_PENDING", "PAYOUT_IN_TRANSIT"]
money = st.decimals(min_value=Decimal("-9999.99"), max_value=Decimal("9999.99"), places=2)
line = st.tuples(st.integers(0, 2), st.sampled_from(["wechat", "alipay"]), st.integers(1, 3), money)


@given(st.lists(line, max_size=40), st.data())
def test_every_line_is_counted_once_as_ok_waiting_or_discrepancy(lines, draw):
    facts = []
    for n, (day_no, channel, layer, amount) in enumerate(lines):
        day = DAY0 + dt.timedelta(days=day_no)
        if layer == 1:
            outcome = draw.draw(st.sampled_from(L1))
            frame = pl.DataFrame([row(outcome, f"k{n}", their=str(amount), day=day, channel=channel)],
                                 schema=LAYER1_SCHEMA, orient="row")
        else:
            kind = draw.draw(st.sampled_from(L23))
            frame = pl.DataFrame([{**generic(kind, f"k{n}", "100.00", str(amount), day=day), "channel": channel}],
                                 schema=GENERIC_SCHEMA, orient="row")
        facts.append(layer_facts(frame.lazy(), day, layer))
    days = sorted({DAY0 + dt.timedelta(days=d) for d, *_ in lines})
    data = PeriodData(since=DAY0, until=DAY0 + dt.timedelta(days=2), workspace="w", days=days)
    if facts:
        data.facts = pl.concat(facts)
    per_day, kinds, per = data.per_day(), data.kinds_day(), data.per_channel()
    assert int(per["lines"].sum() or 0) == len(lines)
    assert (per["ok"] + per["waiting"] + per["discrepancies"]).to_list() == per["lines"].to_list()
    total = int(per["discrepancies"].sum() or 0)
    assert int(kinds["count"].sum() or 0) == int(per_day["discrepancies"].sum() or 0) == total
    assert not set(kinds["kind"].to_list()) & (OK_OUTCOMES | WAITING_OUTCOMES)
    assert set(kinds["kind"].to_list()) <= set(KINDS)
    assert all(a >= 0 for a in kinds["amount"].to_list())  # money at stake: the size of the difference
    # the per-day trend (what the charts draw) adds up to the period's summary, per layer too
    by_kind, pivot = data.kind_pivot()
    assert sum(sum(counts) for _, counts in pivot) == int(per["discrepancies"].sum() or 0)
    assert [d for d, _ in pivot] == days
    channel_rows = data.per_channel_day()
    assert channel_rows["amount"].sum() == per["amount"].sum()
    assert isinstance(per["amount"].dtype, pl.Decimal)  # never float
