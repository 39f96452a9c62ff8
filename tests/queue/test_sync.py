"""The queue hook on both store backends: items keyed by natural key, decisions survive re-runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from layers import DAY, generic, row, write_generic, write_layer1
from recon.queue import actions
from recon.queue.query import Filter, select_items
from recon.config.settings import QueueSettings
from recon.queue.store import history, queue_engine
from recon.queue.sync import sync_results
from recon.store.tables.queue import queue_events, queue_items


def items(ws, **flt):
    with queue_engine(ws).connect() as conn:
        return {i.key: i for i in select_items(conn, Filter(**flt), QueueSettings(), DAY, "id")}


def test_sync_creates_one_item_per_discrepancy_and_reruns_do_not_duplicate(store_ws):
    write_layer1(store_ws, [
        row("MATCHED", "k1"),
        row("AMOUNT_MISMATCH", "k2", their="100.50"),
        row("PENDING", "k3", their=None),
        row("CHANNEL_ONLY", "k4", our=None),
        row("DUPLICATE", "k5"), row("DUPLICATE", "k5"),
        row("AUTO_RESOLVED", "k6"),
    ])
    write_generic(store_ws, 0, [generic("MISSING_CALLBACK", "T99", "5.00", None)])
    first = sync_results(store_ws, DAY)
    assert (first.created, first.layers) == (6, (0, 1))
    again = sync_results(store_ws, DAY)
    assert (again.created, again.unchanged) == (0, 6)
    got = items(store_ws)
    assert set(got) == {"k2", "k3", "k4", "k5", "k5#2", "T99"}
    assert got["k3"].status == "PENDING" and got["k2"].status == "OPEN"
    assert got["k2"].diff == Decimal("0.50") and got["k2"].our_amount == Decimal("100.00")
    assert got["k4"].our_amount is None and got["k4"].their_amount == Decimal("100.00")
    assert got["T99"].layer == 0
    sides = got["k2"].sides()
    assert sides["theirs"]["source_file"].endswith("wechat_20250314.csv") and sides["theirs"]["source_line"] == 12


def test_resolved_item_stays_resolved_until_its_figures_change(store_ws):
    write_layer1(store_ws, [row("AMOUNT_MISMATCH", "k2", their="100.50")])
    sync_results(store_ws, DAY)
    engine = queue_engine(store_ws)
    item = items(store_ws)["k2"]
    with engine.begin() as conn:
        actions.accept_ours(conn, item.id, actor="ana", note="channel fee rounding, agreed")
    assert sync_results(store_ws, DAY).reopened == 0
    assert items(store_ws, states=("RESOLVED",))["k2"].status == "RESOLVED"

    write_layer1(store_ws, [row("AMOUNT_MISMATCH", "k2", their="101.00")])  # corrected statement
    assert sync_results(store_ws, DAY).reopened == 1
    reopened = items(store_ws)["k2"]
    assert reopened.status == "OPEN" and reopened.their_amount == Decimal("101.00")
    with engine.connect() as conn:
        log = history(conn, item.id)
    assert [e["action"] for e in log] == ["created", "accept_ours", "reopened"]
    assert "their_amount 100.500000 -> 101.000000" in log[-1]["note"]
    assert log[1]["actor"] == "ana" and log[1]["from_state"] == "OPEN" and log[1]["to_state"] == "RESOLVED"


def test_items_no_longer_reported_or_matched_next_day_auto_resolve(store_ws):
    write_layer1(store_ws, [row("AMOUNT_MISMATCH", "k2", their="100.50"), row("PENDING", "k3", their=None)])
    sync_results(store_ws, DAY)
    nxt = DAY + dt.timedelta(days=1)
    # the next day's bill carries k3: matched, with carried_from pointing at the first day
    write_layer1(store_ws, [row("MATCHED", "k3", day=nxt, carried_from=DAY, reason="cross-day")], day=nxt)
    assert sync_results(store_ws, nxt).auto_resolved == 1
    k3 = items(store_ws, states=("AUTO_RESOLVED",))["k3"]
    assert k3.business_date == DAY
    # a re-run of the first day that no longer reports k2 closes it too
    write_layer1(store_ws, [row("MATCHED", "k2"), row("PENDING", "k3", their=None)])
    report = sync_results(store_ws, DAY)
    assert report.auto_resolved == 1
    with queue_engine(store_ws).connect() as conn:
        k2 = items(store_ws, states=("AUTO_RESOLVED",))["k2"]
        assert "MATCHED in the results of 2025-03-14" in history(conn, k2.id)[-1]["note"]


def test_an_earlier_days_item_closes_when_a_later_day_matches_it_under_any_of_its_ids(store_ws):
    """The sync looks up only the matched rows known by an open item's identity (the day's other
    matched rows are never read whole): a row carried from the first day closes its item whether the
    item's key is the row's match key or another of its ids; re-runs of either day change nothing."""
    write_layer1(store_ws, [row("PENDING", "k8", their=None), row("PENDING", "k9", their=None)])
    sync_results(store_ws, DAY)
    day3 = DAY + dt.timedelta(days=2)
    write_layer1(store_ws, [
        *(row("MATCHED", f"d3-{n}", day=day3) for n in range(50)),  # the later day's own matches
        row("MATCHED", "C-88", day=day3, carried_from=DAY, our_merchant_txn_id="k8", reason="cross-day"),
        row("MATCHED", "k9", day=day3, carried_from=DAY, reason="cross-day"),
        row("MATCHED", "k8", day=day3, reason="not carried: another period's row"),
    ], day=day3)
    assert sync_results(store_ws, day3).auto_resolved == 2
    closed = items(store_ws, states=("AUTO_RESOLVED",))
    assert set(closed) == {"k8", "k9"} and {i.business_date for i in closed.values()} == {DAY}
    with queue_engine(store_ws).connect() as conn:
        notes = {k: history(conn, i.id)[-1]["note"] for k, i in closed.items()}
        logs = {i.id: len(history(conn, i.id)) for i in closed.values()}
    assert notes["k8"] == f"MATCHED in the results of {day3.isoformat()}: cross-day"
    for day in (day3, DAY):
        again = sync_results(store_ws, day)
        assert (again.created, again.auto_resolved, again.reopened) == (0, 0, 0)
    with queue_engine(store_ws).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(queue_items)).scalar() == 2
        assert {i.id: len(history(conn, i.id)) for i in closed.values()} == logs


def test_event_log_is_append_only(store_ws):
    write_layer1(store_ws, [row("LOCAL_ONLY", "k7", their=None)])
    sync_results(store_ws, DAY)
    engine = queue_engine(store_ws)
    for stmt in (sa.update(queue_events).values(note="rewritten"), sa.delete(queue_events)):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(stmt)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(queue_events)).scalar() == 1
        assert conn.execute(sa.select(queue_items.c.key)).scalar() == "k7"


def test_layers_two_and_three_with_extra_columns(store_ws):
    write_generic(store_ws, 2, [generic("SETTLEMENT_SHORT", "wechat:2025-03-14", "1000000.00", "980000.00",
                                        settle_date="2025-03-15")])
    write_generic(store_ws, 3, [generic("POSITION_MISMATCH", "bank:6222", "2200000.00", "2000000.00")])
    assert sync_results(store_ws, DAY).created == 2
    got = items(store_ws)
    assert got["wechat:2025-03-14"].diff == Decimal("-20000.00")
    assert got["wechat:2025-03-14"].sides()["extra"]["settle_date"] == "2025-03-15"
    assert got["bank:6222"].layer == 3 and got["bank:6222"].severity == "HIGH"


def _day(n: int) -> dt.date:
    return DAY + dt.timedelta(days=n)


def test_pending_that_ages_out_becomes_local_only_in_the_same_item(store_ws):
    write_layer1(store_ws, [row("PENDING", "k3", their=None)])
    sync_results(store_ws, DAY)
    write_layer1(store_ws, [row("PENDING", "k3", their=None, day=_day(1), carried_from=DAY)], day=_day(1))
    sync_results(store_ws, _day(1))
    write_layer1(store_ws, [row("LOCAL_ONLY", "k3", their=None, day=_day(2), carried_from=DAY)], day=_day(2))
    assert sync_results(store_ws, _day(2)).updated == 1
    every = items(store_ws, states=("OPEN", "PENDING", "RESOLVED", "AUTO_RESOLVED", "WRITTEN_OFF"))
    assert list(every) == ["k3"]
    assert (every["k3"].kind, every["k3"].status, every["k3"].business_date) == ("LOCAL_ONLY", "OPEN", DAY)
    with queue_engine(store_ws).connect() as conn:
        log = history(conn, every["k3"].id)
    assert [(e["action"], e["from_state"], e["to_state"]) for e in log] == [
        ("created", None, "PENDING"), ("updated", "PENDING", "OPEN")]
    assert "kind PENDING -> LOCAL_ONLY in the results of 2025-03-16" in log[-1]["note"]


def test_rerunning_an_earlier_day_never_reopens_what_a_later_day_resolved(store_ws):
    day_one = [row("PENDING", "k3", their=None)]
    write_layer1(store_ws, day_one)
    sync_results(store_ws, DAY)
    write_layer1(store_ws, [row("AUTO_RESOLVED", "k3", day=_day(1), carried_from=DAY)], day=_day(1))
    assert sync_results(store_ws, _day(1)).auto_resolved == 1
    write_layer1(store_ws, day_one)  # day one re-run: it still says PENDING, as it did
    again = sync_results(store_ws, DAY)
    assert (again.reopened, again.created, again.unchanged) == (0, 0, 1)
    k3 = items(store_ws, states=("AUTO_RESOLVED",))["k3"]
    with queue_engine(store_ws).connect() as conn:
        assert [e["action"] for e in history(conn, k3.id)] == ["created", "auto_resolved"]


def test_a_settlement_period_is_one_item_and_closes_naming_its_payouts(store_ws):
    key = "period:2025-03-10..2025-03-14:CNY"
    for n, kind in enumerate(("SETTLEMENT_PENDING", "SETTLEMENT_PENDING")):
        write_generic(store_ws, 2, [generic(kind, key, "1000.00", "600.00", day=_day(n), section="settlement",
                                            period_start=dt.date(2025, 3, 10), is_discrepancy=False)], day=_day(n))
        sync_results(store_ws, _day(n))
    open_items = items(store_ws)
    assert list(open_items) == [key] and open_items[key].status == "PENDING"
    assert open_items[key].business_date == dt.date(2025, 3, 10)
    write_generic(store_ws, 2, [generic("SETTLED", key, "1000.00", "1000.00", day=_day(2), section="settlement",
                                        period_start=dt.date(2025, 3, 10), is_discrepancy=False,
                                        payout_ids="po_1,po_2")], day=_day(2))
    assert sync_results(store_ws, _day(2)).auto_resolved == 1
    closed = items(store_ws, states=("AUTO_RESOLVED",))[key]
    with queue_engine(store_ws).connect() as conn:
        assert "SETTLED in the results of 2025-03-16: paid by po_1, po_2" in history(conn, closed.id)[-1]["note"]
