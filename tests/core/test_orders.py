"""Payment and refund orders: transition tables, idempotency under concurrency, refunds <= paid."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recon.core.errors import IdempotencyConflict, IllegalTransition, RefundExceedsPaid
from recon.core.ledger import balances, trial_balance
from recon.core.machine import PAYMENT, REFUND
from recon.core.orders import PaymentRequest
from recon.core.refunds import RefundRequest, apply_refund_result, create_refund, start_refund
from recon.store.tables.core import entries, transitions, txns


def _paid(core, rules, order="o-1", amount="100.00", fee="0.60"):
    p = core.create_payment(PaymentRequest("m1", order, "wechat", "CNY", Decimal(amount)))
    core.start_payment(p.txn_id)
    return core.apply_result(p.txn_id, "SUCCESS", rules, channel_txn_id=f"42{order}", fee=Decimal(fee))


def test_transition_tables_refuse_unlisted_events_naming_state_and_event():
    assert PAYMENT.target("PAYING", "PAY_SUCCESS") == "PAID"
    with pytest.raises(IllegalTransition, match="event PAY_SUCCESS is not allowed in state INIT"):
        PAYMENT.target("INIT", "PAY_SUCCESS", "t1")
    with pytest.raises(IllegalTransition, match="REFUND_SUCCESS .* state INIT"):
        REFUND.target("INIT", "REFUND_SUCCESS")


def test_a_payment_keeps_its_three_identifiers_and_history(engine, core, rules):
    paid = _paid(core, rules)
    assert paid.state == "PAID" and paid.status == "SUCCESS"
    assert paid.ids == ("o-1", paid.txn_id, "42o-1")
    with engine.connect() as conn:
        steps = conn.execute(sa.select(transitions.c.from_state, transitions.c.event, transitions.c.to_state)
                             .where(transitions.c.txn_id == paid.txn_id).order_by(transitions.c.id)).all()
    assert steps == [(None, "PAY_CREATE", "INIT"), ("INIT", "PAY_PROCESS", "PAYING"), ("PAYING", "PAY_SUCCESS", "PAID")]
    assert {b.account: b.balance for b in balances(engine)} == {
        "assets:channel:wechat": Decimal("99.40"), "expenses:channel-fee:wechat": Decimal("0.60"),
        "liabilities:merchant:m1": Decimal("-100.00")}


def test_unknown_codes_leave_the_payment_paying_and_explicit_failure_fails(core, rules):
    p = core.create_payment(PaymentRequest("m1", "o-2", "wechat", "CNY", Decimal("3")))
    core.start_payment(p.txn_id)
    assert core.apply_result(p.txn_id, "USERPAYING", rules).state == "PAYING"
    assert core.apply_result(p.txn_id, None, rules).state == "PAYING"
    assert core.apply_result(p.txn_id, "PAYERROR", rules).state == "FAILED"
    with pytest.raises(IllegalTransition, match="PAY_SUCCESS is not allowed in state FAILED"):
        core.apply_result(p.txn_id, "SUCCESS", rules)


def test_same_request_returns_the_first_result_and_a_changed_one_is_refused(core):
    first = core.create_payment(PaymentRequest("m1", "o-3", "wechat", "CNY", Decimal("7.50")))
    assert core.create_payment(PaymentRequest("m1", "o-3", "wechat", "CNY", Decimal("7.5"))) == first
    with pytest.raises(IdempotencyConflict, match="amount: first 7.500000, now 8"):
        core.create_payment(PaymentRequest("m1", "o-3", "wechat", "CNY", Decimal("8")))


def test_concurrent_submitters_create_one_transaction(engine, core):
    req = PaymentRequest("m1", "o-race", "wechat", "CNY", Decimal("9.99"))
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(lambda _: core.create_payment(req), range(12)))
    assert len({t.txn_id for t in got}) == 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(txns)).scalar() == 1


def test_racing_captures_apply_once_and_book_once(engine, core, rules):
    p = core.create_payment(PaymentRequest("m1", "o-cap", "wechat", "CNY", Decimal("20")))
    core.start_payment(p.txn_id)
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda _: core.apply_result(p.txn_id, "SUCCESS", rules), range(8)))
    with engine.connect() as conn:
        moved = conn.execute(sa.select(sa.func.count()).select_from(transitions)
                             .where(transitions.c.event == "PAY_SUCCESS")).scalar()
        posted = conn.execute(sa.select(sa.func.count()).select_from(entries)).scalar()
    assert moved == 1 and posted == 1  # PAY only: the fee is zero, so FEE posts nothing
    assert trial_balance(engine).balanced


def test_refunds_never_exceed_paid_minus_earlier_refunds(core, rules):
    paid = _paid(core, rules, amount="10.00")
    r1 = create_refund(core, RefundRequest("m1", "r-1", paid.merchant_txn_id, Decimal("6")))
    assert create_refund(core, RefundRequest("m1", "r-1", paid.merchant_txn_id, Decimal("6"))) == r1
    with pytest.raises(RefundExceedsPaid, match=r"refundable \(4.000000 of 10.000000"):
        create_refund(core, RefundRequest("m1", "r-2", paid.merchant_txn_id, Decimal("4.01")))
    start_refund(core, r1.txn_id)
    assert apply_refund_result(core, r1.txn_id, "PROCESSING", rules).state == "PROCESSING"
    assert apply_refund_result(core, r1.txn_id, "ABNORMAL", rules).state == "FAILED"
    assert core.get(paid.txn_id).refunded == 0  # a failed refund gives its reservation back
    assert create_refund(core, RefundRequest("m1", "r-3", paid.merchant_txn_id, Decimal("10"))).amount == -10


def test_a_refund_race_cannot_exceed_what_was_paid(engine, core, rules):
    paid = _paid(core, rules, amount="10.00", fee="0")

    def refund(i):
        try:
            return create_refund(core, RefundRequest("m1", f"r-{i}", paid.merchant_txn_id, Decimal("3")))
        except RefundExceedsPaid:
            return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        made = [r for r in pool.map(refund, range(8)) if r is not None]
    assert len(made) == 3
    assert core.get(paid.txn_id).refunded == Decimal("9")
    for r in made:
        start_refund(core, r.txn_id)
        apply_refund_result(core, r.txn_id, "SUCCESS", rules)
    assert {b.account: b.balance for b in balances(engine, "liabilities:merchant")} == {
        "liabilities:merchant:m1": Decimal("-1")}
