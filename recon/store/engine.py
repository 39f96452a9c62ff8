"""Opening the store: one engine per URL, with the settings each backend needs for correctness.

SQLite gets WAL (readers do not block the writer), a busy timeout (concurrent cron runs wait instead
of failing at once) and enforced foreign keys. Schema creation and upgrades go through
`recon.store.schema.ensure_schema`.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine, create_engine, event


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
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
    from recon.store.schema import ensure_schema

    engine = engine_for(url)
    ensure_schema(engine)
    return engine
