"""Refunds: by our serial, never more than was paid minus earlier refunds, even under races.

A refund names its payment by our serial (`merchant_txn_id`, what the channel knows us by) and has
its own state machine (INIT -> PROCESSING -> SUCCEEDED / FAILED). Creating a refund *reserves* its
amount on the payment at once: the payment's `refunded` column holds every refund that has not
failed. The reservation is a conditional write on the payment's `version`, so two refunds racing on
one payment cannot both pass the check "refunded + this <= paid": the loser's UPDATE touches no row,
its transaction rolls back, and it re-reads and re-checks (FAULTS.md E10). A failed refund releases
its reservation the same way; a successful one posts the REFUND entries in the same transaction.

The business's refund request number is the idempotency key: the same request returns the first
refund, the same number with a different amount or payment is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Connection

from recon.clock import utcnow
from recon.config.ruleset import RuleSet
from recon.core import ids
from recon.core.errors import CoreError, NotFound, RefundExceedsPaid
from recon.core.idempotency import fingerprint, insert_once
from recon.core.machine import Moved, PayState, RefundState, record, transition
from recon.core.orders import Core, Txn, load, same_request
from recon.core.uow import unit_of_work
from recon.money import unit_problem
from recon.store.tables.core import txns


@dataclass(frozen=True, slots=True)
class RefundRequest:
    merchant_id: str
    refund_no: str  # the business's refund request number (idempotency key)
    merchant_txn_id: str  # our serial of the payment to refund
    amount: Decimal  # positive: how much to give back
    trade_time: dt.datetime | None = None


class _Raced(Exception):
    """Another writer moved the payment between our read and our conditional write: try again."""


def reserve(conn: Connection, payment: Txn, delta: Decimal) -> None:
    """Add `delta` (negative to release) to the payment's refunded total, if its version is unchanged."""
    version = conn.execute(sa.select(txns.c.version).where(txns.c.txn_id == payment.txn_id)).scalar_one()
    current = load(conn, txns.c.txn_id == payment.txn_id)
    assert current is not None
    new = current.refunded + delta
    if new > current.amount:
        raise RefundExceedsPaid(
            f"refund of {delta} {current.currency} on payment {current.merchant_txn_id} exceeds what is "
            f"refundable ({current.amount - current.refunded} of {current.amount} paid)")
    done = conn.execute(txns.update().where(txns.c.txn_id == payment.txn_id, txns.c.version == version)
                        .values(refunded=new, version=version + 1)).rowcount
    if done != 1:
        raise _Raced


def create_refund(core: Core, req: RefundRequest) -> Txn:
    if req.amount <= 0:
        raise CoreError(f"refund {req.refund_no}: amount must be positive, got {req.amount}")
    payment = core.by_serial(req.merchant_txn_id)
    if payment.merchant_id != req.merchant_id:
        raise NotFound(f"payment {req.merchant_txn_id} does not belong to merchant {req.merchant_id}")
    if finer := unit_problem(req.amount, payment.currency):
        raise CoreError(f"refund {req.refund_no}: {finer}")
    values = {"record_type": "REFUND", "merchant_id": req.merchant_id, "request_no": req.refund_no,
              "channel": payment.channel, "currency": payment.currency, "amount": -req.amount,
              "fee": Decimal(0), "original_txn_id": payment.txn_id}
    key = (txns.c.merchant_id == req.merchant_id, txns.c.record_type == "REFUND", txns.c.request_no == req.refund_no)
    when = req.trade_time or utcnow()
    refund_id = core.ids.next_id(when.astimezone(dt.timezone.utc).date(), ids.REFUND, req.merchant_id)
    for _ in range(200):
        try:
            with unit_of_work(core.engine) as uow:
                existing = load(uow.conn, *key)
                if existing is not None:
                    return same_request(existing, values)
                current = load(uow.conn, txns.c.txn_id == payment.txn_id)
                assert current is not None
                if current.state != PayState.PAID:
                    raise CoreError(f"payment {payment.merchant_txn_id} is {current.state}; only a PAID payment can be refunded")
                reserve(uow.conn, current, req.amount)
                new = insert_once(uow.conn, txns, dict(
                    **values, txn_id=refund_id, merchant_txn_id=payment.merchant_txn_id,
                    merchant_order_no=payment.merchant_order_no, channel_txn_id=payment.channel_txn_id,
                    merchant_refund_id=refund_id, trade_time=when, refunded=Decimal(0),
                    state=RefundState.INIT, version=1, payload_hash=fingerprint(values),
                    created_at=uow.now, updated_at=uow.now))
                if not new:  # a concurrent duplicate won the key: undo our reservation, compare
                    raise _Raced
                record(uow.conn, refund_id, "REFUND_CREATE", None, RefundState.INIT, now=uow.now)
            return core.get(refund_id)
        except _Raced:
            continue
    raise CoreError(f"refund {req.refund_no}: payment {req.merchant_txn_id} is too contended; retry later")


def start_refund(core: Core, txn_id: str) -> Moved:
    """INIT -> PROCESSING, committed before the refund is sent to the channel."""
    with unit_of_work(core.engine) as uow:
        return transition(uow.conn, txn_id, "REFUND_PROCESS", now=uow.now)


def apply_refund_result(core: Core, txn_id: str, code: str | None, rules: RuleSet, *,
                        field: str = "refund_status") -> Txn:
    """A refund is money going out: FAILED only on an explicit failure code, else UNKNOWN."""
    status = rules.status_of(field, code)
    if status == "UNKNOWN":
        return core.get(txn_id)
    for _ in range(200):
        try:
            with unit_of_work(core.engine) as uow:
                event = "REFUND_SUCCESS" if status == "SUCCESS" else "REFUND_FAIL"
                moved = transition(uow.conn, txn_id, event, now=uow.now, detail=f"code={code}")
                refund = load(uow.conn, txns.c.txn_id == txn_id)
                assert refund is not None and refund.original_txn_id is not None
                if moved.applied and moved.state == RefundState.FAILED:
                    payment = load(uow.conn, txns.c.txn_id == refund.original_txn_id)
                    assert payment is not None
                    reserve(uow.conn, payment, refund.amount)  # refund.amount < 0: releases it
                elif moved.applied:
                    core.book_in(uow, refund)
            return core.get(txn_id)
        except _Raced:
            continue
    raise CoreError(f"refund {txn_id}: payment too contended; retry later")
