"""The day's splits at once in SQL equal the per-line definition (splits.split_net), exactly."""

from __future__ import annotations

from decimal import Decimal

from clearing_support import day_splits
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.clearing.fee_rules import SplitRule
from recon.clearing.splits import split_net
from recon.money import exponent, from_minor

CURRENCIES = ("CNY", "JPY", "KWD")
PARTIES = ("platform", "partner", "agent")


@st.composite
def split_rule(draw) -> SplitRule:
    parties = draw(st.lists(st.sampled_from(PARTIES), min_size=1, max_size=3, unique=True))
    currency = draw(st.sampled_from(CURRENCIES))
    shares, left = [], Decimal(100)
    for party in parties:
        if draw(st.booleans()):
            percent = draw(st.decimals(min_value=0, max_value=left, places=draw(st.integers(0, 4))))
            left -= percent
            shares.append({"party": party, "percent": str(percent)})
        else:
            fixed = from_minor(draw(st.integers(0, 5000)), currency)
            shares.append({"party": party, "fixed": str(fixed)})
    return SplitRule.model_validate({"shares": shares, "rounding": draw(st.sampled_from(["half_up", "half_even",
                                                                                          "down", "up"])),
                                     "remainder_to": draw(st.sampled_from(["merchant", *parties])),
                                     "record_types": ["PAYMENT", "REFUND"],
                                     **({"currency": currency} if draw(st.booleans()) or any("fixed" in x for x in shares)
                                        else {})})


@settings(max_examples=200, deadline=None)
@given(rules=st.lists(split_rule(), min_size=1, max_size=3), data=st.data())
def test_day_splits_equal_the_per_line_definition(rules, data):
    lines = []
    for _ in range(data.draw(st.integers(0, 25))):
        rule = data.draw(st.sampled_from(rules))
        currency = rule.currency if rule.currency != "*" else data.draw(st.sampled_from(CURRENCIES))
        net = from_minor(data.draw(st.integers(-10 ** 7, 10 ** 7)), currency)
        lines.append((rule, net, currency))
    got = day_splits(lines)
    want = [split_net(rule, net, currency) for rule, net, currency in lines]
    if got is None:  # only where a figure is finer than the statement takes
        assert any(s.fixed is not None and s.fixed != s.fixed.quantize(Decimal(1).scaleb(-exponent(c)))
                   for r, _, c in lines for s in r.shares)
        return
    assert got == want  # the same parties in the same order, each share the same value
    for shares, (_, _, currency) in zip(got, lines, strict=True):
        assert all(a == a.quantize(Decimal(1).scaleb(-exponent(currency))) for _, a in shares)


def test_a_percent_finer_than_the_statement_takes_falls_back():
    rule = SplitRule.model_validate({"shares": [{"party": "p", "percent": "12.12345678901"}], "rounding": "down",
                                     "remainder_to": "merchant"})
    assert day_splits([(rule, Decimal("10.00"), "CNY")]) is None
    assert split_net(rule, Decimal("10.00"), "CNY")  # the definition still splits it
