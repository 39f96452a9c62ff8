"""Store migrations: several branches upgrade together, old stores upgrade in place, first runs race."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recon.core.orders import Core, PaymentRequest
from tests.builtin_rules import builtin_accounting
from recon.store import schema


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
