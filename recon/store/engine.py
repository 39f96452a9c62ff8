"""Opening the store: one engine per URL, with the settings each backend needs for correctness.

SQLite gets WAL (readers do not block the writer), a busy timeout (concurrent cron runs wait instead
of failing at once) and enforced foreign keys. Schema creation and upgrades go through
`recon.store.schema.ensure_schema`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url

from recon.store.schema import ensure_schema, forget

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def engine_for(url: str) -> Engine:
    """One engine per URL for the process (connection pools are per engine)."""
    with _lock:
        if url not in _engines:
            _engines[url] = _create(url)
        return _engines[url]


def dispose_store(url: str) -> None:
    """Forget the engine of `url` (its database is about to be deleted or replaced)."""
    with _lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        forget(engine)
        engine.dispose()


def _read_only_file(url: str) -> str | None:
    """The path of a SQLite file on a read-only mount (WAL needs to write beside it), else None."""
    database = make_url(url).database if url.startswith("sqlite") else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    return str(path) if path.exists() and not os.access(path.parent, os.W_OK) else None


def _create(url: str) -> Engine:
    if (frozen := _read_only_file(url)) is not None:
        # read-only workspace: `recon status` and friends still read it; any write fails at once,
        # one line (jobs.pipeline turns it into exit 4) instead of a traceback
        return create_engine(f"sqlite:///file:{frozen}?mode=ro&immutable=1&uri=true")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001 - DBAPI objects
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def open_store(url: str) -> Engine:
    """The engine for `url` with every table created or upgraded (cheap after the first call)."""
    engine = engine_for(url)
    ensure_schema(engine)
    return engine
