"""The day's fees at once in SQL equal the per-row definition (compute.fees_per_row), exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from clearing_support import day_fees
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.clearing.compute import fees_per_row
from recon.clearing.fee_rules import ClearingRules
from recon.clearing.holdback import Presented, State
from recon.money import exponent, from_minor

CURRENCIES = ("CNY", "JPY", "KWD")
DAY = dt.date(2026, 11, 20)
ROUNDINGS = st.sampled_from(["half_up", "half_even", "down", "up"])
RATE = st.decimals(min_value=Decimal("0"), max_value=Decimal("5"), places=4).map(str)


def _amount(currency: str) -> st.SearchStrategy[str]:
    return st.integers(0, 10 ** (3 + exponent(currency))).map(lambda n: str(from_minor(n, currency)))


@st.composite
def fee_rule(draw, currency: str, record_type: str) -> dict:
    kind = draw(st.sampled_from(["percent", "tiered", "fixed", "none"] if record_type == "PAYMENT" else
                                ["percent", "none"]))
    rule = {"currency": currency, "record_types": [record_type], "kind": kind, "rounding": draw(ROUNDINGS),
            "round_at": draw(st.sampled_from(["transaction", "total"]))}
    if record_type == "REFUND" and draw(st.booleans()):
        rule["direction"] = "return"
    if kind == "percent":
        rule["percent"] = draw(RATE)
    if kind == "tiered":
        starts = sorted(set(draw(st.lists(_amount(currency), max_size=3))) - {str(from_minor(0, currency))},
                        key=Decimal)
        rule["tiers"] = [{"from": "0", "percent": draw(RATE)}] + [{"from": s, "percent": draw(RATE)} for s in starts]
    if kind in ("percent", "tiered"):
        low = draw(st.one_of(st.none(), _amount(currency)))
        high = draw(st.one_of(st.none(), _amount(currency)))
        if low is not None and high is not None and Decimal(low) > Decimal(high):
            low, high = high, low
        rule |= {k: v for k, v in (("min", low), ("max", high)) if v is not None}
    if kind == "fixed" or (kind in ("percent", "tiered") and draw(st.booleans())):
        rule["fixed"] = draw(_amount(currency))
    return rule


@st.composite
def days(draw) -> tuple[list[Presented], ClearingRules, dict]:
    rules = ClearingRules.model_validate({"fees": {f"{c}-{t}": draw(fee_rule(c, t)) for c in CURRENCIES
                                                   for t in ("PAYMENT", "REFUND")}})
    taken = []
    for i in range(draw(st.integers(0, 30))):
        currency, refund = draw(st.sampled_from(CURRENCIES)), draw(st.booleans())
        minor = draw(st.integers(1, 10 ** (4 + exponent(currency))))
        when = draw(st.one_of(st.none(), st.integers(0, 5).map(lambda h: dt.datetime(2026, 11, 20, h, tzinfo=dt.UTC))))
        taken.append(Presented(f"T{i:03d}", draw(st.sampled_from(["M1", "M2"])), "wx",
                               "REFUND" if refund else "PAYMENT", currency,
                               from_minor(-minor if refund else minor, currency), when, DAY, State.CLEARED, ""))
    taken.sort(key=lambda p: (p.trade_time is None, p.trade_time or dt.datetime.min.replace(tzinfo=dt.UTC), p.txn_id))
    prior = {(m, c): from_minor(draw(st.integers(0, 10 ** 6)), c) for m in ("M1", "M2") for c in CURRENCIES
             if draw(st.booleans())}
    return taken, rules, prior


@settings(max_examples=150, deadline=None)
@given(day=days())
def test_day_fees_equal_the_per_row_definition(day):
    taken, rules, prior = day
    names = [rules.fee_rule(p.merchant_id, p.channel, p.currency, p.record_type)[0] for p in taken]
    got = day_fees(taken, names, rules, prior)
    want = fees_per_row(taken, rules, prior)
    assert got == want
    # the same Decimals, not only equal ones: the files show them with format(value, "f")
    assert {k: (n, format(f, "f")) for k, (n, f) in got.items()} == {k: (n, format(f, "f")) for k, (n, f) in want.items()}


def test_a_rate_finer_than_the_statement_takes_falls_back_to_the_definition():
    rules = ClearingRules.model_validate({"fees": {"p": {"record_types": ["PAYMENT"], "kind": "percent",
                                                         "percent": "0.12345678901", "rounding": "half_up",
                                                         "round_at": "transaction"}}})
    taken = [Presented("T1", "M1", "wx", "PAYMENT", "CNY", Decimal("10.00"), None, DAY, State.CLEARED, "")]
    assert day_fees(taken, ["p"], rules, {}) is None
