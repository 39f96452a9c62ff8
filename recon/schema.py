"""The standardized bill: one schema for every channel's statement (DESIGN.md, "Standardized bill").

Every parser emits a polars frame of these columns; everything downstream (matching, clearing,
reports) reads only these. Money columns are `Decimal(38, MONEY_SCALE)`: a Float money column is a
schema failure, not a warning. `validate_bill` runs the pandera model eagerly on the data (not just
the schema) and turns the first failures into one message naming the column, the row and the source
line, so a rejected bill points a person at the line to look at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TypeVar

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaError, SchemaErrors

from recon.errors import PROBLEM_CAP, Problem, StatementRejected
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


def _holds_model() -> pl.Expr:
    """True on a row that passes every check of StandardBill (column types aside, which
    validate_bill compares first): the model's checks in one column-wise pass, so that a valid
    bill of a million rows is not walked check by check."""
    col = pl.col
    holds = [
        *(col(c).is_not_null() for c in ("channel", "account", "bill_date", "record_type", "channel_txn_id", "currency",
                                         "amount", "fee", "net_amount", "status", "source_file", "source_line")),
        col("channel").str.len_chars() >= 1,
        col("record_type").is_in(list(RECORD_TYPES)),
        col("currency").str.contains(r"^[A-Z]{3}$"),
        col("status").is_in(list(STATUSES)),
        col("source_line") >= 1,
        col("net_amount") == col("amount") - col("fee"),
    ]
    return pl.all_horizontal(h.fill_null(False) for h in holds)


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def empty_bill() -> pl.DataFrame:
    """A bill with no rows and exactly the contract columns (a valid empty day)."""
    return pl.DataFrame(schema={**BILL_COLUMNS, **OPTIONAL_COLUMNS})


def conform(frame: Frame) -> Frame:
    """Add missing optional columns as nulls and order columns: contract first, extras after."""
    names = frame.collect_schema().names()  # a lazy scan's too, without reading it
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in OPTIONAL_COLUMNS.items() if c not in names]
    if missing:
        frame = frame.with_columns(missing)
    known = [*BILL_COLUMNS, *OPTIONAL_COLUMNS]
    extras = [c for c in names if c not in known]
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
        valid = frame.select(_holds_model().all()).item()
    except pl.exceptions.PolarsError:  # e.g. amount - fee past Decimal(38): pandera says what it makes of it
        valid = False
    if valid:
        return frame  # nothing for pandera to find: its run only names what fails
    try:
        return StandardBill.validate(frame, lazy=True)
    except (SchemaErrors, SchemaError) as exc:
        raise StatementRejected(file, _first_failed_line(exc, frame), _describe(exc), code="schema") from exc


# What every parser, a plugin included, must hold beyond the column types (issue #19): a bill whose
# rows break these is refused, every offending row named, whoever wrote the parser.
# The window is wide on purpose: it catches what cannot be a trade of this bill (a negative year, a
# century lost to a two-digit year, 9999-12-31) without refusing real files whose rows lag or lead
# their statement (genkgo's camt.052 fixtures book 2007 entries in a 2020 report; cmxl's MT940 mixes
# statements a year and a half apart). No electronic statement predates 1980 (the MT940 year pivot).
EARLIEST_TRADE = dt.date(1980, 1, 1)
TRADE_TIME_AFTER = 731  # days a row's trade time may lie after its bill date (two years)
ID_COLUMNS = ("channel_txn_id", "merchant_txn_id", "channel_refund_id", "merchant_refund_id")
# Invisible characters that make an id look equal to another yet never match it: BOM, zero-width
# space/joiners, word joiner, soft hyphen, bidi marks, and C0/C1 controls (NUL included).
INVISIBLE = r"[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]"


def standard_problems(frame: pl.DataFrame, file: str, *, exponent: Callable[[str], int],
                      max_decimals: Mapping[str, int] | None = None) -> tuple[list[Problem], int]:
    """(problems, how many in all) of the rules every standardized bill holds:

    * an id holds no invisible character (a BOM inside an order number can never match);
    * a trade time lies between EARLIEST_TRADE and TRADE_TIME_AFTER days after the bill date (a
      negative-year or far-future time is a parse that went wrong);
    * no amount, fee or net is finer than the currency's minor unit, unless the format documents
      finer ones (`max_decimals`: WeChat fees to 5 decimals, camt amounts to 5).
    """
    allowed = dict(max_decimals or {})
    found: list[tuple[pl.Expr, Callable[[dict], str], str]] = []
    for col in ID_COLUMNS:
        found.append((pl.col(col).str.contains(INVISIBLE), lambda r, c=col: f"{c} {r[c]!r} holds an invisible character "
                      "(BOM, zero-width or control): it could never match; refused, not stripped", "invisible_char"))
    day = pl.col("trade_time").dt.date()
    late = pl.col("bill_date") + pl.duration(days=TRADE_TIME_AFTER)
    found.append(((day < EARLIEST_TRADE) | (day > late), lambda r: f"trade_time {r['trade_time']} is implausible for the bill "
                  f"date {r['bill_date']} (allowed: from {EARLIEST_TRADE} to {TRADE_TIME_AFTER} days after it)", "implausible_time"))
    currencies = frame["currency"].drop_nulls().unique().to_list()
    units = {c: exponent(c) for c in currencies}
    for col in MONEY_COLUMNS:
        limits: dict[str | None, int] = {c: max(u, allowed[col]) if col in allowed else u for c, u in units.items()}
        if col in allowed:
            limits[None] = allowed[col]  # a row without a currency is held to the format's own limit
        found.append((_finer_than(col, limits), lambda r, c=col: f"{c} {r[c]} has more decimals than {r['currency']} allows "
                      "(finer than its minor unit, and the format documents no finer amounts)", "amount_scale"))
    if frame.height == 0:
        return [], 0
    flags = frame.select(*(expr.fill_null(False).any().alias(str(i)) for i, (expr, _, _) in enumerate(found))).row(0)
    problems: list[Problem] = []
    count = 0
    for (expr, message, code), hit in zip(found, flags):
        if hit:
            bad = frame.filter(expr.fill_null(False))
            count += bad.height
            problems += [Problem(file, r["source_line"], message(r), code) for r in bad.head(PROBLEM_CAP).iter_rows(named=True)]
    return sorted(problems, key=lambda p: p.line or 0)[:PROBLEM_CAP], count


def _finer_than(col: str, limits: Mapping[str | None, int]) -> pl.Expr:
    """True where the money column has more decimals than its row's currency allows (`limits`, by
    currency code, None for a row without one; a row not listed is never flagged). A value has at
    most L decimals exactly when it survives a cast to L decimals and back: a column-wise test
    instead of printing every amount and counting its digits."""
    finer = pl.lit(False)
    currency = pl.col("currency")
    for scale in sorted(set(limits.values())):
        if scale >= MONEY_SCALE:
            continue  # MONEY holds no finer digit than that
        value = pl.col(col)
        back = value.cast(pl.Decimal(38, scale), strict=False).cast(MONEY, strict=False)  # null: rounded past MONEY's range
        codes = [c for c, s in limits.items() if s == scale]
        rows = currency.is_in([c for c in codes if c is not None])
        if None in codes:
            rows = rows | currency.is_null()
        finer = pl.when(rows).then(value.ne_missing(back)).otherwise(finer)
    return finer


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
