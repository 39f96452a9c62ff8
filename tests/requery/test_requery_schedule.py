"""The re-query's schedule: the not-found window, UNKNOWN answers asked again, MANUAL after the last."""

from __future__ import annotations

import datetime as dt

from layers import row
from requery_support import LATER, PAID_AT, item, queue, requeries, wechat_api, wechat_order, wechat_ws

from jobs.requery.run import requery_due, requery_items
from jobs.requery.trail import trail_of
from recon.queue.actions import accept_ours
from recon.queue.store import queue_engine

MINUTE = dt.timedelta(minutes=1)


def test_order_not_exist_right_after_the_payment_stays_unknown_until_the_window_passes(tmp_path, http, keys):
    api = wechat_api(http, keys)  # WeChat does not know Mk1 (yet)
    ws = wechat_ws(tmp_path / "ws", keys, http, attempts=6)
    ids = queue(ws, row("LOCAL_ONLY", "k1", their=None))
    soon = PAID_AT + 5 * MINUTE  # the rule set's window is 1h

    early = [requery_items(ws, (ids["k1"],), now=soon + n * MINUTE).lines[0] for n in range(3)]
    after = requery_items(ws, (ids["k1"],), now=PAID_AT + 61 * MINUTE).lines[0]
    again = requery_items(ws, (ids["k1"],), now=PAID_AT + 90 * MINUTE).lines[0]

    assert [(line.status, line.outcome) for line in early] == [("NOT_FOUND", "WAITING")] * 3
    answers = requeries(ws, ids["k1"])
    assert all("too soon after the payment" in a["why"] for a in answers[:3])
    assert dt.datetime.fromisoformat(answers[0]["next_attempt_at"]) >= PAID_AT + 60 * MINUTE  # not before the window ends
    assert (after.outcome, again.outcome) == ("WAITING", "PROPOSED")  # the second "does not exist" past the window
    assert answers[-1]["proposal"] == "accept_channel" and len(api.asked) == 5


def test_a_5xx_or_a_timeout_schedules_the_next_attempt(tmp_path, http, keys):
    api = wechat_api(http, keys, mode="down")
    ws = wechat_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("LOCAL_ONLY", "k1", their=None))

    down = requery_items(ws, (ids["k1"],), now=LATER).lines[0]
    api.mode = "slow"
    slow = requery_items(ws, (ids["k1"],), now=LATER + 10 * MINUTE).lines[0]

    assert (down.status, down.outcome, slow.status, slow.outcome) == ("UNKNOWN", "WAITING", "UNKNOWN", "WAITING")
    first, second = requeries(ws, ids["k1"])
    assert (first["http_status"], first["layer"]) == (500, "transport")  # unsigned 500: not an answer
    assert "timed out" in second["said"] and second["http_status"] is None and second["archive"] is None
    # escalating waits from the channel's retry list: 10m after the first, 30m after the second
    assert dt.datetime.fromisoformat(first["next_attempt_at"]) == LATER + 10 * MINUTE
    assert dt.datetime.fromisoformat(second["next_attempt_at"]) == LATER + 40 * MINUTE


def test_unknown_answers_until_the_last_attempt_then_manual_with_every_answer(tmp_path, http, keys):
    api = wechat_api(http, keys)
    api.orders["Mk1"] = wechat_order("Mk1", "USERPAYING", 10000)  # not final
    ws = wechat_ws(tmp_path / "ws", keys, http)  # attempts = 3
    ids = queue(ws, row("LOCAL_ONLY", "k1", their=None))

    outcomes = [requery_items(ws, (ids["k1"],), now=LATER + n * dt.timedelta(hours=1)).lines[0].outcome
                for n in range(3)]

    assert outcomes == ["WAITING", "WAITING", "MANUAL"]
    last = requeries(ws, ids["k1"])[-1]
    assert "no explicit answer after 3 attempt(s)" in last["why"]
    assert [(a["attempt"], a["status"], a["said"]) for a in last["answers"]] == [
        (n, "UNKNOWN", "trade_state USERPAYING") for n in (1, 2, 3)]
    assert item(ws, ids["k1"]).status == "OPEN"


def test_scheduled_runs_ask_only_what_is_due(tmp_path, http, keys):
    api = wechat_api(http, keys)
    api.orders["Mk1"] = wechat_order("Mk1", "NOTPAY", 10000)
    api.orders["Mk2"] = wechat_order("Mk2", "SUCCESS", 10000)
    ws = wechat_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("LOCAL_ONLY", "k1", their=None), row("LOCAL_ONLY", "k2", their=None),
                row("DUPLICATE", "k3"))

    first = requery_due(ws, now=LATER)
    same = requery_due(ws, now=LATER + MINUTE)
    later = requery_due(ws, now=LATER + 10 * MINUTE)

    assert sorted((line.item_id, line.outcome) for line in first.lines) == [(ids["k1"], "WAITING"), (ids["k2"], "PROPOSED")]
    assert same.lines == []  # k1 waits for its next attempt, k2 for a person; DUPLICATE is never asked
    assert [(line.item_id, line.outcome) for line in later.lines] == [(ids["k1"], "WAITING")]
    assert len(api.asked) == 3


def test_per_run_cap_and_in_run_switch(tmp_path, http, keys):
    api = wechat_api(http, keys)
    ws = wechat_ws(tmp_path / "ws", keys, http, max_per_run=2)
    queue(ws, *(row("LOCAL_ONLY", f"k{n}", their=None) for n in range(3)))

    capped = requery_due(ws, now=LATER)

    assert len(capped.lines) == 2 and len(api.asked) == 2
    assert capped.notes == ["wechat: 1 more item(s) due; max_per_run is 2, the next run continues"]
    off = wechat_ws(tmp_path / "off", keys, http, in_run=False)
    queue(off, row("LOCAL_ONLY", "k1", their=None))
    assert requery_due(off, now=LATER).lines == [] and len(api.asked) == 2


def test_a_person_acting_meanwhile_keeps_the_item(tmp_path, http, keys):
    api = wechat_api(http, keys)
    api.orders["Mk1"] = wechat_order("Mk1", "SUCCESS", 10000)
    ws = wechat_ws(tmp_path / "ws", keys, http)
    ids = queue(ws, row("LOCAL_ONLY", "k1", their=None))

    def resolved_by_a_person():
        with queue_engine(ws).begin() as conn:
            accept_ours(conn, ids["k1"], actor="li.na", note="checked by phone")

    api.meanwhile = resolved_by_a_person
    run = requery_items(ws, (ids["k1"],), now=LATER)

    assert run.lines[0].outcome == "UNCHANGED" and item(ws, ids["k1"]).status == "RESOLVED"
    assert requeries(ws, ids["k1"]) == []
    assert [p.name[:9] for p in ws.requery_dir(item(ws, ids["k1"]).business_date).iterdir()] == ["item1-01-"]


def test_the_count_starts_again_when_the_item_changes_but_not_when_it_is_assigned():
    def event(action, outcome=None):
        return {"action": action, "data": {"outcome": outcome, "status": "UNKNOWN"} if outcome else {}}

    asked = [event("created"), event("requery", "WAITING"), event("assign"), event("requery", "MANUAL")]
    assert (trail_of(asked).attempts, trail_of(asked).state) == (2, "MANUAL")
    assert not trail_of(asked).due(LATER)  # MANUAL waits for a person
    changed = [*asked, event("updated")]  # a re-run changed its figures: the old answers were about another item
    assert (trail_of(changed).attempts, trail_of(changed).state, trail_of(changed).due(LATER)) == (0, "NEW", True)
