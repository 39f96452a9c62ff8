"""queue 0002: on PostgreSQL the queue's history refuses TRUNCATE too.

queue_0001's row triggers refuse UPDATE and DELETE on `queue_events`; TRUNCATE fires no row
trigger, so a statement trigger `BEFORE TRUNCATE` refuses it (the same function as core_0003's,
created by whichever revision runs first). SQLite has no TRUNCATE.

Revision ID: queue_0002
Revises: queue_0001
"""

from __future__ import annotations

from alembic import op

revision = "queue_0002"
down_revision = "queue_0001"
branch_labels = None
depends_on = None

FUNCTION = """
    CREATE OR REPLACE FUNCTION recon_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '% is append-only: TRUNCATE is refused', TG_TABLE_NAME; END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute("CREATE TRIGGER queue_events_no_truncate BEFORE TRUNCATE ON queue_events "
               "FOR EACH STATEMENT EXECUTE FUNCTION recon_refuse_truncate()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER queue_events_no_truncate ON queue_events")
