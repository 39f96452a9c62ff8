"""The standardized bill schema: decimal money, named failures with the source line."""

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from recon.errors import StatementRejected
from recon.schema import BILL_COLUMNS, MONEY, MONEY_COLUMNS, conform, empty_bill, validate_bill


def _bill(**overrides):
    row = {
        "channel": "wechat", "account": "1900000109", "bill_date": dt.date(2026, 11, 20),
        "record_type": "PAYMENT", "channel_txn_id": "4200001", "merchant_txn_id": "S1",
        "channel_refund_id": None, "merchant_refund_id": None,
        "trade_time": dt.datetime(2026, 11, 20, 1, 2, 3, tzinfo=dt.timezone.utc), "currency": "CNY",
        "amount": Decimal("10.00"), "fee": Decimal("0.06"), "net_amount": Decimal("9.94"),
        "status": "SUCCESS", "source_file": "bill.csv", "source_line": 2,
    }
    row.update(overrides)
    return pl.DataFrame([row], schema=BILL_COLUMNS)


def test_a_valid_bill_passes_and_money_is_decimal():
    bill = validate_bill(conform(_bill()), "bill.csv")
    assert all(bill.schema[c] == MONEY for c in MONEY_COLUMNS)


def test_a_float_money_column_is_refused():
    bill = _bill().with_columns(pl.col("amount").cast(pl.Float64))
    with pytest.raises(StatementRejected, match="amount.*Float64"):
        validate_bill(bill, "bill.csv")


def test_failure_names_column_and_source_line():
    bill = pl.concat([_bill(), _bill(status="PAID", source_line=7)])
    with pytest.raises(StatementRejected) as info:
        validate_bill(bill, "bill.csv")
    assert info.value.problem.line == 7
    assert "status" in str(info.value)


def test_net_must_equal_amount_minus_fee():
    with pytest.raises(StatementRejected, match="net_amount"):
        validate_bill(_bill(net_amount=Decimal("10.00")), "bill.csv")


def test_empty_bill_has_the_contract_columns():
    assert list(empty_bill().columns)[: len(BILL_COLUMNS)] == list(BILL_COLUMNS)
