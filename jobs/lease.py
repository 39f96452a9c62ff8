"""Leases: at most one run works on a (date, channel) at a time, and a crashed run's claim expires.

A lease is a row keyed by (date, channel) with its holder (host, pid, a random token) and an expiry.
Taking it is one conditional write: insert, or take over a row whose lease has expired; if neither
succeeds another live run holds it, and the caller exits 5 at once naming the holder. The holder
renews while it works (a heartbeat thread, every third of `ttl`, so one long stage keeps its claim),
and every atomic write checks the claim first: a run whose lease was taken over stops with
`LeaseLost` (exit 5) before it writes anything. A run killed with -9 simply stops renewing, and the
next run takes over after `ttl` (at once when the dead holder was a process on this same host).
Fetches of a channel-day hold a lease too (`fetch/<channel>`): one mechanism for every claim. Idempotency and mutual exclusion live in the database, not in a lock file, so they
hold across machines sharing a PostgreSQL store too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from recon.clock import on_screen, utcnow
from recon.errors import Locked
from recon.files import guarded_writes
from recon.store.tables.runs import leases

DEFAULT_TTL = dt.timedelta(minutes=10)
LOG = logging.getLogger("recon.lease")


class LeaseLost(Locked):
    """Another run took this run's lease over (it had expired): stop before writing anything."""

def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str) -> bool:
    """A holder on this host whose process no longer exists (killed -9): its lease is void now."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False


class Lease:
    def __init__(self, engine: Engine, date: dt.date, channel: str, holder: str, ttl: dt.timedelta,
                 zone: ZoneInfo | None = None) -> None:
        self.engine, self.date, self.channel, self.holder, self.ttl = engine, date, channel, holder, ttl
        self.zone = zone  # the workspace's business zone, for the times in messages

    def _where(self) -> sa.ColumnElement[bool]:
        return sa.and_(leases.c.business_date == self.date, leases.c.channel == self.channel)

    def acquire(self) -> None:
        now = utcnow()
        values = {"holder": self.holder, "acquired_at": now, "expires_at": now + self.ttl}
        try:
            with self.engine.begin() as conn:
                conn.execute(leases.insert().values(business_date=self.date, channel=self.channel, **values))
            return
        except IntegrityError:
            pass
        with self.engine.begin() as conn:
            taken = conn.execute(leases.update().where(
                self._where(), sa.or_(leases.c.expires_at < now, leases.c.holder == self.holder)
            ).values(**values)).rowcount
            if taken:
                return
            row = conn.execute(sa.select(leases.c.holder, leases.c.expires_at).where(self._where())).first()
        who, until = (row.holder, row.expires_at) if row else ("another run", now)
        if row and holder_is_dead(row.holder):
            with self.engine.begin() as conn:
                if conn.execute(leases.update().where(self._where(), leases.c.holder == row.holder)
                                .values(**values)).rowcount:
                    return
        when = on_screen(until, self.zone) if self.zone else f"{until:%Y-%m-%d %H:%M} UTC"
        raise Locked(f"{self.date} {self.channel} is locked by {who} until {when}",
                     hint="wait for it to finish, or for the lease to expire if that run died")

    def renew(self) -> None:
        """Extend the claim; `LeaseLost` if another run holds it now."""
        with self.engine.begin() as conn:
            kept = conn.execute(leases.update().where(self._where(), leases.c.holder == self.holder)
                                .values(expires_at=utcnow() + self.ttl)).rowcount
            if kept:
                return
            row = conn.execute(sa.select(leases.c.holder).where(self._where())).first()
        raise LeaseLost(f"{self.date} {self.channel}: this run's lease was taken over by "
                        f"{row.holder if row else 'nobody (released)'}; stopped before writing",
                        hint="nothing: the run holding it now finishes the day")

    def release(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(leases.delete().where(self._where(), leases.c.holder == self.holder))


class Heartbeat:
    """Renews leases from a thread while the main thread works; `check()` raises once one is lost."""

    def __init__(self, held: list[Lease], interval: float) -> None:
        self.held, self.interval = held, interval
        self.lost: LeaseLost | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                for lease in self.held:
                    lease.renew()
            except LeaseLost as exc:
                self.lost = exc
                return
            except sa.exc.SQLAlchemyError as exc:  # a busy store: the next beat tries again
                LOG.warning("lease renewal failed, retrying: %s", exc)

    def check(self) -> None:
        if self.lost is not None:
            raise self.lost
        for lease in self.held:
            lease.renew()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def hold(engine: Engine, date: dt.date, channels: list[str], *, ttl: dt.timedelta = DEFAULT_TTL,
         zone: ZoneInfo | None = None) -> Iterator[list[Lease]]:
    """Take the leases of every (date, channel) or none: a partial set is released before raising.

    While held, a heartbeat renews them and every atomic write in this thread checks them first."""
    holder = holder_id()
    taken: list[Lease] = []
    try:
        for channel in channels:
            lease = Lease(engine, date, channel, holder, ttl, zone)
            lease.acquire()
            taken.append(lease)
        with Heartbeat(taken, max(ttl.total_seconds() / 3, 0.05)) as beat, guarded_writes(beat.check):
            yield taken
    finally:
        for lease in reversed(taken):
            lease.release()
