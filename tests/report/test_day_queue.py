"""The report's queue views from its one read of the day's items (data._queue), on both store backends:
the channel's answers about the day's items only, every one in order and nothing else of their
histories; each row's item with its latest note; the open items of the day and before by age."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from layers import DAY, make_ws, row, write_layer1

from recon.queue import actions
from recon.queue.query import Filter, admits, select_any, select_items
from recon.queue.store import queue_engine
from recon.queue.sync import sync_results
from recon.report.data import gather
from recon.store.tables.queue import ACTIVE_STATES

BEFORE, AFTER = DAY - dt.timedelta(days=1), DAY + dt.timedelta(days=1)
AS_OF = DAY + dt.timedelta(days=10)


def answer(attempt: int, status: str) -> dict:
    return {"attempt": attempt, "asked_at": f"2025-03-1{4 + attempt}T02:00:00+00:00", "status": status,
            "why": f"asked {attempt}", "amount": "100.50", "currency": "CNY", "time": "2025-03-14T10:30:05+08:00",
            "outcome": "WAIT" if attempt == 1 else "PROPOSE", "proposal": None if attempt == 1 else "accept_ours",
            "response_sha256": f"{attempt:064x}"}


@pytest.fixture()
def worked(tmp_path, store_url):
    """Three days' items, worked on: re-queried, assigned with notes, resolved."""
    ws = make_ws(tmp_path / "ws", store_url=store_url)
    days = {BEFORE: [row("LOCAL_ONLY", "old", their=None, day=BEFORE)],
            DAY: [row("MATCHED", "k1"), row("AMOUNT_MISMATCH", "k2", their="100.50"),
                  row("LOCAL_ONLY", "k3", their=None, our="30.00"), row("CHANNEL_ONLY", "k4", our=None, their="7.25"),
                  row("CHANNEL_ONLY", "k5", our=None, their="2.75")],
            AFTER: [row("LOCAL_ONLY", "new", their=None, day=AFTER)]}
    for day, rows in days.items():
        write_layer1(ws, rows, day=day)
        sync_results(ws, day)
    with queue_engine(ws).begin() as conn:
        ids = {i.key: i.id for i in select_items(conn, Filter(), ws.settings.queue, DAY)}
        for key in ("old", "new"):  # answers about other days' items: never the day's
            actions.annotate(conn, ids[key], actions.REQUERY, actor="recon-requery", note="asked",
                             data=answer(1, "NOTPAY"))
        actions.annotate(conn, ids["k2"], actions.REQUERY, actor="recon-requery", note="asked", data=answer(1, "NOTPAY"))
        actions.assign(conn, ids["k2"], "ann", actor="lead", note="call the channel")
        actions.annotate(conn, ids["k4"], actions.REQUERY, actor="recon-requery", note="asked", data=answer(1, "CLOSED"))
        actions.annotate(conn, ids["k2"], actions.REQUERY, actor="recon-requery", note="asked again",
                         data=answer(2, "SUCCESS"))
        actions.accept_ours(conn, ids["k2"], actor="ann", note="ours stand, card 4111111111111111")
        actions.assign(conn, ids["k3"], "bob", actor="lead", note="")
    return ws, ids


def test_the_days_answers_only_in_order(worked):
    ws, ids = worked
    data = gather(ws, DAY, AS_OF)
    k2 = [(ids["k2"], "AMOUNT_MISMATCH", "k2", 1, "NOTPAY", "asked 1", "WAIT"),
          (ids["k2"], "AMOUNT_MISMATCH", "k2", 2, "SUCCESS", "asked 2", "PROPOSE accept_ours")]
    k4 = [(ids["k4"], "CHANNEL_ONLY", "k4", 1, "CLOSED", "asked 1", "WAIT")]
    # by item, then as they came (k4's answer came between k2's two)
    assert [(r[0], r[2], r[3], r[4], r[6], r[7], r[11]) for r in data.requeries] == (
        k2 + k4 if ids["k2"] < ids["k4"] else k4 + k2)
    assert {r[1] for r in data.requeries} == {"wechat"}


def test_rows_items_and_latest_notes(worked):
    ws, ids = worked
    queue = gather(ws, DAY, AS_OF).queue[1]
    by_id = {r["queue_id"]: r for r in queue.to_dicts() if r["queue_id"] is not None}
    assert set(by_id) == {ids["k2"], ids["k3"], ids["k4"], ids["k5"]}
    assert (by_id[ids["k2"]]["queue_status"], by_id[ids["k2"]]["queue_note"]) == ("RESOLVED",
                                                                                 "ours stand, card 411111******1111")
    assert by_id[ids["k3"]]["assignee"] == "bob"
    assert by_id[ids["k3"]]["queue_note"] == "assigned to bob"  # an assignment without a note says so
    assert by_id[ids["k4"]]["queue_note"] == "asked"  # the re-query's
    assert (by_id[ids["k5"]]["queue_note"], by_id[ids["k5"]]["age_days"]) == (None, 10)  # 'created' is no note


def test_open_items_of_the_day_and_before_by_age(worked):
    ws, _ = worked
    # k3, k4 and k5 are 10 days old, 'old' 11; k2 is closed and 'new' is of a later day
    assert gather(ws, DAY, AS_OF).open_by_age == [(">7", "CNY", 4, Decimal("140.00"))]
    assert gather(ws, DAY, DAY + dt.timedelta(days=3)).open_by_age == [("2-3", "CNY", 3, Decimal("40.00")),
                                                                        ("4-7", "CNY", 1, Decimal("100.00"))]


def test_one_read_gives_each_filter_its_own_items(worked):
    ws, _ = worked
    filters = [Filter(until=DAY, states=ACTIVE_STATES), Filter(since=DAY, until=DAY, layer=1), Filter(since=AFTER)]
    with queue_engine(ws).connect() as conn:
        items = select_any(conn, filters, ws.settings.queue, AS_OF)
        for flt in filters:
            assert [i for i in items if admits(flt, i)] == select_items(conn, flt, ws.settings.queue, AS_OF, "id")
        with pytest.raises(ValueError, match="date, layer and state"):
            select_any(conn, [Filter(channel="wechat")], ws.settings.queue, AS_OF)
