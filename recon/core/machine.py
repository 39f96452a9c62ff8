"""Order state machines as transition tables, and the conditional write that applies them.

An order's life is a table of (state, event) -> next state, not if/else scattered through the code
(seeds/002 section 2): the table is the whole truth, an event it does not list is refused with the
state and the event named, and payment and refund each have their own machine (a payment machine
that also knows refunds becomes unreadable).

A transition is written as `UPDATE ... WHERE txn_id = ? AND state = expected AND version = v`: if a
concurrent writer moved the order first, our UPDATE touches no row and we re-read instead of
overwriting (optimistic locking, FAULTS.md E10). Every applied transition is appended to
`core_transition`, so the history of an order is data, not a log line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import Connection

from recon.core.errors import IllegalTransition, NotFound
from recon.store.tables.core import transitions, txns


class PayState(StrEnum):
    INIT = "INIT"
    PAYING = "PAYING"
    PAID = "PAID"
    FAILED = "FAILED"
    CLOSED = "CLOSED"


class RefundState(StrEnum):
    INIT = "INIT"
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class Machine:
    """One order kind's transitions; `status` maps each state to SUCCESS / FAILED / UNKNOWN."""

    kind: str
    table: tuple[tuple[str | None, str, str], ...]  # (from, event, to); from None = creation
    status: tuple[tuple[str, str], ...]

    def target(self, state: str | None, event: str, key: str = "") -> str:
        for source, name, target in self.table:
            if source == state and name == event:
                return target
        raise IllegalTransition(self.kind, key, state, event)

    def targets_of(self, event: str) -> frozenset[str]:
        return frozenset(t for _, name, t in self.table if name == event)

    def status_of(self, state: str) -> str:
        return dict(self.status)[state]

    def legal(self, state: str | None, new: str) -> bool:
        return any(s == state and t == new for s, _, t in self.table)


PAYMENT = Machine(
    kind="payment",
    table=(
        (None, "PAY_CREATE", PayState.INIT),
        (PayState.INIT, "PAY_PROCESS", PayState.PAYING),
        (PayState.INIT, "PAY_CLOSE", PayState.CLOSED),
        (PayState.PAYING, "PAY_SUCCESS", PayState.PAID),
        (PayState.PAYING, "PAY_FAIL", PayState.FAILED),
        (PayState.PAYING, "PAY_CLOSE", PayState.CLOSED),
        # an imported row arrives in the state its source system reported
        (None, "IMPORT_PAID", PayState.PAID),
        (None, "IMPORT_FAILED", PayState.FAILED),
        (None, "IMPORT_PAYING", PayState.PAYING),
    ),
    status=((PayState.INIT, "UNKNOWN"), (PayState.PAYING, "UNKNOWN"), (PayState.PAID, "SUCCESS"),
            (PayState.FAILED, "FAILED"), (PayState.CLOSED, "FAILED")),
)

REFUND = Machine(
    kind="refund",
    table=(
        (None, "REFUND_CREATE", RefundState.INIT),
        (RefundState.INIT, "REFUND_PROCESS", RefundState.PROCESSING),
        (RefundState.PROCESSING, "REFUND_SUCCESS", RefundState.SUCCEEDED),
        (RefundState.PROCESSING, "REFUND_FAIL", RefundState.FAILED),
        (None, "IMPORT_SUCCEEDED", RefundState.SUCCEEDED),
        (None, "IMPORT_FAILED", RefundState.FAILED),
        (None, "IMPORT_PROCESSING", RefundState.PROCESSING),
    ),
    status=((RefundState.INIT, "UNKNOWN"), (RefundState.PROCESSING, "UNKNOWN"),
            (RefundState.SUCCEEDED, "SUCCESS"), (RefundState.FAILED, "FAILED")),
)

MACHINES = {"PAYMENT": PAYMENT, "REFUND": REFUND}


@dataclass(frozen=True, slots=True)
class Moved:
    """The outcome of an event: the state after it, and whether *this* call moved the order."""

    txn_id: str
    state: str
    applied: bool


def transition(conn: Connection, txn_id: str, event: str, *, now: dt.datetime,
               detail: str | None = None, values: dict | None = None) -> Moved:
    """Apply `event` to a stored order inside the caller's transaction.

    A replay of an event whose target state the order is already in (a duplicated callback, a
    retried request) is a no-op reported as `applied=False`; any other unlisted event is refused.
    """
    for _ in range(100):
        row = conn.execute(sa.select(txns.c.record_type, txns.c.state, txns.c.version)
                           .where(txns.c.txn_id == txn_id)).one_or_none()
        if row is None:
            raise NotFound(f"no transaction {txn_id}")
        machine = MACHINES[row.record_type]
        if row.state in machine.targets_of(event):
            return Moved(txn_id, row.state, applied=False)
        new = machine.target(row.state, event, txn_id)
        done = conn.execute(
            txns.update()
            .where(txns.c.txn_id == txn_id, txns.c.state == row.state, txns.c.version == row.version)
            .values(state=new, version=row.version + 1, updated_at=now, **(values or {}))
        ).rowcount
        if done == 1:
            record(conn, txn_id, event, row.state, new, now=now, detail=detail)
            return Moved(txn_id, new, applied=True)
    raise IllegalTransition(MACHINES[row.record_type].kind, txn_id, row.state, f"{event} (contended)")


def record(conn: Connection, txn_id: str, event: str, source: str | None, target: str, *,
           now: dt.datetime, detail: str | None = None) -> None:
    conn.execute(transitions.insert().values(txn_id=txn_id, event=event, from_state=source,
                                             to_state=target, at=now, detail=detail))
