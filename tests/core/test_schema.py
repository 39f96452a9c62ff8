"""Store migrations: several branches upgrade together, old stores upgrade in place, first runs race."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from recon.core.orders import Core, PaymentRequest
from tests.builtin_rules import builtin_accounting
from recon.store import schema
from recon.store.metadata import metadata
from recon.store.tables.core import entries, postings, sequences, transitions, txns


def test_upgrade_from_the_first_revision_keeps_data(store_url):
    engine = sa.create_engine(store_url)
    schema.upgrade(engine, "core_0001")
    core = Core(engine, builtin_accounting())
    paid = core.create_payment(PaymentRequest("m1", "o-1", "wechat", "CNY", Decimal("10.01"),
                                              dt.datetime(2024, 3, 1, 8, tzinfo=dt.timezone.utc)))
    schema.upgrade(engine, "heads")
    with engine.connect() as conn:
        assert schema.current_heads(conn) == schema.script_heads()
    again = core.get(paid.txn_id)
    assert again == paid and again.amount == Decimal("10.01")
    engine.dispose()


def test_the_journal_refuses_edits_after_upgrade(engine, core, rules):
    p = core.create_payment(PaymentRequest("m1", "o-1", "wechat", "CNY", Decimal("5")))
    core.start_payment(p.txn_id)
    core.apply_result(p.txn_id, "SUCCESS", rules)
    for statement in ("UPDATE core_posting SET amount = '1'", "DELETE FROM core_entry"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(sa.text(statement))


def test_concurrent_first_runs_do_not_collide(store_url):
    # Separate engines, as separate processes would have; the lock makes one migrate, others wait.
    engines = [sa.create_engine(store_url) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda e: schema.upgrade(e, "heads"), engines))
    with engines[0].connect() as conn:
        assert schema.current_heads(conn) == schema.script_heads()
        assert "core_txn" in sa.inspect(conn).get_table_names()
    for e in engines:
        e.dispose()


def test_every_area_has_its_own_branch():
    script = schema.ScriptDirectory.from_config(schema.alembic_config())
    for base in script.get_bases():
        rev = script.get_revision(base)
        area = rev.revision.split("_")[0]
        assert rev.branch_labels == {area}, f"{rev.revision} must carry branch_labels = ('{area}',)"


@pytest.mark.parametrize("table", ["core_entry", "core_posting", "queue_events"])
def test_truncate_is_refused_on_postgresql(pg_url, table):
    """TRUNCATE fires no row trigger: a statement trigger refuses it (issue 18, defect 9)."""
    engine = sa.create_engine(pg_url)
    schema.upgrade(engine, "heads")
    with pytest.raises(sa.exc.DatabaseError):  # refused (core_entry: also by its foreign key)
        with engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {table}"))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {table} CASCADE"))
    engine.dispose()


def test_truncate_cannot_empty_a_posted_ledger(engine, core, rules):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (DELETE FROM is refused by the row triggers)")
    p = core.create_payment(PaymentRequest("m1", "o-1", "wechat", "CNY", Decimal("5")))
    core.start_payment(p.txn_id)
    core.apply_result(p.txn_id, "SUCCESS", rules)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE core_entry, core_posting, queue_events CASCADE"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM core_posting")).scalar() > 0


def test_core_migrations_create_exactly_the_declared_tables(store_url):
    # core_0004 dropped the unread ix_core_txn_original_txn_id; the revisions and
    # recon/store/tables/core.py must still describe the same tables, indexes and constraints
    engine = sa.create_engine(store_url)
    core_tables = {t.name for t in (txns, transitions, entries, postings, sequences)}
    try:
        schema.upgrade(engine, "heads")
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_name": lambda name, kind, parent: kind != "table" or name in core_tables,
                "include_object": lambda obj, name, kind, reflected, other: kind != "table" or name in core_tables,
            })
            assert compare_metadata(ctx, metadata) == []
            assert "ix_core_txn_original_txn_id" not in {i["name"] for i in sa.inspect(conn).get_indexes("core_txn")}
    finally:
        engine.dispose()
