"""Payment orders: create once per merchant order, move by channel results, book when paid.

A payment keeps three identifiers together (DOMAIN.md): the business's `merchant_order_no`, our own
serial `merchant_txn_id` sent to the channel (a 32-character business id), and the channel's
`channel_txn_id` once the channel reports it. `Txn.ids` returns the three as one value.

Creation is idempotent on (merchant, order number): the same request again returns the first
result, the same order number with a different amount is refused (`IdempotencyConflict`). A
channel's result code is mapped through the channel's rule set (`RuleSet.status_of`): only an
explicit success marks the order PAID and posts its journal entries, in the same transaction; an
explicit failure marks it FAILED; anything else is UNKNOWN and leaves it PAYING for a later query.
Refunds live in recon/core/refunds.py; `Core` ties both to one engine, rule set and id generator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from recon.clock import utcnow
from recon.config.ruleset import RuleSet
from recon.core import ids
from recon.core.accounting import AccountingRules, Event
from recon.core.errors import CoreError, IdempotencyConflict, NotFound
from recon.core.idempotency import differences, fingerprint, insert_once
from recon.core.ledger import Posted, post
from recon.core.machine import MACHINES, Moved, PayState, record, transition
from recon.core.uow import UnitOfWork, unit_of_work
from recon.idtext import clean_id
from recon.money import MoneyError, iso_currency, unit_problem
from recon.store.tables.core import txns


@dataclass(frozen=True, slots=True)
class Txn:
    """One stored payment or refund, as the rest of recon sees it."""

    txn_id: str
    record_type: str
    merchant_id: str
    request_no: str
    merchant_order_no: str | None
    channel: str
    merchant_txn_id: str
    channel_txn_id: str | None
    merchant_refund_id: str | None
    original_txn_id: str | None
    trade_time: dt.datetime
    currency: str
    amount: Decimal
    fee: Decimal
    refunded: Decimal
    state: str

    @property
    def ids(self) -> tuple[str | None, str, str | None]:
        """(merchant_order_no, merchant_txn_id, channel_txn_id): the three names of a payment."""
        return self.merchant_order_no, self.merchant_txn_id, self.channel_txn_id

    @property
    def status(self) -> str:
        return MACHINES[self.record_type].status_of(self.state)

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.refunded if self.state == PayState.PAID else Decimal(0)


_TXN_FIELDS = tuple(f.name for f in fields(Txn))


def load(conn: Connection, *where: sa.ColumnElement[bool]) -> Txn | None:
    row = conn.execute(sa.select(*(txns.c[f] for f in _TXN_FIELDS)).where(*where)).one_or_none()
    return None if row is None else Txn(**row._mapping)


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    merchant_id: str
    merchant_order_no: str
    channel: str
    currency: str
    amount: Decimal
    trade_time: dt.datetime | None = None


class Core:
    """The payment core over one store. Methods open their own unit of work; `*_in` variants run
    inside the caller's (for composing several steps into one transaction)."""

    def __init__(self, engine: Engine, accounting: AccountingRules,
                 id_gen: ids.IdGenerator | None = None) -> None:
        self.engine = engine
        self.accounting = accounting
        self.ids = id_gen or ids.IdGenerator(engine)

    # --- reading ------------------------------------------------------------------------------
    def get(self, txn_id: str) -> Txn:
        with self.engine.connect() as conn:
            found = load(conn, txns.c.txn_id == txn_id)
        if found is None:
            raise NotFound(f"no transaction {txn_id}")
        return found

    def by_serial(self, merchant_txn_id: str) -> Txn:
        with self.engine.connect() as conn:
            found = load(conn, txns.c.merchant_txn_id == merchant_txn_id, txns.c.record_type == "PAYMENT")
        if found is None:
            raise NotFound(f"no payment with our serial {merchant_txn_id}")
        return found

    # --- creating -----------------------------------------------------------------------------
    def create_payment(self, req: PaymentRequest) -> Txn:
        """Record a payment order once per (merchant, order number); returns the first result."""
        if req.amount <= 0:
            raise CoreError(f"payment {req.merchant_order_no}: amount must be positive, got {req.amount}")
        try:
            currency = iso_currency(req.currency)
        except MoneyError as exc:
            raise CoreError(f"payment {req.merchant_order_no}: {exc}") from None
        if finer := unit_problem(req.amount, currency):
            raise CoreError(f"payment {req.merchant_order_no}: {finer}")
        merchant_id, order_no = clean_id(req.merchant_id), clean_id(req.merchant_order_no)  # no invisible chars
        if not merchant_id or not order_no:
            raise CoreError("payment: merchant_id and merchant_order_no must not be empty")
        values = {"record_type": "PAYMENT", "merchant_id": merchant_id, "request_no": order_no,
                  "channel": req.channel, "currency": currency, "amount": req.amount,
                  "fee": Decimal(0), "original_txn_id": None}
        when = req.trade_time or utcnow()
        txn_id = self.ids.next_id(when.astimezone(dt.timezone.utc).date(), ids.PAYMENT, merchant_id)
        return self.insert_once(values, txn_id=txn_id, merchant_txn_id=txn_id,
                                merchant_order_no=order_no, trade_time=when,
                                event="PAY_CREATE", state=PayState.INIT)

    def insert_once(self, values: dict, *, event: str, state: str, **row: object) -> Txn:
        """Insert a transaction unless its idempotency key exists; compare and return otherwise."""
        key = (txns.c.merchant_id == values["merchant_id"], txns.c.record_type == values["record_type"],
               txns.c.request_no == values["request_no"])
        with unit_of_work(self.engine) as uow:
            existing = load(uow.conn, *key)
            if existing is None:
                now = uow.now
                if insert_once(uow.conn, txns, dict(
                        **values, **row, refunded=Decimal(0), state=state, version=1,
                        payload_hash=fingerprint(values), created_at=now, updated_at=now)):
                    record(uow.conn, str(row["txn_id"]), event, None, state, now=now)
                existing = load(uow.conn, *key)
        if existing is None:
            raise CoreError(f"request {values['request_no']} collides with another transaction's serial")
        return same_request(existing, values)

    # --- moving -------------------------------------------------------------------------------
    def start_payment(self, txn_id: str) -> Moved:
        """INIT -> PAYING: committed *before* the channel is called, so a crash leaves it queryable."""
        with unit_of_work(self.engine) as uow:
            return transition(uow.conn, txn_id, "PAY_PROCESS", now=uow.now)

    def close_payment(self, txn_id: str) -> Moved:
        with unit_of_work(self.engine) as uow:
            return transition(uow.conn, txn_id, "PAY_CLOSE", now=uow.now)

    def apply_result(self, txn_id: str, code: str | None, rules: RuleSet, *, field: str = "trade_state",
                     channel_txn_id: str | None = None, fee: Decimal | None = None) -> Txn:
        """Apply a channel's answer for a PAYING payment; UNKNOWN changes nothing."""
        with unit_of_work(self.engine) as uow:
            self.apply_result_in(uow, txn_id, rules.status_of(field, code), code=code,
                                 channel_txn_id=channel_txn_id, fee=fee)
        return self.get(txn_id)

    def apply_result_in(self, uow: UnitOfWork, txn_id: str, status: str, *, code: str | None = None,
                        channel_txn_id: str | None = None, fee: Decimal | None = None) -> Moved | None:
        if status == "UNKNOWN":
            return None
        values: dict[str, object] = {}
        if channel_txn_id is not None:
            values["channel_txn_id"] = channel_txn_id
        if fee is not None:
            values["fee"] = fee
        event = "PAY_SUCCESS" if status == "SUCCESS" else "PAY_FAIL"
        moved = transition(uow.conn, txn_id, event, now=uow.now, detail=f"code={code}", values=values)
        if moved.applied and moved.state == PayState.PAID:
            txn = load(uow.conn, txns.c.txn_id == txn_id)
            assert txn is not None
            self.book_in(uow, txn)
        return moved

    # --- booking ------------------------------------------------------------------------------
    def book_in(self, uow: UnitOfWork, txn: Txn) -> list[Posted]:
        """Post every entry the accounting rules demand of a successful transaction."""
        out = []
        for event in self.accounting.demanded(txn.record_type):
            out.append(post(uow.conn, self.accounting, booking_event(event, txn), key=f"{event}:{txn.txn_id}",
                            now=uow.now, txn_id=txn.txn_id, business_date=txn.trade_time.date()))
        return out

    def post_event(self, event: Event, *, key: str, business_date: dt.date | None = None,
                   txn_id: str | None = None, memo: str | None = None) -> Posted:
        """Post a CLEAR / SETTLE / PAYOUT / ADJUST entry once per `key` (clearing, queue resolutions)."""
        with unit_of_work(self.engine) as uow:
            return post(uow.conn, self.accounting, event, key=key, now=uow.now, txn_id=txn_id,
                        business_date=business_date, memo=memo)


def booking_event(event: str, txn: Txn) -> Event:
    """The accounting event of a transaction: amounts as magnitudes (a refund's gross is |amount|)."""
    return Event(event=event, channel=txn.channel, merchant_id=txn.merchant_id, currency=txn.currency,
                 gross=abs(txn.amount), fee=txn.fee)


def same_request(existing: Txn, asked: dict) -> Txn:
    stored = {f: getattr(existing, f) for f in asked}
    diff = differences(stored, asked)
    if diff:
        raise IdempotencyConflict(f"{asked['merchant_id']}/{asked['request_no']}", diff)
    return existing

