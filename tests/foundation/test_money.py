"""Money is exact: Decimal end to end, named rounding, per-currency exponents."""

from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recon import money
from recon.money import AmountGrammar, MoneyError, Rounding, from_minor, parse_amount, quantize, to_minor
from recon.schema import MONEY


def test_exponents_of_zero_and_three_decimal_currencies():
    assert money.exponent("JPY") == 0
    assert money.exponent("KWD") == 3
    assert money.exponent("CNY") == 2
    assert money.exponent("KWD", override=2) == 2  # a channel's own convention wins


@pytest.mark.parametrize(("minor", "currency", "major"), [
    (12345, "CNY", "123.45"), (12345, "JPY", "12345"), (12345, "KWD", "12.345"), ("-1", "USD", "-0.01"),
])
def test_minor_major_round_trip(minor, currency, major):
    assert str(from_minor(minor, currency)) == major
    assert to_minor(Decimal(major), currency) == int(minor)


def test_to_minor_refuses_amounts_finer_than_the_currency():
    with pytest.raises(MoneyError, match="more than 0 decimals"):
        to_minor(Decimal("1.5"), "JPY")


@pytest.mark.parametrize("policy, expected", [
    (Rounding.HALF_UP, "2.68"), (Rounding.HALF_EVEN, "2.68"), (Rounding.DOWN, "2.67"), (Rounding.UP, "2.68"),
])
def test_rounding_is_named_and_exact(policy, expected):
    # round(2.675, 2) == 2.67 with floats; exact decimals round the tie as the policy says
    assert str(quantize(Decimal("2.675"), "CNY", policy)) == expected


def test_half_even_differs_from_half_up_on_ties():
    assert str(quantize(Decimal("0.125"), "USD", Rounding.HALF_EVEN)) == "0.12"
    assert str(quantize(Decimal("0.125"), "USD", Rounding.HALF_UP)) == "0.13"


@pytest.mark.parametrize("text", ["1.5E+3", "1e3", "", "1,234.56", "12.3.4", "NaN", "Infinity", " - 1", "0x10"])
def test_parse_amount_refuses_text_outside_the_grammar(text):
    with pytest.raises(MoneyError):
        parse_amount(text)


def test_parse_amount_grammars():
    assert parse_amount("1.234,56", AmountGrammar(decimal_sep=",", thousands_sep=".")) == Decimal("1234.56")
    assert parse_amount("5,81", AmountGrammar(decimal_sep=",")) == Decimal("5.81")
    with pytest.raises(MoneyError, match="at most 2"):
        parse_amount("1.001", AmountGrammar(max_scale=2))


def test_negative_zero_is_normalised():
    assert str(parse_amount("-0.00")) == "0.00"
    assert str(from_minor(0, "CNY")) == "0.00"


def test_float_sentinel_sums_exactly_through_parse_and_polars():
    # 0.1 + 0.2 != 0.3 in float; through our path it is exact
    values = [parse_amount(t) for t in ("0.1", "0.2")]
    assert sum(values) == Decimal("0.3")
    frame = pl.DataFrame({"amount": values}, schema={"amount": MONEY})
    assert frame["amount"].sum() == Decimal("0.3")
    assert frame.schema["amount"] == MONEY


@given(st.integers(min_value=-9 * 10**15, max_value=9 * 10**15), st.sampled_from(["CNY", "JPY", "KWD", "USD"]))
def test_minor_units_round_trip_any_value(minor, currency):
    assert to_minor(from_minor(minor, currency), currency) == minor


@given(st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_parse_amount_is_exact_for_any_two_decimal_text(value):
    assert parse_amount(f"{value:.2f}") == value


def test_currency_codes_are_validated():
    with pytest.raises(MoneyError):
        money.currency_code("yuan")
