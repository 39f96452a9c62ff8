"""PayPal's minor-unit amounts go through the toolkit's one amount grammar (issue #19)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from recon.errors import StatementRejected
from tests.parsers_intl.test_paypal import BAL, sb, stl


@pytest.mark.parametrize("gross", ["1" + "0" * 24, "１００", "-100", "1e3", "1.00"])
def test_minor_units_are_checked_by_the_toolkits_amount_grammar(parse, write, gross):
    """A number no Int64 holds, or full-width digits, used to stop polars' cast with an error;
    every bad cell is listed, each naming its column."""
    text = stl([sb("P1", "T0006", "CR", gross, "USD", "DR", "8x"), sb("P2", "T0006", "CR", "1x", "USD")],
               [f'"USD",100,0,0,0,{BAL},2'])
    with pytest.raises(StatementRejected) as exc:
        parse(write(text), "paypal.stl")
    assert [(p.line, p.code, p.message.split(" '")[0]) for p in exc.value.problems] == [
        (5, "amount", "Gross Transaction Amount"), (5, "amount", "Fee Amount"), (6, "amount", "Gross Transaction Amount")]
    why = "is not an unsigned integer of minor units (at most 18 digits)"
    assert exc.value.problem.message == f"Gross Transaction Amount {gross!r} {why}"


def test_eighteen_digits_and_a_trailing_point_are_whole_minor_units(parse, write):
    rows = [sb("P1", "T0006", "CR", "9" * 18, "USD"), sb("P2", "T0006", "CR", "100.", "USD", "DR", "000000000000000000001")]
    bill = parse(write(stl(rows, [f'"USD",{10**18 + 99},0,0,1,{BAL},2'])), "paypal.stl").bill
    assert bill["amount"].to_list() == [Decimal("9" * 16 + ".99"), Decimal("1.00")]
    assert bill["fee"].to_list() == [0, Decimal("0.01")]
