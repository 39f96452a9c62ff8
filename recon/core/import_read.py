"""Reading an internal export for `recon core import` at column speed, with the row reader as the rule.

`recon.internal.read_file` validates a CSV one record at a time (Decimal parsing, ISO 8601 times,
invisible characters, formula quotes) and names the first bad line. At a million rows that loop
costs more than the whole import. Here the same file is checked with Polars expressions under
*narrower* rules — printable ASCII cells without outer spaces or a leading quote, plain amounts
(`-12.34`, at most six places, no finer than the currency's unit), times as
`YYYY-MM-DDTHH:MM:SS[.ffffff]±HH:MM`, known record types, statuses and currencies, signs that
follow the record type. A file that passes every one of them reads to exactly the frame
`read_file` returns (tests/core/test_import_read.py holds the two against each other); any other
file — one odd cell is enough — is handed to `read_file` whole, so every refusal and its message
(file and line) stay the row reader's.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from recon.internal import INTERNAL_COLUMNS, REQUIRED, SIGNS, read_file
from recon.money import ISO_4217, MAX_INTEGER_DIGITS, exponent
from recon.schema import MONEY, RECORD_TYPES, STATUSES, UTC_TIME

_AMOUNT = rf"^-?(?:0|[1-9][0-9]{{0,{MAX_INTEGER_DIGITS - 1}}})(?:\.[0-9]{{1,6}})?$"
_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?[+-][0-9]{2}:[0-9]{2}$"
_CELL = r"^[!-&(-~](?:[ -~]*[!-~])?$"  # printable ASCII, no outer space, no leading quote


def read_internal(path: Path) -> pl.DataFrame:
    """The internal frame of `path`, as `recon.internal.read_file` reads it."""
    if path.suffix == ".parquet" or not path.exists():
        return read_file(path)
    try:
        fast = _columnar(path)
    except (pl.exceptions.PolarsError, UnicodeDecodeError):
        fast = None
    return read_file(path) if fast is None else fast


def _columnar(path: Path) -> pl.DataFrame | None:
    raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    if raw.is_empty() or not set(REQUIRED) <= set(raw.columns) or {"source_file", "source_line"} & set(raw.columns):
        return None
    text = [c for c in INTERNAL_COLUMNS if INTERNAL_COLUMNS[c] == pl.String() and c in raw.columns]
    exps = {c: exponent(c) for c in ISO_4217}
    amount, fee = pl.col("amount"), pl.col("fee").fill_null("0")
    kind = pl.col("record_type")
    ok = pl.all_horizontal(
        *(pl.col(c).is_null() | pl.col(c).str.contains(_CELL) for c in text),
        *(pl.col(c).is_not_null() for c in REQUIRED),
        kind.is_in(list(RECORD_TYPES)), pl.col("status").is_in(list(STATUSES)),
        pl.col("currency").is_in(list(ISO_4217)),
        amount.str.contains(_AMOUNT), fee.str.contains(_AMOUNT), pl.col("trade_time").str.contains(_TIME),
        # places written beyond the unit must be zeros (JPY 100.00 is 100; 100.5 is refused)
        amount.str.extract(r"\.([0-9]*?)0*$").fill_null("").str.len_chars()
        <= pl.col("currency").replace_strict(exps, default=2, return_dtype=pl.Int64),
    )
    if not raw.select(ok.all()).item():
        return None
    money = raw.with_columns(amount.cast(MONEY), fee.cast(MONEY).alias("fee"))
    signs = pl.col("record_type").replace_strict(SIGNS, default=0, return_dtype=pl.Int64)
    wrong_sign = ((signs > 0) & (pl.col("amount") < 0)) | ((signs < 0) & (pl.col("amount") > 0))
    if money.select(wrong_sign.any()).item():
        return None
    return money.select(
        *(pl.col(c) if c in raw.columns else pl.lit(None, pl.String).alias(c) for c in INTERNAL_COLUMNS
          if INTERNAL_COLUMNS[c] == pl.String() and c not in ("source_file",)),
        pl.col("trade_time").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us").dt.convert_time_zone("UTC")
        .cast(UTC_TIME),
        "amount", "fee", pl.lit(str(path)).alias("source_file"),
        pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias("source_line"),
    ).select(list(INTERNAL_COLUMNS))
