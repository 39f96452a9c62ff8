"""Queue tables: one row per discrepancy (`queue_items`) and its append-only history (`queue_events`).

An item is identified by what it is about (layer, channel, account, business date or period, key),
not by its kind, which changes as the problem does (a PENDING ageing into LOCAL_ONLY): the unique
index on that identity is what makes a re-run of a day, or a later day, update items instead of
duplicating them (DOMAIN.md: idempotency lives in a database unique index). `version` grows by one on every change,
so an exported workbook can tell whether a row changed since it was exported.

`queue_events` is the audit trail. The application only ever inserts into it, and database triggers
refuse UPDATE and DELETE on both SQLite and PostgreSQL, so the history cannot be edited even by a
bug or a hand-written SQL statement through the app's connection.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    DDL,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)

from recon.store.metadata import metadata
from recon.store.types import ExactDecimal, UtcDateTime


class State(StrEnum):
    OPEN = "OPEN"
    PENDING = "PENDING"
    RESOLVED = "RESOLVED"
    WRITTEN_OFF = "WRITTEN_OFF"
    AUTO_RESOLVED = "AUTO_RESOLVED"

    @property
    def closed(self) -> bool:
        return self in (State.RESOLVED, State.WRITTEN_OFF, State.AUTO_RESOLVED)


ACTIVE_STATES = (State.OPEN.value, State.PENDING.value)


class Resolution(StrEnum):
    """How a person (or the system) closed an item; stored on the item and in its events."""

    ACCEPT_CHANNEL = "accept_channel"  # 以渠道为准: post an adjustment to our ledger
    ACCEPT_OURS = "accept_ours"  # 以平台为准: our figures stand, the item is annotated
    WRITE_OFF = "write_off"  # booked to a named account with a reason
    FORCE_MATCH = "force_match"  # a person pairs two items the matcher could not
    AUTO = "auto"  # no longer reported by a later run or day


queue_items = Table(
    "queue_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("layer", SmallInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("account", String(64), nullable=False, default=""),
    Column("business_date", Date, nullable=False),
    Column("key", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("currency", String(3)),
    Column("our_amount", ExactDecimal()),
    Column("their_amount", ExactDecimal()),
    Column("diff", ExactDecimal()),
    Column("our_fee", ExactDecimal()),
    Column("their_fee", ExactDecimal()),
    Column("our_status", String(16)),
    Column("their_status", String(16)),
    Column("reason", Text, nullable=False, default=""),
    # JSON text: both sides' rows (with source file and line) as last reported.
    Column("detail", Text, nullable=False, default="{}"),
    Column("assignee", String(64)),
    Column("resolution", String(32)),
    Column("write_off_account", String(64)),
    Column("matched_with", Integer),
    Column("first_seen", Date, nullable=False),  # results date the item first appeared in
    Column("last_seen", Date, nullable=False),  # results date that last reported it
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    Column("version", Integer, nullable=False, default=1),
    UniqueConstraint("layer", "kind", "channel", "account", "business_date", "key"),
    # One real-world problem, one item, whatever its kind becomes (PENDING -> LOCAL_ONLY in place).
    Index("ix_queue_items_identity", "layer", "channel", "account", "business_date", "key", unique=True),
    Index("ix_queue_items_status_date", "status", "business_date"),
    Index("ix_queue_items_last_seen", "last_seen", "layer"),
)

queue_events = Table(
    "queue_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("queue_items.id"), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("data", Text, nullable=False, default="{}"),  # JSON: what changed, adjustment lines
    # Set by a workbook import: "<item>@v<version>:<action>", so re-importing is a no-op.
    Column("ref", String(128), index=True),
)

# --- append-only guarantee -------------------------------------------------------------------
SQLITE_TRIGGERS = tuple(
    f"CREATE TRIGGER IF NOT EXISTS queue_events_no_{op.lower()} BEFORE {op} ON queue_events "
    f"BEGIN SELECT RAISE(ABORT, 'queue_events is append-only'); END"
    for op in ("UPDATE", "DELETE")
)
PG_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION queue_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'queue_events is append-only'; END $$",
    "CREATE TRIGGER queue_events_append_only BEFORE UPDATE OR DELETE ON queue_events "
    "FOR EACH ROW EXECUTE FUNCTION queue_events_append_only()",
)

for _sql in SQLITE_TRIGGERS:
    event.listen(queue_events, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
for _sql in PG_TRIGGERS:
    event.listen(queue_events, "after_create", DDL(_sql).execute_if(dialect="postgresql"))
