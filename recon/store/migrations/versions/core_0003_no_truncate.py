"""core 0003: on PostgreSQL the ledger refuses TRUNCATE too (queue_0002 does the queue's history).

Row triggers (core_0002, queue_0001) refuse UPDATE and DELETE, but PostgreSQL's TRUNCATE fires no
row trigger: one statement emptied every journal posting and the whole audit trail. A statement
trigger `BEFORE TRUNCATE` refuses it on `core_entry` and `core_posting`. (SQLite has no TRUNCATE;
its `DELETE FROM t` is a DELETE, already refused.)

Revision ID: core_0003
Revises: core_0002
"""

from __future__ import annotations

from alembic import op

revision = "core_0003"
down_revision = "core_0002"
branch_labels = None
depends_on = None

TABLES = ("core_entry", "core_posting")
FUNCTION = """
    CREATE OR REPLACE FUNCTION recon_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '% is append-only: TRUNCATE is refused', TG_TABLE_NAME; END $$"""


def refuse_truncate(tables: tuple[str, ...]) -> None:
    """Create (or keep) the shared function and one statement trigger per table."""
    op.execute(FUNCTION)
    for table in tables:
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION recon_refuse_truncate()")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    refuse_truncate(TABLES)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
