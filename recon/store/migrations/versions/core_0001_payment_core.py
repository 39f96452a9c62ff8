"""core 0001: the payment core's tables (sequences, transactions, transitions, journal).

Written out column by column rather than from `metadata`, so this revision creates today's tables
even after recon/core/tables.py has moved on; later changes are later revisions.

Revision ID: core_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from recon.store.types import BigId, ExactDecimal, UtcDateTime

revision = "core_0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_sequence",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("next_value", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_core_sequence"),
    )
    op.create_table(
        "core_txn",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("txn_id", sa.String(40), nullable=False),
        sa.Column("record_type", sa.String(16), nullable=False),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("request_no", sa.String(128), nullable=False),
        sa.Column("merchant_order_no", sa.String(128)),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("merchant_txn_id", sa.String(64), nullable=False),
        sa.Column("channel_txn_id", sa.String(128)),
        sa.Column("merchant_refund_id", sa.String(64)),
        sa.Column("original_txn_id", sa.String(40)),
        sa.Column("trade_time", UtcDateTime, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("fee", ExactDecimal(), nullable=False),
        sa.Column("refunded", ExactDecimal(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("payload_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_core_txn"),
        sa.UniqueConstraint("txn_id", name="uq_core_txn_txn_id"),
        sa.UniqueConstraint("merchant_refund_id", name="uq_core_txn_merchant_refund_id"),
        sa.UniqueConstraint("merchant_id", "record_type", "request_no",
                            name="uq_core_txn_merchant_id_record_type_request_no"),
    )
    op.create_index("ix_core_txn_channel_trade_time", "core_txn", ["channel", "trade_time"])
    op.create_index("ix_core_txn_original_txn_id", "core_txn", ["original_txn_id"])
    op.create_index("uq_core_txn_payment_serial", "core_txn", ["merchant_txn_id"], unique=True,
                    sqlite_where=sa.text("record_type = 'PAYMENT'"),
                    postgresql_where=sa.text("record_type = 'PAYMENT'"))
    op.create_table(
        "core_transition",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("txn_id", sa.String(40), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("detail", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_core_transition"),
    )
    op.create_index("ix_core_transition_txn_id", "core_transition", ["txn_id"])
    op.create_table(
        "core_entry",
        sa.Column("entry_key", sa.String(200), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("txn_id", sa.String(40)),
        sa.Column("business_date", sa.Date),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("posted_at", UtcDateTime, nullable=False),
        sa.Column("reverses", sa.String(200)),
        sa.Column("memo", sa.String(500)),
        sa.PrimaryKeyConstraint("entry_key", name="pk_core_entry"),
        sa.UniqueConstraint("reverses", name="uq_core_entry_reverses"),
        sa.ForeignKeyConstraint(["reverses"], ["core_entry.entry_key"], name="fk_core_entry_reverses_core_entry"),
    )
    op.create_index("ix_core_entry_txn_id", "core_entry", ["txn_id"])
    op.create_table(
        "core_posting",
        sa.Column("entry_key", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("debit_account", sa.String(200), nullable=False),
        sa.Column("credit_account", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.PrimaryKeyConstraint("entry_key", "seq", name="pk_core_posting"),
        sa.ForeignKeyConstraint(["entry_key"], ["core_entry.entry_key"], name="fk_core_posting_entry_key_core_entry"),
        sa.CheckConstraint("debit_account <> credit_account", name="ck_core_posting_two_accounts"),
    )
    op.create_index("ix_core_posting_debit_account", "core_posting", ["debit_account"])
    op.create_index("ix_core_posting_credit_account", "core_posting", ["credit_account"])


def downgrade() -> None:
    for table in ("core_posting", "core_entry", "core_transition", "core_txn", "core_sequence"):
        op.drop_table(table)
