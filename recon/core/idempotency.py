"""Idempotency by unique index: insert-once, then compare what is stored with what was asked.

A retried request, a duplicated callback, an import run twice must change nothing (DOMAIN.md). The
guarantee is the database's unique index, never a cache or a lock: every write that must happen
once is an `INSERT ... ON CONFLICT DO NOTHING` on its natural key, on SQLite and PostgreSQL alike.
What the insert did not write is read back and compared by a *fingerprint* of the payload: equal
means "already done, here is the first result"; different means a conflicting duplicate (same key,
different amount), which is refused and reported, never silently kept or overwritten.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from recon.money import MONEY_SCALE, context

_SCALE = Decimal(1).scaleb(-MONEY_SCALE)

# The fields a request's fingerprint covers: what the request *asks for*, not what happened later.
PAYLOAD_FIELDS = ("record_type", "merchant_id", "request_no", "channel", "currency", "amount", "fee",
                  "original_txn_id")


def fingerprint(values: Mapping[str, object]) -> str:
    """sha256 over the canonical text of the payload fields (Decimals in plain notation)."""
    parts = []
    for name in PAYLOAD_FIELDS:
        value = values.get(name)
        if isinstance(value, Decimal):  # 10.00 and 10.000000 are the same request
            value = format(value.quantize(_SCALE, context=context()), "f")
        parts.append(f"{name}={'' if value is None else value}")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def differences(stored: Mapping[str, object], asked: Mapping[str, object]) -> dict[str, tuple[object, object]]:
    """The payload fields on which a stored row and a new request disagree."""
    return {f: (stored.get(f), asked.get(f)) for f in PAYLOAD_FIELDS
            if f in asked and stored.get(f) != asked.get(f)}


def insert_ignore(conn: Connection, table: sa.Table):
    """`INSERT ... ON CONFLICT DO NOTHING` for this connection's backend (any unique key)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def insert_once(conn: Connection, table: sa.Table, values: Mapping[str, object]) -> bool:
    """Insert one row unless a unique key already holds it; True if this call wrote it.

    RETURNING tells what was written on both backends (psycopg reports no rowcount for INSERT).
    """
    key = next(iter(table.primary_key.columns))
    stmt = insert_ignore(conn, table).values(**values).returning(key)
    return conn.execute(stmt).first() is not None
