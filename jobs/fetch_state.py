"""Where a channel-day's fetch stands, kept in the store so separate cron runs continue one schedule.

One row per (channel, business date) in `fetch_attempts`: the state (WAITING, FETCHED, EMPTY,
MANUAL, FAILED), how many attempts were made, when the next one is due, and the last error in
words (never a secret: errors are built from settings' names, not values). Rows are replaced
whole by `save`; the raw files and their manifest are the evidence, this row is the schedule.
Times are stored as naive UTC on every backend and come back aware.

The table is declared in `recon.store.tables.runs`; its alembic revision is
`recon/store/migrations/versions/fetch_0001_fetch_attempts.py` (branch "fetch").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from recon.store.engine import open_store
from recon.store.tables.runs import fetch_attempts


@dataclass(frozen=True, slots=True)
class DayState:
    channel: str
    business_date: dt.date
    state: str
    attempts: int = 0
    first_attempt_at: dt.datetime | None = None
    last_attempt_at: dt.datetime | None = None
    next_attempt_at: dt.datetime | None = None
    last_error: str | None = None


def engine(ws) -> sa.Engine:  # ws: recon.workspace.Workspace
    """The workspace's store with every table created or upgraded."""
    return open_store(ws.store_url())


def load(eng: sa.Engine, channel: str, date: dt.date) -> DayState | None:
    t = fetch_attempts
    with eng.connect() as conn:
        row = conn.execute(sa.select(t).where(t.c.channel == channel, t.c.business_date == date)).mappings().first()
    return DayState(**row) if row else None


def save(eng: sa.Engine, state: DayState) -> None:
    t = fetch_attempts
    values = {f: getattr(state, f) for f in DayState.__slots__}
    key = (t.c.channel == state.channel) & (t.c.business_date == state.business_date)
    with eng.begin() as conn:
        if conn.execute(sa.update(t).where(key).values(**values)).rowcount == 0:
            conn.execute(sa.insert(t).values(**values))


def all_states(eng: sa.Engine, since: dt.date | None = None) -> list[DayState]:
    """Every channel-day's fetch state (for `recon status`), oldest first."""
    t = fetch_attempts
    query = sa.select(t).order_by(t.c.business_date, t.c.channel)
    if since is not None:
        query = query.where(t.c.business_date >= since)
    with eng.connect() as conn:
        return [DayState(**row) for row in conn.execute(query).mappings()]
