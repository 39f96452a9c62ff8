"""From a queue item to what we ask the channel, and to what each side of the item says happened.

A layer-1 item carries both sides' rows in its detail (recon.queue.sources): our record and the
channel's bill line, either of which may be absent. The query asks about the order by the ids
either side knows; its answer is then compared with each side as a `View`: paid (with what
amount), not paid, or undetermined. A side that is absent says "no such payment": a bill without
the line says the channel has no payment, our books without the record say we have none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from jobs.requery.model import Target
from recon.money import MoneyError, parse_amount


@dataclass(frozen=True, slots=True)
class View:
    """What one source says about the money: paid (True), not paid (False) or not clear (None)."""

    paid: bool | None
    amount: Decimal | None = None  # a magnitude: refunds are compared by size
    currency: str | None = None

    def agrees(self, other: View) -> bool:
        if self.paid is None or other.paid is None or self.paid != other.paid:
            return False
        if not self.paid:
            return True
        return (self.amount is not None and self.amount == other.amount
                and (self.currency is None or other.currency is None or self.currency == other.currency))


NOT_PAID = View(False)


def _side(sides: dict, name: str) -> dict:
    side = sides.get(name)
    return side if isinstance(side, dict) else {}


def _time(text: object) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _amount(text: object) -> Decimal | None:
    try:
        return abs(parse_amount(str(text))) if text is not None else None
    except MoneyError:
        return None


def view(side: dict) -> View:
    if not side:
        return NOT_PAID
    status = side.get("status")
    if status == "SUCCESS":
        return View(True, _amount(side.get("amount")), side.get("currency"))
    return NOT_PAID if status == "FAILED" else View(None)


def views(item) -> tuple[View, View]:  # item: recon.queue.store.Item
    """(ours, theirs) of a layer-1 item."""
    sides = item.sides()
    return view(_side(sides, "ours")), view(_side(sides, "theirs"))


def target_of(item) -> Target:
    sides = item.sides()
    ours, theirs = _side(sides, "ours"), _side(sides, "theirs")

    def first(*names: str) -> str | None:
        for side in (ours, theirs):
            for name in names:
                if side.get(name):
                    return str(side[name])
        return None

    refund = "REFUND" in (ours.get("record_type"), theirs.get("record_type"))
    times = [t for t in (_time(ours.get("trade_time")), _time(theirs.get("trade_time"))) if t is not None]
    return Target(
        item_id=item.id, channel=item.channel, account=item.account, refund=refund,
        merchant_txn_id=first("merchant_txn_id"), channel_txn_id=first("channel_txn_id"),
        merchant_refund_id=first("merchant_refund_id"), channel_refund_id=first("channel_refund_id"),
        currency=item.currency, paid_at=max(times) if times else None)
