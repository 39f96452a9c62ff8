"""Model-based test of the payment core (FAULTS.md E9, E10) on both backends.

Hypothesis drives create / start / result / refund / refund-result / retry-with-same-key / crash
steps against one store and checks, after every step: the trial balance is zero per currency; one
transaction per idempotency key; every recorded transition is one the tables allow; no payment's
refunds exceed what was paid; and the merchant's ledger balance equals what the model says it owes.
Each example books under its own merchant, so examples can share the store.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import hypothesis.strategies as st
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from recon.core.errors import CoreError, IdempotencyConflict, IllegalTransition, RefundExceedsPaid
from recon.core.ledger import balances, trial_balance
from recon.core.machine import MACHINES
from recon.core.orders import PaymentRequest
from recon.core.refunds import RefundRequest, apply_refund_result, create_refund, start_refund
from recon.store.tables.core import transitions, txns
from recon.core.uow import unit_of_work

ORDERS = st.sampled_from(["o1", "o2", "o3"])
AMOUNTS = st.sampled_from([Decimal("0.01"), Decimal("1.00"), Decimal("9.99"), Decimal("50")])
CODES = st.sampled_from(["SUCCESS", "PAYERROR", "USERPAYING", None])
REFUND_CODES = st.sampled_from(["SUCCESS", "ABNORMAL", "PROCESSING"])


class Crash(Exception):
    """A process dying between the channel's answer and the commit."""


def machine_for(core, rules):
    class PaymentCore(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.merchant = f"m-{uuid.uuid4().hex[:10]}"
            self.orders: dict[str, tuple[str, Decimal]] = {}
            self.refunds: dict[str, tuple[str, Decimal]] = {}
            self.owed = Decimal(0)  # what the ledger must say we owe the merchant

        @rule(order=ORDERS, amount=AMOUNTS)
        def create_or_retry(self, order, amount):
            req = PaymentRequest(self.merchant, order, "wechat", "CNY", amount)
            known = self.orders.get(order)
            try:
                txn = core.create_payment(req)
            except IdempotencyConflict:
                assert known is not None and known[1] != amount
                return
            assert known is None or known == (txn.txn_id, amount)
            self.orders[order] = (txn.txn_id, amount)

        @rule(order=ORDERS)
        def start(self, order):
            if order in self.orders:
                try:
                    core.start_payment(self.orders[order][0])
                except IllegalTransition as exc:
                    assert exc.state not in ("INIT",)

        @rule(order=ORDERS, code=CODES)
        def channel_result(self, order, code):
            if order not in self.orders:
                return
            txn_id, amount = self.orders[order]
            before = core.get(txn_id).state
            try:
                after = core.apply_result(txn_id, code, rules).state
            except IllegalTransition:
                assert before != "PAYING"
                return
            if before == "PAYING" and after == "PAID":
                self.owed += amount

        @rule(order=ORDERS)
        def crash_before_commit(self, order):
            if order not in self.orders:
                return
            txn_id = self.orders[order][0]
            before = core.get(txn_id)
            try:
                with unit_of_work(core.engine) as uow:
                    core.apply_result_in(uow, txn_id, "SUCCESS")
                    raise Crash
            except (Crash, IllegalTransition):
                pass
            assert core.get(txn_id) == before

        @rule(order=ORDERS, number=st.sampled_from(["r1", "r2", "r3"]), amount=AMOUNTS)
        def refund(self, order, number, amount):
            if order not in self.orders:
                return
            try:
                r = create_refund(core, RefundRequest(self.merchant, number, self.orders[order][0], amount))
            except (RefundExceedsPaid, IdempotencyConflict, CoreError):
                return
            self.refunds[number] = (r.txn_id, amount)

        @rule(number=st.sampled_from(["r1", "r2", "r3"]), code=REFUND_CODES)
        def refund_result(self, number, code):
            if number not in self.refunds:
                return
            txn_id, amount = self.refunds[number]
            try:
                if core.get(txn_id).state == "INIT":
                    start_refund(core, txn_id)
                before = core.get(txn_id).state
                after = apply_refund_result(core, txn_id, code, rules).state
            except IllegalTransition:
                return
            if before == "PROCESSING" and after == "SUCCEEDED":
                self.owed -= amount

        @invariant()
        def books_balance_and_match_the_model(self):
            assert trial_balance(core.engine).balanced
            owed = {b.account: -b.balance for b in balances(core.engine, f"liabilities:merchant:{self.merchant}")}
            assert owed.get(f"liabilities:merchant:{self.merchant}", Decimal(0)) == self.owed

        @invariant()
        def one_txn_per_key_legal_history_and_refunds_within_paid(self):
            with core.engine.connect() as conn:
                rows = conn.execute(sa.select(txns).where(txns.c.merchant_id == self.merchant)).all()
                keys = [(r.record_type, r.request_no) for r in rows]
                assert len(keys) == len(set(keys))
                kinds = {r.txn_id: r.record_type for r in rows}
                for t in conn.execute(sa.select(transitions).where(transitions.c.txn_id.in_(list(kinds)))):
                    assert MACHINES[kinds[t.txn_id]].legal(t.from_state, t.to_state), t
            for p in (r for r in rows if r.record_type == "PAYMENT"):
                live = sum((-r.amount for r in rows if r.original_txn_id == p.txn_id and r.state != "FAILED"),
                           Decimal(0))
                assert p.refunded == live <= p.amount

    return PaymentCore


def test_payment_core_state_machine(core, rules):
    run_state_machine_as_test(machine_for(core, rules), settings=settings(
        max_examples=12, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
