"""The standardized bill: one schema for every channel's statement (DESIGN.md, "Standardized bill").

Every parser emits a polars frame of these columns; everything downstream (matching, clearing,
reports) reads only these. Money columns are `Decimal(38, MONEY_SCALE)`: a Float money column is a
schema failure, not a warning. `validate_bill` runs the pandera model eagerly on the data (not just
the schema) and turns the first failures into one message naming the column, the row and the source
line, so a rejected bill points a person at the line to look at.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaError, SchemaErrors

from recon.errors import StatementRejected
from recon.money import MONEY_SCALE
from recon.redact import CANDIDATE, FREE_TEXT_COLUMNS, mask_pans

MONEY = pl.Decimal(38, MONEY_SCALE)
UTC_TIME = pl.Datetime("us", "UTC")

RECORD_TYPES = ("PAYMENT", "REFUND", "FEE", "PAYOUT", "ADJUSTMENT", "CHARGEBACK", "OTHER")
STATUSES = ("SUCCESS", "FAILED", "UNKNOWN")

# The contract columns, in order. Parsers may add more (see OPTIONAL_COLUMNS).
BILL_COLUMNS: dict[str, pl.DataType] = {
    "channel": pl.String(),
    "account": pl.String(),
    "bill_date": pl.Date(),
    "record_type": pl.String(),
    "channel_txn_id": pl.String(),
    "merchant_txn_id": pl.String(),
    "channel_refund_id": pl.String(),
    "merchant_refund_id": pl.String(),
    "trade_time": UTC_TIME,
    "currency": pl.String(),
    "amount": MONEY,
    "fee": MONEY,
    "net_amount": MONEY,
    "status": pl.String(),
    "source_file": pl.String(),
    "source_line": pl.Int64(),
}

# Extra columns with fixed meanings; a parser that knows them fills them, others leave them null.
OPTIONAL_COLUMNS: dict[str, pl.DataType] = {
    "raw_status": pl.String(),
    "settle_date": pl.Date(),
    "payout_id": pl.String(),
    "counterparty": pl.String(),
    "memo": pl.String(),
}

# A bank statement's balances beside its bill (`bills/<channel>/<D>.balances.parquet`): opening,
# closing, available... per account, currency and statement, for layer 3.
BALANCE_COLUMNS: dict[str, pl.DataType] = {
    "channel": pl.String(),
    "account": pl.String(),
    "currency": pl.String(),
    "statement_id": pl.String(),
    "balance_date": pl.Date(),
    "balance_type": pl.String(),
    "amount": MONEY,
    "source_file": pl.String(),
    "source_line": pl.Int64(),
}

MONEY_COLUMNS = ("amount", "fee", "net_amount")


class StandardBill(pa.DataFrameModel):
    """pandera model of the standardized bill. Nullable only where DESIGN.md says so."""

    channel: str = pa.Field(nullable=False, str_length={"min_value": 1})
    account: str = pa.Field(nullable=False)
    bill_date: pl.Date = pa.Field(nullable=False)
    record_type: str = pa.Field(nullable=False, isin=list(RECORD_TYPES))
    channel_txn_id: str = pa.Field(nullable=False)
    merchant_txn_id: str = pa.Field(nullable=True)
    channel_refund_id: str = pa.Field(nullable=True)
    merchant_refund_id: str = pa.Field(nullable=True)
    trade_time: UTC_TIME = pa.Field(nullable=True)  # type: ignore[valid-type]
    currency: str = pa.Field(nullable=False, str_matches=r"^[A-Z]{3}$")
    amount: MONEY = pa.Field(nullable=False)  # type: ignore[valid-type]
    fee: MONEY = pa.Field(nullable=False)  # type: ignore[valid-type]
    net_amount: MONEY = pa.Field(nullable=False)  # type: ignore[valid-type]
    status: str = pa.Field(nullable=False, isin=list(STATUSES))
    source_file: str = pa.Field(nullable=False)
    source_line: pl.Int64 = pa.Field(nullable=False, ge=1)

    @pa.dataframe_check(error="net_amount must equal amount - fee")
    def net_is_amount_minus_fee(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("net_amount") == pl.col("amount") - pl.col("fee")
        )

    class Config:
        strict = False  # extra columns are welcome
        coerce = False  # a wrong dtype is a parser bug, never silently cast


def empty_bill() -> pl.DataFrame:
    """A bill with no rows and exactly the contract columns (a valid empty day)."""
    return pl.DataFrame(schema={**BILL_COLUMNS, **OPTIONAL_COLUMNS})


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Add missing optional columns as nulls and order columns: contract first, extras after."""
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in OPTIONAL_COLUMNS.items() if c not in frame.columns]
    if missing:
        frame = frame.with_columns(missing)
    known = [*BILL_COLUMNS, *OPTIONAL_COLUMNS]
    extras = [c for c in frame.columns if c not in known]
    return frame.select([*known, *extras])


def validate_bill(frame: pl.DataFrame, file: str) -> pl.DataFrame:
    """Validate eagerly; on failure raise `StatementRejected` naming column, row and source line."""
    for name, dtype in BILL_COLUMNS.items():
        if name not in frame.columns:
            raise StatementRejected(file, None, f"standardized bill lacks column {name!r}", code="schema")
        if frame.schema[name] != dtype:
            raise StatementRejected(
                file, None, f"column {name!r} is {frame.schema[name]}, expected {dtype}", code="schema"
            )
    try:
        return StandardBill.validate(frame, lazy=True)
    except (SchemaErrors, SchemaError) as exc:
        raise StatementRejected(file, _first_failed_line(exc, frame), _describe(exc), code="schema") from exc


def _failure_cases(exc: SchemaErrors | SchemaError) -> pl.DataFrame | None:
    cases = getattr(exc, "failure_cases", None)
    return cases if isinstance(cases, pl.DataFrame) and cases.height else None


def _first_failed_line(exc: SchemaErrors | SchemaError, frame: pl.DataFrame) -> int | None:
    cases = _failure_cases(exc)
    if cases is None or "index" not in cases.columns:
        return None
    indexes = [i for i in cases["index"].to_list() if i is not None]
    if not indexes or "source_line" not in frame.columns:
        return None
    return int(frame["source_line"][int(min(indexes))])


def _describe(exc: SchemaErrors | SchemaError) -> str:
    cases = _failure_cases(exc)
    if cases is None:
        return str(exc).splitlines()[0]
    first = cases.row(0, named=True)
    column = first.get("column") or first.get("schema_context")
    check = first.get("check")
    value = first.get("failure_case")
    more = f" (and {cases.height - 1} more)" if cases.height > 1 else ""
    row = f" at row {first['index']}" if first.get("index") is not None else ""
    return f"column {column!r} fails {check}{row}: {value!r}{more}"


def mask_free_text(frame: pl.DataFrame, columns: tuple[str, ...] = FREE_TEXT_COLUMNS) -> pl.DataFrame:
    """The bill with card numbers masked in its free-text columns (recon.redact); only rows that may
    hold one are touched, and id columns never are."""
    exprs = []
    for name in columns:
        if name in frame.columns and frame.schema[name] == pl.String:
            col = pl.col(name)
            exprs.append(pl.when(col.str.contains(CANDIDATE))
                         .then(col.map_elements(mask_pans, return_dtype=pl.String, skip_nulls=True))
                         .otherwise(col).alias(name))
    return frame.with_columns(exprs) if exprs else frame
