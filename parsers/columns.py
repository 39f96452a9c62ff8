"""Vectorised, strict column conversions for tabular statements (polars, no per-row Python).

polars' `str.to_decimal` rounds digits beyond the scale and turns garbage into null; both would
hide a corrupt statement. So every conversion here first checks each value against the format's
grammar with a regex, rejects the file at the first line that does not fit (naming the line, the
column and the value), and only then casts. Rows carry their physical line in `source_line`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import polars as pl

from recon.errors import StatementRejected
from recon.money import MONEY_SCALE
from recon.schema import MONEY

# An id a spreadsheet turned into scientific notation (4.2000001E+27): its digits are gone.
SCIENTIFIC_ID = r"^[+-]?[0-9.]+[eE][+-]?\d+$"


def amount_pattern(max_scale: int, *, signed: bool = True) -> str:
    sign = "-?" if signed else ""
    return rf"^{sign}\d+(\.\d{{0,{max_scale}}})?$"


def first_failure(frame: pl.DataFrame, ok: pl.Expr, column: str) -> tuple[int, str] | None:
    """(source_line, value) of the first row where `ok` is false, else None."""
    bad = frame.filter(~ok.fill_null(False)).select("source_line", pl.col(column).cast(pl.String))
    if bad.height == 0:
        return None
    line, value = bad.row(0)
    return int(line), value


def require(frame: pl.DataFrame, ok: pl.Expr, column: str, file: str, what: str, *, code: str = "bad_value") -> None:
    failure = first_failure(frame, ok, column)
    if failure is not None:
        line, value = failure
        raise StatementRejected(file, line, f"{column} {value!r} {what}", code=code)


def money(frame: pl.DataFrame, column: str, file: str, *, max_scale: int = 2, signed: bool = True,
          blank_as_zero: bool = False) -> pl.Expr:
    """Validate `column` against the amount grammar, return an expression casting it to MONEY."""
    col = pl.col(column)
    if blank_as_zero:
        col = pl.when(col.is_null() | (col == "")).then(pl.lit("0")).otherwise(col)
    require(frame, col.str.contains(amount_pattern(max_scale, signed=signed)), column, file,
            f"is not an amount with at most {max_scale} decimals", code="bad_amount")
    # -0.00 parses to a negative zero decimal; adding zero normalises nothing in polars, so the
    # cast result is compared and rewritten explicitly.
    dec = col.str.to_decimal(scale=MONEY_SCALE).cast(MONEY)
    return pl.when(dec == 0).then(pl.lit(0).cast(MONEY)).otherwise(dec)


def ids_not_mangled(frame: pl.DataFrame, columns: list[str], file: str) -> None:
    """Refuse ids that Excel already turned into scientific notation: their digits are gone."""
    for column in columns:
        if column in frame.columns:
            require(frame, ~pl.col(column).fill_null("").str.contains(SCIENTIFIC_ID), column, file,
                    "lost its digits to scientific notation (opened and saved in Excel?)", code="id_mangled")


def local_time_to_utc(frame: pl.DataFrame, column: str, file: str, zone: ZoneInfo,
                      fmt: str = "%Y-%m-%d %H:%M:%S") -> pl.Expr:
    """Parse naive local times strictly and convert them to UTC; a bad or missing time is rejected."""
    parsed = pl.col(column).str.strptime(pl.Datetime("us"), fmt, strict=False)
    require(frame, parsed.is_not_null(), column, file, f"is not a time in the form {fmt}", code="bad_time")
    return parsed.dt.replace_time_zone(zone.key, ambiguous="raise", non_existent="raise").dt.convert_time_zone("UTC")


def blank_to_null(column: str, *nulls: str) -> pl.Expr:
    """Trimmed text; empty strings and the format's placeholder values become null."""
    col = pl.col(column).str.strip_chars()
    return pl.when(col.is_in(["", *nulls])).then(pl.lit(None, dtype=pl.String)).otherwise(col).alias(column)
