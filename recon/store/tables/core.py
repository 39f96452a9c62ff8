"""The payment core's tables, declared on the store's one `metadata` (alembic branch `core`).

Correctness lives in the schema, not in the code that happens to call it:
- idempotency is a unique index: one transaction per (merchant, record type, request number), one
  payment per our serial `merchant_txn_id`, one refund per our refund serial;
- a transaction's state only moves by a conditional UPDATE on (`state`, `version`), so two racing
  writers cannot both move it (FAULTS.md E10);
- the journal is *transfers*, TigerBeetle-style: each posting debits one account and credits
  another with one positive amount, so an unbalanced entry cannot be written at all (E9); entries
  and postings are append-only (database triggers from revision core_0002), and a correction is a
  new entry that reverses an old one;
- money is `ExactDecimal` (E5); instants are `UtcDateTime`, stored as UTC on both backends so the
  business-day window compares correctly even on SQLite, which has no time zones.
Revisions in recon/store/migrations/versions/core_*.py create exactly these tables.
"""

from __future__ import annotations

import sqlalchemy as sa

from recon.store.metadata import metadata
from recon.store.types import BigId, ExactDecimal, UtcDateTime

sequences = sa.Table(
    "core_sequence", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("next_value", sa.BigInteger, nullable=False),
)

txns = sa.Table(
    "core_txn", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("txn_id", sa.String(40), nullable=False, unique=True),
    sa.Column("record_type", sa.String(16), nullable=False),  # PAYMENT | REFUND
    sa.Column("merchant_id", sa.String(64), nullable=False),
    sa.Column("request_no", sa.String(128), nullable=False),  # the caller's idempotency key
    sa.Column("merchant_order_no", sa.String(128)),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("merchant_txn_id", sa.String(64), nullable=False),
    sa.Column("channel_txn_id", sa.String(128)),
    sa.Column("merchant_refund_id", sa.String(64), unique=True),
    sa.Column("original_txn_id", sa.String(40)),
    sa.Column("trade_time", UtcDateTime, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount", ExactDecimal(), nullable=False),  # signed: refunds are negative
    sa.Column("fee", ExactDecimal(), nullable=False),
    sa.Column("refunded", ExactDecimal(), nullable=False),  # payments: held by live refunds
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("payload_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("merchant_id", "record_type", "request_no"),
    sa.Index("ix_core_txn_channel_trade_time", "channel", "trade_time"),
    sa.Index("uq_core_txn_payment_serial", "merchant_txn_id", unique=True,
             sqlite_where=sa.text("record_type = 'PAYMENT'"),
             postgresql_where=sa.text("record_type = 'PAYMENT'")),
)

transitions = sa.Table(
    "core_transition", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("txn_id", sa.String(40), nullable=False, index=True),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("from_state", sa.String(16)),
    sa.Column("to_state", sa.String(16), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("detail", sa.String(200)),
)

entries = sa.Table(
    "core_entry", metadata,
    sa.Column("entry_key", sa.String(200), primary_key=True),  # deterministic: EVENT:txn_id
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("txn_id", sa.String(40), index=True),
    sa.Column("business_date", sa.Date),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("posted_at", UtcDateTime, nullable=False),
    sa.Column("reverses", sa.String(200), sa.ForeignKey("core_entry.entry_key"), unique=True),
    sa.Column("memo", sa.String(500)),
)

postings = sa.Table(
    "core_posting", metadata,
    sa.Column("entry_key", sa.String(200), sa.ForeignKey("core_entry.entry_key"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("debit_account", sa.String(200), nullable=False, index=True),
    sa.Column("credit_account", sa.String(200), nullable=False, index=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount", ExactDecimal(), nullable=False),  # always > 0; checked before insert
    sa.CheckConstraint("debit_account <> credit_account", name="two_accounts"),
)
