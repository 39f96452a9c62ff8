"""Explicit transaction boundaries: a unit of work, and what may happen only after it commits.

Every write of the payment core happens inside `unit_of_work(engine)`: one database transaction,
committed at the end of the block or rolled back on any exception, so a crash between "state
changed" and "journal posted" leaves neither (FAULTS.md crash point 22). Anything that talks to the
outside world — a call to a channel, a notification, a file write — is registered with
`after_commit` and runs only once the data it depends on is durable; nothing remote ever runs while
a transaction (and on SQLite, the database's write lock) is held.

On SQLite the transaction starts with `BEGIN IMMEDIATE`: it takes the write lock up front, so two
writers queue on the busy timeout instead of one failing with "database is locked" when it tries to
upgrade a read snapshot that another writer has already made stale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from recon.clock import utcnow


@dataclass
class UnitOfWork:
    conn: Connection
    now: dt.datetime
    _after: list[Callable[[], object]] = field(default_factory=list)

    def after_commit(self, hook: Callable[[], object]) -> None:
        """Run `hook` after a successful commit (never if the work rolls back)."""
        self._after.append(hook)


@contextmanager
def unit_of_work(engine: Engine, *, now: dt.datetime | None = None) -> Iterator[UnitOfWork]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        work = UnitOfWork(conn=conn, now=now or utcnow())
        try:
            yield work
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
    for hook in work._after:
        hook()
