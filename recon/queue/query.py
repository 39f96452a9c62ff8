"""Selecting queue items: the filters `recon queue list` and the bulk actions share.

Date, channel, layer, kind, state, assignee and the text search filter in SQL. The money filter (`--min-amount`) and
the age filter run in Python on the loaded items: money is stored as exact decimal text on SQLite,
where a SQL comparison would compare strings (or go through float), and age depends on "today".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select

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


def select_items(conn, flt: Filter, thresholds: QueueSettings, today: dt.date,
                 sort: str = "severity") -> list[Item]:
    c = queue_items.c
    stmt = select(queue_items)
    if flt.since:
        stmt = stmt.where(c.business_date >= flt.since)
    if flt.until:
        stmt = stmt.where(c.business_date <= flt.until)
    if flt.channel:
        stmt = stmt.where(c.channel == flt.channel)
    if flt.layer is not None:
        stmt = stmt.where(c.layer == flt.layer)
    if flt.kind:
        stmt = stmt.where(c.kind == flt.kind.upper())
    if flt.states:
        stmt = stmt.where(c.status.in_(flt.states))
    if flt.assignee:
        stmt = stmt.where(c.assignee == flt.assignee)
    if flt.ids:
        stmt = stmt.where(c.id.in_(flt.ids))
    if flt.search:
        # Case-blind, literal (a % or _ in the text is not a wildcard); `detail` holds both sides'
        # ids: order number, our serial, the channel's serial, refund ids, source file.
        text = flt.search.strip().lower()
        stmt = stmt.where(or_(*(func.lower(col).contains(text, autoescape=True)
                                for col in (c.key, c.reason, c.detail))))
    items = [to_item(r, thresholds, today) for r in conn.execute(stmt.order_by(c.id))]
    if flt.min_amount is not None:
        items = [i for i in items if i.at_stake >= flt.min_amount]
    if flt.older_than is not None:
        items = [i for i in items if i.age_days > flt.older_than]
    return sort_items(items, sort)


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
