"""Property: whatever the day holds, every line and every merchant balances, and the ledger stays zero.

gross = net_payable + fees + splits + held per merchant and currency (compute), and after posting
the day (and re-posting it with different figures, which reverses and re-posts) the trial balance
of the ledger is zero in every currency.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from clearing_support import compute_day
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon.clearing.compute import bookings
from recon.clearing.fee_rules import ClearingRules
from recon.clearing.holdback import Presented, State
from recon.clearing.posting import post_day
from recon.core.ledger import trial_balance
from recon.money import from_minor
from recon.store.engine import open_store
from tests.builtin_rules import builtin_accounting

RULES = ClearingRules.model_validate({
    "fees": {
        "cny": {"merchant": "*", "currency": "CNY", "record_types": ["PAYMENT"], "kind": "tiered",
                "tiers": [{"from": "0", "percent": "1.3"}, {"from": "500.00", "percent": "0.7"}],
                "min": "0.05", "max": "3.00", "rounding": "half_even", "round_at": "total"},
        "jpy": {"currency": "JPY", "record_types": ["PAYMENT"], "kind": "percent", "percent": "0.6",
                "rounding": "up", "round_at": "transaction"},
        "kwd": {"currency": "KWD", "record_types": ["PAYMENT"], "kind": "fixed", "fixed": "0.125",
                "rounding": "down", "round_at": "transaction"},
        "refunds": {"record_types": ["REFUND"], "kind": "percent", "percent": "0.6", "direction": "return",
                    "rounding": "half_up", "round_at": "total"},
    },
    "splits": {"all": {"record_types": ["PAYMENT", "REFUND"], "merchant": "M1", "rounding": "down",
                       "remainder_to": "partner",
                       "shares": [{"party": "platform", "percent": "33.3"}, {"party": "partner", "percent": "12.5"}]}},
})
DAY = dt.date(2025, 3, 14)
_days = itertools.count()

presented = st.builds(
    lambda i, merchant, currency, refund, minor, state, channel: Presented(
        f"t{i}", merchant, channel, "REFUND" if refund else "PAYMENT", currency,
        from_minor(-minor if refund else minor, currency), dt.datetime(2025, 3, 14, tzinfo=dt.UTC)
        + dt.timedelta(seconds=i), DAY if state != State.RELEASED else DAY - dt.timedelta(days=2), state, ""),
    st.integers(0, 10**6), st.sampled_from(["M1", "M2"]), st.sampled_from(["CNY", "JPY", "KWD"]), st.booleans(),
    st.integers(1, 10**8), st.sampled_from(list(State)), st.sampled_from(["wechat", "alipay"]))


def unique(lines):
    return list({p.txn_id: p for p in lines}.values())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(presented, max_size=25).map(unique), second=st.lists(presented, max_size=25).map(unique))
def test_every_day_balances_and_the_ledger_stays_zero(tmp_path_factory, first, second):
    engine = open_store(f"sqlite:///{tmp_path_factory.getbasetemp() / 'property.db'}")
    accounting = builtin_accounting()
    day = DAY + dt.timedelta(days=next(_days))  # fresh entry keys per example
    for batch in (first, second, second):  # post, correct (reverse + new), re-run (nothing)
        clearing = compute_day(day, batch, RULES, {("M1", "CNY"): Decimal("480.00")})
        for s in clearing.settlements:
            assert s.gross == s.net_payable + s.fees + s.splits + s.held
            assert s.refunds <= 0
        for currency in {p.currency for p in batch}:
            mine = [ln for ln in clearing.lines if ln.txn.currency == currency]
            assert sum(ln.gross for ln in mine) == sum(ln.net_payable + ln.fee + ln.splits + ln.held for ln in mine)
        post_day(engine, day, bookings(clearing), accounting, RULES)
        assert trial_balance(engine).balanced
