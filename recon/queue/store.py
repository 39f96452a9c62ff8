"""Opening the queue's store and reading items back as frozen records.

The schema is created through `recon.store.schema.ensure_schema` (alembic, every area's branch);
until that module exists in a checkout the queue's own tables are created directly, so the queue
works on a fresh workspace either way. Reads return `Item` records with Decimal money and the
derived fields people sort by (age, aging bucket, severity).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from recon.config.settings import QueueSettings
from recon.money import plain
from recon.queue.severity import aging_bucket, severity
from recon.redact import mask_pans
from recon.store.engine import open_store
from recon.store.tables.queue import State, queue_events, queue_items
from recon.workspace import Workspace


# What an item's `diff` is the difference of (their - ours): the amount, or the fee for a fee mismatch.
_DIFF_OF = {"FEE_MISMATCH": "fee", "STATUS_MISMATCH": "status"}
IN_LIST = 500  # ids per IN list: within every backend's limits


def queue_engine(ws: Workspace) -> Engine:
    """The workspace's store, every table created or upgraded."""
    return open_store(ws.store_url())


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    layer: int
    kind: str
    channel: str
    account: str
    business_date: dt.date
    key: str
    status: str
    currency: str | None
    our_amount: Decimal | None
    their_amount: Decimal | None
    diff: Decimal | None
    reason: str
    assignee: str | None
    resolution: str | None
    version: int
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    detail: str
    our_fee: Decimal | None
    their_fee: Decimal | None
    our_status: str | None
    their_status: str | None
    age_days: int
    aging_bucket: str
    severity: str

    @property
    def at_stake(self) -> Decimal:
        """The money a person should weigh: the difference, or the one side that exists."""
        for value in (self.diff, self.their_amount, self.our_amount):
            if value is not None:
                return abs(value)
        return Decimal(0)

    @property
    def diff_text(self) -> str:
        """The diff a person reads: the statuses of a STATUS_MISMATCH, else the money (the fee
        difference of a FEE_MISMATCH) at the currency's exponent."""
        if self.kind == "STATUS_MISMATCH" and (self.our_status or self.their_status):
            return f"{self.our_status or '-'} / {self.their_status or '-'}"
        text = plain(self.diff, self.currency)
        return "" if text is None else format(Decimal(text), ",f")

    def sides(self) -> dict[str, Any]:
        return json.loads(self.detail or "{}")

    def as_json(self) -> dict[str, Any]:
        """The `recon queue list --json` item (DESIGN.md): amounts as strings, never floats."""
        money = lambda v: plain(v, self.currency)  # noqa: E731 - at the currency's exponent
        return {
            "id": self.id, "layer": self.layer, "kind": self.kind, "channel": self.channel,
            "account": self.account, "business_date": self.business_date.isoformat(),
            "status": self.status, "key": self.key, "currency": self.currency,
            "our_amount": money(self.our_amount), "their_amount": money(self.their_amount),
            "diff": money(self.diff), "diff_of": _DIFF_OF.get(self.kind, "amount"),
            "our_fee": money(self.our_fee), "their_fee": money(self.their_fee),
            "our_status": self.our_status, "their_status": self.their_status, "age_days": self.age_days, "aging_bucket": self.aging_bucket,
            "severity": self.severity, "assignee": self.assignee, "resolution": self.resolution,
            # Free text from a statement: a card number in it is masked here as in every report.
            "reason": mask_pans(self.reason) if self.reason else self.reason, "version": self.version,
            "updated_at": self.updated_at.isoformat(),
        }


_DERIVED = ("age_days", "aging_bucket", "severity")  # Item's last fields: computed, not stored
_STORED = tuple(f.name for f in fields(Item) if f.name not in _DERIVED)


def to_item(row, thresholds: QueueSettings, today: dt.date) -> Item:
    # By name through the row's mapping: a Row's attribute costs ten times as much (SQLAlchemy 2.x),
    # which at 26 columns was most of reading a 10M-line day's ~50k items.
    m = row._mapping
    closed = m["closed_at"]
    # A closed item stops ageing on the day it was closed.
    until = closed.date() if closed is not None and State(m["status"]).closed else today
    age = max((until - m["business_date"]).days, 0)
    stake = next((abs(v) for v in (m["diff"], m["their_amount"], m["our_amount"]) if v is not None), Decimal(0))
    return Item(*[m[name] for name in _STORED], age_days=age, aging_bucket=aging_bucket(age),
                severity=severity(stake, age, thresholds))


def get_item(conn, item_id: int, thresholds: QueueSettings, today: dt.date) -> Item | None:
    row = conn.execute(select(queue_items).where(queue_items.c.id == item_id)).first()
    return None if row is None else to_item(row, thresholds, today)


def history(conn, item_id: int) -> list[dict[str, Any]]:
    return histories(conn, (item_id,)).get(item_id, [])


def histories(conn, item_ids) -> dict[int, list[dict[str, Any]]]:
    """Each item's events, oldest first (one query for many items)."""
    out: dict[int, list[dict[str, Any]]] = {}
    ids = sorted(set(item_ids))
    for start in range(0, len(ids), IN_LIST):
        rows = conn.execute(select(queue_events).where(queue_events.c.item_id.in_(ids[start:start + IN_LIST]))
                            .order_by(queue_events.c.id)).all()
        for r in rows:
            out.setdefault(r.item_id, []).append(
                {"at": r.at.isoformat(), "actor": r.actor, "action": r.action,
                 "from_state": r.from_state, "to_state": r.to_state, "note": mask_pans(r.note) if r.note else r.note,
                 "data": json.loads(r.data or "{}")})
    return out
