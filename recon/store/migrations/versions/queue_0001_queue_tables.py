"""queue: discrepancy items and their append-only event log.

Revision ID: queue_0001
Revises:
Create Date: 2025-01-01

The tables mirror `recon/queue/tables.py`; the triggers make `queue_events` append-only on both
SQLite and PostgreSQL (an UPDATE or DELETE raises).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from recon.store.tables.queue import PG_TRIGGERS, SQLITE_TRIGGERS
from recon.store.types import ExactDecimal

revision = "queue_0001"
down_revision = None
branch_labels = ("queue",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("layer", sa.SmallInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3)),
        sa.Column("our_amount", ExactDecimal()),
        sa.Column("their_amount", ExactDecimal()),
        sa.Column("diff", ExactDecimal()),
        sa.Column("our_fee", ExactDecimal()),
        sa.Column("their_fee", ExactDecimal()),
        sa.Column("our_status", sa.String(16)),
        sa.Column("their_status", sa.String(16)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("assignee", sa.String(64)),
        sa.Column("resolution", sa.String(32)),
        sa.Column("write_off_account", sa.String(64)),
        sa.Column("matched_with", sa.Integer),
        sa.Column("first_seen", sa.Date, nullable=False),
        sa.Column("last_seen", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_items")),
        sa.UniqueConstraint("layer", "kind", "channel", "account", "business_date", "key",
                            name=op.f("uq_queue_items_layer_kind_channel_account_business_date_key")),
    )
    op.create_index("ix_queue_items_status_date", "queue_items", ["status", "business_date"])
    op.create_index("ix_queue_items_last_seen", "queue_items", ["last_seen", "layer"])
    op.create_table(
        "queue_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("ref", sa.String(128)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_events")),
        sa.ForeignKeyConstraint(["item_id"], ["queue_items.id"],
                                name=op.f("fk_queue_events_item_id_queue_items")),
    )
    op.create_index("ix_queue_events_item_id", "queue_events", ["item_id"])
    op.create_index("ix_queue_events_ref", "queue_events", ["ref"])
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else PG_TRIGGERS if dialect == "postgresql" else ():
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("queue_events")  # drops its triggers with it
    op.drop_table("queue_items")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS queue_events_append_only()")
