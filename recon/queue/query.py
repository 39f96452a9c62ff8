"""Selecting queue items: the filters `recon queue list` and the bulk actions share.

Date, channel, layer, kind, state, assignee and the text search filter in SQL. The money filter (`--min-amount`) and
the age filter run in Python on the loaded items: money is stored as exact decimal text on SQLite,
where a SQL comparison would compare strings (or go through float), and age depends on "today".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import and_, func, or_, select, true

from recon.config.settings import QueueSettings
from recon.queue.severity import LEVEL_RANK
from recon.queue.store import Item, to_item
from recon.store.tables.queue import State, queue_items

SORTS = ("severity", "age", "amount", "id", "date")


@dataclass(frozen=True, slots=True)
class Filter:
    since: dt.date | None = None
    until: dt.date | None = None
    channel: str | None = None
    layer: int | None = None
    kind: str | None = None
    states: tuple[str, ...] = ()
    assignee: str | None = None
    min_amount: Decimal | None = None
    older_than: int | None = None
    ids: tuple[int, ...] = ()
    search: str | None = None  # text in the key, the reason or either side's ids (order numbers)

    def is_empty(self) -> bool:
        return self == Filter()


def parse_states(text: str | None) -> tuple[str, ...]:
    """`--state open,pending` -> ('OPEN', 'PENDING'); 'active' is OPEN+PENDING, 'all' is none."""
    if not text or text.lower() == "all":
        return ()
    out: list[str] = []
    for part in text.upper().replace("-", "_").split(","):
        part = part.strip()
        if part == "ACTIVE":
            out += [State.OPEN.value, State.PENDING.value]
        elif part:
            out.append(State(part).value)  # ValueError names the bad state; the CLI reports it
    return tuple(out)


def _conditions(flt: Filter) -> list:
    """The SQL side of `flt`: every filter but money and age."""
    c = queue_items.c
    where = []
    if flt.since:
        where.append(c.business_date >= flt.since)
    if flt.until:
        where.append(c.business_date <= flt.until)
    if flt.channel:
        where.append(c.channel == flt.channel)
    if flt.layer is not None:
        where.append(c.layer == flt.layer)
    if flt.kind:
        where.append(c.kind == flt.kind.upper())
    if flt.states:
        where.append(c.status.in_(flt.states))
    if flt.assignee:
        where.append(c.assignee == flt.assignee)
    if flt.ids:
        where.append(c.id.in_(flt.ids))
    if flt.search:
        # Case-blind, literal (a % or _ in the text is not a wildcard); `detail` holds both sides'
        # ids: order number, our serial, the channel's serial, refund ids, source file.
        text = flt.search.strip().lower()
        where.append(or_(*(func.lower(col).contains(text, autoescape=True) for col in (c.key, c.reason, c.detail))))
    return where


def select_items(conn, flt: Filter, thresholds: QueueSettings, today: dt.date,
                 sort: str = "severity") -> list[Item]:
    stmt = select(queue_items).where(*_conditions(flt)).order_by(queue_items.c.id)
    items = [to_item(r, thresholds, today) for r in conn.execute(stmt)]
    if flt.min_amount is not None:
        items = [i for i in items if i.at_stake >= flt.min_amount]
    if flt.older_than is not None:
        items = [i for i in items if i.age_days > flt.older_than]
    return sort_items(items, sort)


def select_any(conn, filters: Iterable[Filter], thresholds: QueueSettings, today: dt.date) -> list[Item]:
    """The items any of `filters` selects, each once, by id: one read for views of the queue that overlap
    (the day's report), each taking its own with `admits`. Date, layer and state filters only."""
    filters = list(filters)
    if any(replace(f, since=None, until=None, layer=None, states=()) != Filter() for f in filters):
        raise ValueError("select_any takes date, layer and state filters only")
    if not filters:
        return []
    stmt = select(queue_items).where(or_(*(and_(true(), *_conditions(f)) for f in filters)))
    return [to_item(r, thresholds, today) for r in conn.execute(stmt.order_by(queue_items.c.id))]


def admits(flt: Filter, item: Item) -> bool:
    """Whether `select_items(flt)` returns `item`, for the filters `select_any` takes."""
    return ((not flt.since or item.business_date >= flt.since) and (not flt.until or item.business_date <= flt.until)
            and (flt.layer is None or item.layer == flt.layer) and (not flt.states or item.status in flt.states))


def sort_items(items: list[Item], sort: str) -> list[Item]:
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; one of {', '.join(SORTS)}")
    keys = {
        "severity": lambda i: (-LEVEL_RANK[i.severity], -i.at_stake, -i.age_days, i.id),
        "age": lambda i: (-i.age_days, i.id),
        "amount": lambda i: (-i.at_stake, i.id),
        "id": lambda i: i.id,
        "date": lambda i: (i.business_date, i.id),
    }
    return sorted(items, key=keys[sort])
