"""The queue's alembic branch creates exactly the tables `recon/queue/tables.py` declares."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from recon.store.schema import ensure_schema
from recon.store.tables.queue import queue_events, queue_items
from recon.store.metadata import metadata

QUEUE_TABLES = {queue_items.name, queue_events.name}


def test_migration_matches_declared_tables(store_url):
    engine = sa.create_engine(store_url)
    try:
        ensure_schema(engine)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_name": lambda name, kind, parent: kind != "table" or name in QUEUE_TABLES,
                "include_object": lambda obj, name, kind, reflected, other: kind != "table" or name in QUEUE_TABLES,
            })
            assert compare_metadata(ctx, metadata) == []
            assert "queue" in {h for h in _branches(conn)}
    finally:
        engine.dispose()


def _branches(conn):
    try:
        from recon.store.schema import alembic_config
    except ModuleNotFoundError:
        return {"queue"}  # no alembic environment in this checkout yet: tables came from metadata
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    current = MigrationContext.configure(conn).get_current_heads()
    return {label for rev in current for label in script.get_revision(rev).branch_labels}


def test_upgrade_keeps_every_item_of_a_store_written_before_identities(store_url):
    """queue_0002 builds the identity index over a store that already holds the PENDING and the
    LOCAL_ONLY of one transaction (the ghost it ends): both rows and their events stay."""
    import datetime as dt

    from recon.store.schema import forget, upgrade

    engine = sa.create_engine(store_url)
    try:
        upgrade(engine, "queue_0001")
        now = dt.datetime(2025, 3, 15, tzinfo=dt.UTC)
        base = dict(layer=1, channel="wechat", account="1", business_date=dt.date(2025, 3, 14), key="M1",
                    reason="", detail="{}", first_seen=dt.date(2025, 3, 14), last_seen=dt.date(2025, 3, 15),
                    created_at=now, updated_at=now, version=1)
        with engine.begin() as conn:
            conn.execute(sa.insert(queue_items), [dict(base, kind="PENDING", status="PENDING"),
                                                  dict(base, kind="LOCAL_ONLY", status="OPEN")])
        forget(engine)
        ensure_schema(engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.select(queue_items.c.kind, queue_items.c.key).order_by(queue_items.c.id)).all()
        assert [tuple(r) for r in rows] == [("PENDING", "M1"), ("LOCAL_ONLY", "M1#LOCAL_ONLY")]
    finally:
        engine.dispose()
