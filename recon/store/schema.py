"""Creating and upgrading the store: alembic `upgrade heads`, run from code, one runner at a time.

Every area of recon (payment core, queue, run registry, fetch) keeps its own alembic branch in
recon/store/migrations/versions/ (`<area>_NNNN_<what>.py`, the first with `down_revision = None` and
`branch_labels = ("<area>",)`), so areas add tables without editing each other's revisions and
`upgrade heads` brings every branch — several bases, several heads — to its newest revision. A newer
recon thus upgrades an older recon.db or PostgreSQL schema in place, keeping its data.

Two processes starting on a fresh store at once (two cron runs) must not both create tables. On
PostgreSQL the upgrade holds a transaction-level advisory lock; on SQLite, an exclusive `flock` on a
file beside the database (the kernel releases it if the process dies). Inside the lock the current
revisions are read again, so the second runner finds the work done. Within one process the result
is remembered per engine, so calling `ensure_schema` before every command costs nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_ADVISORY_KEY = 0x7265636F6E  # "recon": the lock id every recon process agrees on
_done: set[str] = set()
_local = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    """A programmatic alembic Config (no alembic.ini needed); `connection` is used by env.py."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def script_heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_heads(conn: Connection) -> set[str]:
    return set(MigrationContext.configure(conn).get_current_heads())


def ensure_schema(engine: Engine) -> None:
    """Create or upgrade every table to the newest revision of every branch."""
    key = engine.url.render_as_string(hide_password=False)
    with _local:
        if key in _done:
            return
        # already current: no lock file, no write (a read-only workspace still answers `recon status`)
        with engine.connect() as conn:
            current = current_heads(conn) == script_heads()
        if not current:
            upgrade(engine, "heads")
        _done.add(key)


def forget(engine: Engine) -> None:
    """Drop the "already upgraded" memo of `engine` (its database is being replaced)."""
    with _local:
        _done.discard(engine.url.render_as_string(hide_password=False))


def upgrade(engine: Engine, target: str = "heads") -> None:
    """Upgrade to `target` (a revision, `core@head`, or `heads`) under the cross-process lock."""
    with _serialised(engine):
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
            if target == "heads" and current_heads(conn) == script_heads():
                return
            command.upgrade(alembic_config(conn), target)


@contextlib.contextmanager
def _serialised(engine: Engine) -> Iterator[None]:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate.lock")
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
