"""The bill's checks column-wise, against row-by-row oracles (issue #24).

`validate_bill` asks pandera only when a column-wise pass finds a row that breaks the model, so a
valid bill must be exactly what pandera passes; `standard_problems` tells an amount finer than its
currency's minor unit by a cast to that scale and back, which must flag exactly the rows whose
decimal digits (trailing zeros aside) outnumber the currency's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from pandera.errors import SchemaError, SchemaErrors

from recon.errors import StatementRejected
from recon.schema import BILL_COLUMNS, MONEY, StandardBill, conform, standard_problems, validate_bill

EXPONENTS = {"CNY": 2, "JPY": 0, "KWD": 3, "CLF": 4}
DAY = dt.date(2026, 3, 5)
money = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=6, allow_nan=False, allow_infinity=False)


def _row(i: int, amount: Decimal, fee: Decimal, overrides: dict) -> dict:
    row = {"channel": "c", "account": "a", "bill_date": DAY, "record_type": "PAYMENT", "channel_txn_id": f"T{i}",
           "merchant_txn_id": None, "channel_refund_id": None, "merchant_refund_id": None,
           "trade_time": dt.datetime(2026, 3, 5, tzinfo=dt.timezone.utc), "currency": "CNY", "amount": amount,
           "fee": fee, "net_amount": amount - fee, "status": "SUCCESS", "source_file": "f", "source_line": i + 2}
    return row | overrides


# one fault a row may carry: a column and a value the model refuses there (or one it allows)
FAULTS = st.sampled_from([
    {}, {"channel": ""}, {"channel": None}, {"account": None}, {"record_type": "SALE"}, {"record_type": None},
    {"channel_txn_id": None}, {"merchant_txn_id": None}, {"currency": "cny"}, {"currency": "CNYY"}, {"currency": None},
    {"status": "PAID"}, {"status": None}, {"source_line": 0}, {"source_line": -3}, {"source_file": None},
    {"net_amount": Decimal("0.01")}, {"amount": None}, {"fee": None}, {"bill_date": None}, {"trade_time": None},
])


def _pandera(frame: pl.DataFrame) -> bool:
    try:
        StandardBill.validate(frame, lazy=True)
    except (SchemaErrors, SchemaError):
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(money, money, FAULTS), min_size=0, max_size=6))
def test_validate_bill_passes_exactly_what_pandera_passes(rows) -> None:
    frame = conform(pl.DataFrame([_row(i, a, f, fault) for i, (a, f, fault) in enumerate(rows)], schema=BILL_COLUMNS))
    try:
        validated = validate_bill(frame, "f")
    except StatementRejected:
        assert not _pandera(frame)
    else:
        assert _pandera(frame)
        assert validated.equals(frame)


def _decimals(value: Decimal) -> int:
    """The oracle: digits after the point once trailing zeros are gone."""
    return max(0, -value.normalize().as_tuple().exponent) if value else 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(money, money, st.sampled_from([*EXPONENTS, None])), min_size=1, max_size=8),
       st.sampled_from([{}, {"fee": 5, "net_amount": 5}, {"amount": 7}]))
def test_finer_than_the_minor_unit_is_found_as_the_digits_say(rows, allowed) -> None:
    frame = conform(pl.DataFrame([_row(i, a, f, {"currency": c}) for i, (a, f, c) in enumerate(rows)], schema=BILL_COLUMNS))
    assert frame.schema["amount"] == MONEY
    problems, count = standard_problems(frame, "f", exponent=EXPONENTS.__getitem__, max_decimals=allowed)
    expected = []
    for row in frame.iter_rows(named=True):
        for col in ("amount", "fee", "net_amount"):
            # without a currency only a format's own limit applies (none: nothing to hold it to)
            limit = allowed.get(col) if row["currency"] is None else max(EXPONENTS[row["currency"]], allowed.get(col, 0))
            if limit is not None and _decimals(row[col]) > limit:
                expected.append((row["source_line"], col))
    assert count == len(expected)
    assert sorted((p.line, p.message.split()[0]) for p in problems) == sorted(expected)[: len(problems)]
    assert all(p.code == "amount_scale" for p in problems)
