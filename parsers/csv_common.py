"""Reading header-named CSV statements as strings, with every row tied to its physical line.

The international channels (Stripe, PayPal, Adyen) ship comma-separated files whose column sets
vary by account, report version and request parameters, so a column is found by its header name,
never by position; a required name that is missing rejects the file (FAULTS A3, A8). Nothing is
type-inferred: every cell is read as a string, because inference turns an id like `46239229.1` or
an amount into a float (FAULTS E1, E6). Amounts are validated against `recon.money`'s grammar and
the currency's exponent, and only then cast to `recon.schema.MONEY`, so 1,000,000-row files are
converted by polars column operations instead of a Python call per cell.

Rows carry `_line`, their 1-based physical line. The fast path splits the decoded text on newlines
and hands the rows to polars; a quoted field spanning lines (an odd number of quotes on a line)
switches to Python's csv module, which tracks where each record starts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from parsers.base import Sample
from parsers.registry import read_payload
from parsers.text import decode_strict
from recon.errors import StatementRejected
from recon.money import PLAIN, MoneyError, currency_code, exponent
from recon.schema import MONEY
from parsers.columns import SCIENTIFIC_ID

LINE = "_line"
# The same grammar `recon.money.parse_amount` accepts (no exponent, no thousands separator),
# applied to a whole column at once by polars' regex engine.
AMOUNT_RE = PLAIN.pattern().pattern
# Excel turns long ids into `1.2302025304E+022`; the digits are gone for good (FAULTS A10).
_QUOTED_RE = r'"(?:[^"]|"")*"'


def read_text(path: Path, file: str, *, utf16: bool = False) -> str:
    """The file decoded strictly: UTF-8 (one BOM stripped), or UTF-16 when it starts with its BOM."""
    data = read_payload(path)
    if utf16 and data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return decode_strict(data, "utf-16", file)  # the codec consumes the BOM and picks the byte order
    return decode_strict(data, "utf-8", file)


def sample_text(sample: Sample, *, utf16: bool = False) -> str | None:
    """The decodable prefix of a sample for `identify`; None when it is not text in our encodings."""
    head = sample.head
    if sample.members or head[:2] == b"PK":
        return None  # a zip or an xlsx: none of our CSV formats
    encoding = "utf-8"
    if utf16 and head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    elif head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    try:
        return head.decode(encoding)
    except UnicodeDecodeError as exc:
        # The sample may end inside a multi-byte character; anything earlier means "not ours".
        if exc.start < len(head) - 4:
            return None
        return head[: exc.start].decode(encoding)


def header_has(sample: Sample, names: Iterable[str], *, utf16: bool = False) -> bool:
    """Whether the first record of a sample's text carries every one of `names` (compared normalised)."""
    text = sample_text(sample, utf16=utf16)
    if text is None:
        return False
    header = {norm(h) for h in first_record(text.split("\n", 1)[0])}
    return {norm(n) for n in names} <= header


def norm(name: str) -> str:
    """Header names compared without case and runs of whitespace (PayPal's `Transaction  Debit`)."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()


def first_record(text: str) -> list[str]:
    """The first CSV record of `text` (a header), or [] when there is none."""
    for row in csv.reader(io.StringIO(text)):
        return row
    return []


@dataclass(frozen=True, slots=True)
class Layout:
    """Declared columns of a format: which names must be present and which may be."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    def resolve(self, header: Sequence[str], file: str, line: int = 1) -> dict[str, str]:
        """Map each declared name to the file's own spelling; reject a missing or doubled name."""
        seen: dict[str, str] = {}
        for name in header:
            key = norm(name)
            if key and key in seen and key in {norm(c) for c in (*self.required, *self.optional)}:
                raise StatementRejected(file, line, f"column {name!r} appears twice in the header", code="layout")
            seen.setdefault(key, name)
        missing = [c for c in self.required if norm(c) not in seen]
        if missing:
            raise StatementRejected(
                file, line, f"unknown column layout: missing required column(s) {', '.join(missing)}", code="layout"
            )
        return {c: seen[norm(c)] for c in (*self.required, *self.optional) if norm(c) in seen}


def physical_lines(text: str, first_line: int = 1) -> pl.DataFrame:
    """One row per physical line: `_line` (1-based) and `text` (without the line break)."""
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()  # the file's final newline does not start another line
    frame = pl.DataFrame({"text": parts}, schema={"text": pl.String})
    return frame.with_columns(
        pl.col("text").str.strip_suffix("\r"),
        (pl.int_range(pl.len(), dtype=pl.Int64) + first_line).alias(LINE),
    )


def records(lines: pl.DataFrame, header: Sequence[str], file: str) -> pl.DataFrame:
    """Parse data lines (`text`, `_line`) into string columns named by `header`, plus `_line`.

    Blank lines are skipped. A record with a different number of fields than the header is a
    truncated or damaged row and rejects the file with its line.
    """
    lines = lines.filter(pl.col("text").str.strip_chars() != "")
    names = [f"{h}" for h in header]
    if lines.is_empty():
        return pl.DataFrame(schema={**{n: pl.String for n in names}, LINE: pl.Int64})
    if lines.select((pl.col("text").str.count_matches('"') % 2 == 1).any()).item():
        return _records_slow(lines, names, file)
    fields = pl.col("text").str.replace_all(_QUOTED_RE, "").str.count_matches(",") + 1
    bad = lines.filter(fields != len(names)).head(1)
    if bad.height:
        n = bad.select(fields).item()
        raise StatementRejected(
            file, bad[LINE][0], f"row has {n} fields, the header has {len(names)} (truncated or damaged row)", code="fields"
        )
    body = "\n".join(lines["text"].to_list()).encode("utf-8")
    frame = pl.read_csv(
        io.BytesIO(body), has_header=False, new_columns=names, infer_schema=False, quote_char='"'
    )
    if frame.height != lines.height:
        raise StatementRejected(file, None, f"read {frame.height} records from {lines.height} lines", code="fields")
    return _blank_to_null(frame).with_columns(lines[LINE])


def _records_slow(lines: pl.DataFrame, names: list[str], file: str) -> pl.DataFrame:
    """Quoted fields span lines: let the csv module find where each record starts."""
    starts = lines[LINE].to_list()
    text = "\n".join(lines["text"].to_list())
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    at: list[int] = []
    begin = 1
    try:
        for row in reader:
            rows.append(row)
            at.append(starts[begin - 1])
            begin = reader.line_num + 1
    except csv.Error as exc:
        raise StatementRejected(file, starts[min(begin, len(starts)) - 1], f"malformed CSV: {exc}", code="fields") from None
    for row, line in zip(rows, at):
        if len(row) != len(names):
            raise StatementRejected(file, line, f"row has {len(row)} fields, the header has {len(names)}", code="fields")
    frame = pl.DataFrame([list(c) for c in zip(*rows)] if rows else [[] for _ in names], schema=names, orient="col")
    return _blank_to_null(frame.with_columns(pl.all().str.strip_chars())).with_columns(pl.Series(LINE, at, pl.Int64))


def _blank_to_null(frame: pl.DataFrame) -> pl.DataFrame:
    # `""` and a bare empty field mean the same in these files (FAULTS: Adyen mixes both).
    stripped = [pl.col(c).str.strip_chars() for c in frame.columns]
    return frame.with_columns(pl.when(e != "").then(e).alias(c) for e, c in zip(stripped, frame.columns))


def reject_first(frame: pl.DataFrame, mask: pl.Expr, file: str, message: Callable[[dict], str], code: str) -> None:
    """Raise `StatementRejected` for the first row where `mask` holds, naming its line."""
    hit = frame.filter(mask).head(1)
    if hit.height:
        row = hit.row(0, named=True)
        raise StatementRejected(file, row[LINE], message(row), code=code)


def reject_scientific(frame: pl.DataFrame, columns: Iterable[str], file: str) -> None:
    """An id or reference in scientific notation lost its digits in a spreadsheet: reject."""
    for col in columns:
        if col in frame.columns:
            reject_first(
                frame, pl.col(col).str.contains(SCIENTIFIC_ID), file,
                lambda r, c=col: f"{c} {r[c]!r} is in scientific notation (id precision lost in a spreadsheet)",
                "scientific_id",
            )


def require_values(frame: pl.DataFrame, columns: Iterable[str], file: str) -> None:
    for col in columns:
        reject_first(frame, pl.col(col).is_null(), file, lambda r, c=col: f"required value {c} is empty", "missing_value")


def currency_exponents(frame: pl.DataFrame, col: str, file: str, override: Callable[[str], int | None]) -> dict[str, int]:
    """Exponent of every currency in `col`; an invalid code rejects its first line."""
    result: dict[str, int] = {}
    for code in frame[col].drop_nulls().unique().to_list():
        try:
            result[code] = exponent(currency_code(code), override(code))
        except MoneyError as exc:
            reject_first(frame, pl.col(col) == code, file, lambda r: str(exc), "currency")
    return result


def to_money(frame: pl.DataFrame, col: str, file: str, currency_col: str, exps: dict[str, int]) -> pl.Expr:
    """Validate `col` against the amount grammar and its row's currency exponent; return the MONEY cast.

    Null stays null (callers decide whether empty means zero). The cast is exact: the scale is
    checked first, and it never exceeds MONEY's.
    """
    reject_first(
        frame, pl.col(col).is_not_null() & ~pl.col(col).str.contains(AMOUNT_RE), file,
        lambda r: f"{col} {r[col]!r} is not an amount", "amount",
    )
    scale = pl.col(col).str.extract(r"\.(\d*)$", 1).str.len_chars().fill_null(0)
    allowed = pl.col(currency_col).replace_strict(exps, default=None, return_dtype=pl.Int64)
    reject_first(
        frame, pl.col(col).is_not_null() & (scale > allowed), file,
        lambda r: f"{col} {r[col]!r} has more decimals than {r[currency_col]} allows", "amount_scale",
    )
    return pl.col(col).str.strip_suffix(".").cast(MONEY)
