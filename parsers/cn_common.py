"""Shared machinery for the Chinese channels' tabular statements (WeChat fund flow, Alipay, UnionPay).

These statements share their hazards: GBK/GB18030 or UTF-8 text that must decode strictly, a table
framed by comment, summary or footer lines, cells padded with tabs or prefixed with a backtick, long
ids that Excel may already have mangled to `4.2E+27`, yuan amounts with a fixed number of decimals,
and naive Beijing times. A million-line bill must not go through per-row Python, so the table body
becomes a polars frame of *strings* (never inferred) and every check here is a vectorised expression;
when a check fails, the first offending row is located and named by its physical line.

Amount columns are validated against the format's grammar with a regex *before* the exact
string -> Decimal cast: polars' cast would otherwise accept `1e5` and silently round extra
decimals. Single values (footers, summaries) go through `recon.money.parse_amount`.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from parsers.text import decode_strict
from recon.errors import StatementRejected
from recon.money import AmountGrammar, MoneyError, parse_amount
from recon.schema import MONEY
from parsers.columns import SCIENTIFIC_ID
from rules.loader import RuleSet

CNY = "CNY"
YUAN = AmountGrammar(max_scale=2)
# A cell that Excel turned into scientific notation: the digits are gone for good (FAULTS A10).
# Internal column separator for reading whole lines natively; a statement never contains it.
LINE_SEP = "\x1f"
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def decode_cn(data: bytes, file: str, *, allow_utf8: bool = True) -> str:
    """Alipay re-exports are sometimes UTF-8 (with or without BOM); originals are GBK. Strict UTF-8
    almost never accepts GBK Chinese, so trying it first is safe; anything else decodes as GB18030
    (a superset of GBK), strictly, and a failure names the line and byte."""
    if allow_utf8:
        try:
            return decode_strict(data, "utf-8", file)
        except StatementRejected:
            pass
    return decode_strict(data, "gb18030", file)


def sniff_text(head: bytes) -> str:
    """Text of a sample head for `identify` only: UTF-8, else GB18030, each decoded strictly up to
    the first byte that does not decode (the 64 KiB cut may split a character; a damaged byte
    further on is the parser's to reject with its line, not identification's)."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # the cut fell inside one character
            return head[: exc.start].decode("utf-8")
    try:
        return head.decode("gb18030")
    except UnicodeDecodeError as exc:
        return head[: exc.start].decode("gb18030")


def norm_header(name: str) -> str:
    """Header names vary in width and decoration (`（元）`, `(元)`, `(+元)`, trailing tabs)."""
    return unicodedata.normalize("NFKC", name).strip().strip("\t ")


def zip_member_name(name: str) -> str:
    """Alipay zips store GBK names without the UTF-8 flag; zipfile decodes them as cp437."""
    try:
        return name.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


def zip_members(path: Path) -> dict[str, str]:
    """Recovered member name -> stored name, refusing unreadable archives and path tricks."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise StatementRejected(str(path), None, f"not a readable zip: {exc}", code="truncated") from None
    found: dict[str, str] = {}
    for info in infos:
        real = info.filename if info.flag_bits & 0x800 else zip_member_name(info.filename)
        if real.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", real):
            raise StatementRejected(str(path), None, f"zip member {real!r} escapes the archive", code="zip_slip")
        if not info.is_dir():
            found[real.rsplit("/", 1)[-1]] = info.filename
    return found


def read_lines_frame(body: str, start_line: int, file: str) -> pl.DataFrame:
    """Each physical line of `body` as one string cell `l`, read natively, plus its `line` number."""
    if LINE_SEP in body:
        at = body.index(LINE_SEP)
        raise StatementRejected(file, start_line + body.count("\n", 0, at), "control character 0x1f in the data", code="invalid_row")
    if not body:
        return pl.DataFrame(schema={"l": pl.String, "line": pl.Int64})
    frame = pl.read_csv(
        io.BytesIO(body.encode("utf-8")), separator=LINE_SEP, has_header=False, quote_char=None,
        infer_schema=False, new_columns=["l"], truncate_ragged_lines=False,
    )
    expected = body.count("\n") + (0 if body.endswith("\n") else 1)
    if frame.height != expected:
        raise StatementRejected(file, start_line, f"read {frame.height} lines, expected {expected}", code="invalid_row")
    return frame.with_columns(
        pl.col("l").fill_null("").str.strip_chars_end("\r"),
        line=pl.int_range(start_line, start_line + frame.height, dtype=pl.Int64),
    )


def first_line(frame: pl.DataFrame, bad: pl.Expr) -> int | None:
    """Physical line of the first row where `bad` holds, or None when every row is fine."""
    hit = frame.lazy().filter(bad).select(pl.col("line").min()).collect()
    value = hit.item() if hit.height else None
    return int(value) if value is not None else None


def reject_if(frame: pl.DataFrame, bad: pl.Expr, file: str, reason: str, code: str = "invalid_row") -> None:
    line = first_line(frame, bad)
    if line is not None:
        raise StatementRejected(file, line, reason, code=code)


def require_columns(found: list[str], required: tuple[str, ...], file: str, line: int) -> None:
    missing = [c for c in required if c not in found]
    if missing:
        raise StatementRejected(file, line, f"missing required column(s): {', '.join(missing)}", code="missing_column")
    dupes = sorted({c for c in found if c and found.count(c) > 1})
    if dupes:
        raise StatementRejected(file, line, f"ambiguous duplicate column(s): {', '.join(dupes)}", code="missing_column")


def check_ids(frame: pl.DataFrame, columns: tuple[str, ...], file: str) -> None:
    for col in columns:
        reject_if(frame, pl.col(col).str.contains(SCIENTIFIC_ID), file,
                  f"{col}: id in scientific notation (precision lost, e.g. opened in Excel)", "id_mangled")


def money(frame: pl.DataFrame, col: str, file: str, *, scale: int = 2, unsigned: bool = False) -> pl.Expr:
    """Validate `col` against the amount grammar, then return the exact Decimal cast of it."""
    sign = "" if unsigned else "[+-]?"
    pattern = rf"^{sign}\d+(\.\d{{1,{scale}}})?$"
    reject_if(frame, ~pl.col(col).str.contains(pattern).fill_null(False), file,
              f"{col}: not an amount with at most {scale} decimals")
    return pl.col(col).cast(MONEY)


def local_time(frame: pl.DataFrame, col: str, zone: ZoneInfo, file: str, fmt: str = _TIME_FORMAT) -> pl.Expr:
    """Naive local `col` -> UTC; an unparseable non-empty time is a rejection naming the line."""
    parsed = pl.col(col).str.strptime(pl.Datetime("us"), fmt, strict=False)
    reject_if(frame, parsed.is_null() & (pl.col(col) != ""), file, f"{col}: not a time in {fmt}")
    return parsed.dt.replace_time_zone(zone.key, non_existent="raise").dt.convert_time_zone("UTC")


def mapped(col: str, table: dict[str, str], default: str) -> pl.Expr:
    return pl.col(col).replace_strict(table, default=default, return_dtype=pl.String)


def status_expr(frame: pl.DataFrame, col: str, rules: RuleSet, field: str) -> pl.Expr:
    """Map raw codes through the channel's rule set; each distinct code is asked once."""
    codes = frame.get_column(col).unique().drop_nulls().to_list()
    return mapped(col, {c: rules.status_of(field, c) for c in codes}, "UNKNOWN")


def decimal_sum(frame: pl.DataFrame, expr: pl.Expr) -> Decimal:
    value = frame.select(expr.sum()).item() if frame.height else None
    return Decimal(value) if value is not None else Decimal(0)


def amount_text(text: str, file: str, line: int | None, what: str) -> Decimal:
    try:
        return parse_amount(text)
    except MoneyError as exc:
        raise StatementRejected(file, line, f"{what}: {exc}", code="invalid_footer") from None


def count_text(text: str, file: str, line: int | None, what: str) -> int:
    """Counts are sometimes printed as floats ("20.0"); anything not a whole number is refused."""
    value = amount_text(text, file, line, what)
    if value != value.to_integral_value() or value < 0:
        raise StatementRejected(file, line, f"{what}: {text!r} is not a count", code="invalid_footer")
    return int(value)


def compare(file: str, line: int | None, what: str, stated: object, computed: object, checks: list[str]) -> None:
    """One control total: equal is recorded as a check, unequal rejects the whole file."""
    if stated != computed:
        raise StatementRejected(file, line, f"totals mismatch: {what} says {stated}, lines give {computed}", code="totals_mismatch")
    checks.append(f"{what} {stated} = lines")
