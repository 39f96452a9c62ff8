"""Reading the parts of many items' histories a view needs, not the whole of each (`store.histories`).

A 10M-line day's items carry every event of their lives ('created', syncs, assignments, re-queries,
resolutions); the day's report wants only the channel's answers about the day's items and each
shown item's latest note, so it reads just those events, and the answers' data alone is parsed.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Date, bindparam, select

from recon.queue.store import IN_LIST
from recon.redact import mask_pans
from recon.store.tables.queue import queue_events, queue_items

_e, _i = queue_events.c, queue_items.c
# One action's events about the items of one business date, by item then in the order they happened.
ACTION_EVENTS_OF_DAY = (
    select(_i.id, _i.channel, _i.kind, _i.key, _e.data)
    .join_from(queue_events, queue_items, _e.item_id == _i.id)
    .where(_i.business_date == bindparam("day", type_=Date()), _e.action == bindparam("action"))
    .order_by(_i.id, _e.id)
)
# The events with a note of some items, oldest first, but those of the actions skipped.
NOTES = (
    select(_e.item_id, _e.note)
    .where(_e.item_id.in_(bindparam("ids", expanding=True)), _e.note != "",
           _e.action.not_in(bindparam("skip", expanding=True)))
    .order_by(_e.id)
)


def action_events(conn, day: dt.date, action: str) -> list[tuple[int, str, str, str, dict[str, Any]]]:
    """(item id, channel, kind, key, the event's data) for each `action` event about an item of `day`."""
    return [(r.id, r.channel, r.kind, r.key, json.loads(r.data or "{}"))
            for r in conn.execute(ACTION_EVENTS_OF_DAY, {"day": day, "action": action})]


def latest_notes(conn, item_ids, skip: tuple[str, ...]) -> dict[int, str]:
    """Each item's latest note (card numbers masked), the events of the `skip` actions not counted;
    items without one are left out."""
    out: dict[int, str] = {}
    ids = sorted(set(item_ids))
    for start in range(0, len(ids), IN_LIST):
        for r in conn.execute(NOTES, {"ids": ids[start:start + IN_LIST], "skip": list(skip)}):
            out[r.item_id] = r.note
    return {item: mask_pans(note) for item, note in out.items()}
