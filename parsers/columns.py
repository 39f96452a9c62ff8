"""Vectorised, strict column conversions for tabular statements (polars, no per-row Python).

polars' `str.to_decimal` rounds digits beyond the scale and turns garbage into null; both would
hide a corrupt statement. So every conversion here first checks each value against the format's
grammar with a regex, rejects the file at the first line that does not fit (naming the line, the
column and the value), and only then casts. Rows carry their physical line in `source_line`.

Each check comes in two forms. The eager ones (`money`, `require`, `ids_not_mangled`,
`local_time_to_utc`) check a frame that is already in memory and reject at once. The expression
ones (`amount_ok`, `to_money`, `not_mangled`, `local_time`, `to_utc`) are the same conditions and
casts as plain expressions; with `row_check` and `run_checks` a parser evaluates all of them in
the one streaming pass that builds its bill, and only goes back for the first failing line when a
check fails. A large file is then read once and never held whole in memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from recon.errors import PROBLEM_CAP, Problem, StatementRejected
from recon.money import INTEGER_DIGITS, MONEY_SCALE
from recon.schema import MONEY

# An id a spreadsheet turned into scientific notation (4.2000001E+27): its digits are gone.
SCIENTIFIC_ID = r"^[+-]?[0-9.]+[eE][+-]?\d+$"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def amount_pattern(max_scale: int, *, signed: bool = True) -> str:
    sign = "-?" if signed else ""
    return rf"^{sign}{INTEGER_DIGITS}(\.[0-9]{{0,{max_scale}}})?$"


def _col(column: str | pl.Expr) -> pl.Expr:
    return pl.col(column) if isinstance(column, str) else column


def amount_ok(column: str | pl.Expr, max_scale: int = 2, *, signed: bool = True, blank_as_zero: bool = False) -> pl.Expr:
    """True where the value fits the amount grammar (null where it is missing: a failure to callers).
    With `blank_as_zero` an empty or missing value is fine: it stands for zero."""
    col = _col(column)
    fits = col.str.contains(amount_pattern(max_scale, signed=signed))
    return col.is_null() | (col == "") | fits if blank_as_zero else fits


MAX_MONEY_TEXT = 26


def to_money(column: str | pl.Expr, *, blank_as_zero: bool = False) -> pl.Expr:
    """The value as MONEY; exact only where `amount_ok` holds, so check that first."""
    col = _col(column)
    # Longer than any amount the grammar allows (18 digits, 6 decimals, a sign, a point): null, which
    # the `amount_ok` check reports with its line, instead of a decimal overflow in a total.
    dec = pl.when(col.str.len_bytes() <= MAX_MONEY_TEXT).then(col).str.to_decimal(scale=MONEY_SCALE).cast(MONEY)
    if blank_as_zero:  # where amount_ok holds, only a blank or missing value has no decimal
        dec = dec.fill_null(pl.lit(0).cast(MONEY))
    # -0.00 parses to a negative zero decimal; adding zero normalises nothing in polars, so the
    # cast result is compared and rewritten explicitly.
    return pl.when(dec == 0).then(pl.lit(0).cast(MONEY)).otherwise(dec)


def not_mangled(column: str | pl.Expr) -> pl.Expr:
    """False where an id was turned into scientific notation (opened and saved in Excel)."""
    return ~_col(column).fill_null("").str.contains(SCIENTIFIC_ID)


_FMT_GRAMMAR = {"%Y": "[0-9]{4}", "%m": "[0-9]{2}", "%d": "[0-9]{2}", "%H": "[0-9]{2}", "%M": "[0-9]{2}", "%S": "[0-9]{2}"}


def time_grammar(fmt: str) -> str:
    """The regex a time in `fmt` must match before conversion: exactly the digits the format says.
    polars' strptime alone accepts a signed year (`-2024-03-01 ...`, a negative-year timestamp the
    fuzzer found) and single-digit fields; the grammar is checked first, one rule for every parser."""
    out = re.escape(fmt)
    for code, pattern in _FMT_GRAMMAR.items():
        out = out.replace(re.escape(code), pattern)
    return f"^{out}$"


def local_time(column: str | pl.Expr, fmt: str = TIME_FORMAT) -> pl.Expr:
    """Naive local times; null where the text is not a time in `fmt` (grammar first, then the calendar)."""
    col = _col(column)
    # cache=False: a bill's times are mostly distinct, so memoising them costs more than it saves
    parsed = col.str.strptime(pl.Datetime("us"), fmt, strict=False, cache=False)
    return pl.when(col.str.contains(time_grammar(fmt))).then(parsed).otherwise(pl.lit(None, dtype=pl.Datetime("us")))


# The one ambiguity policy for local times in a zone with daylight saving (every parser uses it):
# a time in the autumn's repeated hour is read as its first occurrence (the statement gives no
# offset to tell them apart, and the earlier instant keeps the day's order); a time in the spring
# gap does not exist, so it is refused with its line, the zone and this rule (`dst_gap_problems`).
DST_RULE = "a time in a daylight-saving gap is refused; a repeated hour is read as its first occurrence"


def to_utc(local: pl.Expr, zone: ZoneInfo | str) -> pl.Expr:
    """Naive local times in `zone` as UTC instants, by DST_RULE (null where the time does not exist)."""
    key = zone if isinstance(zone, str) else zone.key
    return local.dt.replace_time_zone(key, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")


def in_dst_gap(local: pl.Expr, zone: ZoneInfo | str) -> pl.Expr:
    """True where a (non-null) local time does not exist in `zone`."""
    return local.is_not_null() & to_utc(local, zone).is_null()


def dst_gap_message(column: str, value: object, zone: ZoneInfo | str) -> str:
    key = zone if isinstance(zone, str) else zone.key
    return f"{column} {str(value)!r} does not exist in {key} (the clocks skip that hour); rule: {DST_RULE}"


def dst_gap_check(local: pl.Expr, column: str, file: str, zone: ZoneInfo | str) -> RowCheck:
    """The DST gap as a row check for `run_checks`."""
    def reject(line: int, found: Any) -> StatementRejected:
        return StatementRejected(file, line, dst_gap_message(column, found, zone), code="bad_time")
    return RowCheck(~in_dst_gap(local, zone), local.dt.strftime(TIME_FORMAT), reject)


def refuse_dst_gaps(frame: pl.DataFrame, local: str, column: str, file: str, zone: ZoneInfo | str, *,
                    line: str = "source_line") -> None:
    """Eager form: refuse `frame` naming every row whose local time falls in the zone's gap."""
    bad = frame.filter(in_dst_gap(pl.col(local), zone)).select(line, pl.col(local).dt.strftime(TIME_FORMAT))
    if bad.height:
        problems = [Problem(file, int(n), dst_gap_message(column, v, zone), "bad_time")
                    for n, v in bad.head(PROBLEM_CAP).iter_rows()]
        raise StatementRejected.of(problems, bad.height)


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
    require(frame, amount_ok(column, max_scale, signed=signed, blank_as_zero=blank_as_zero), column, file,
            f"is not an amount with at most {max_scale} decimals", code="bad_amount")
    return to_money(column, blank_as_zero=blank_as_zero)


def ids_not_mangled(frame: pl.DataFrame, columns: list[str], file: str) -> None:
    """Refuse ids that Excel already turned into scientific notation: their digits are gone."""
    for column in columns:
        if column in frame.columns:
            require(frame, not_mangled(column), column, file,
                    "lost its digits to scientific notation (opened and saved in Excel?)", code="id_mangled")


def local_time_to_utc(frame: pl.DataFrame, column: str, file: str, zone: ZoneInfo,
                      fmt: str = TIME_FORMAT) -> pl.Expr:
    """Parse naive local times strictly and convert them to UTC; a bad or missing time is rejected."""
    parsed = local_time(column, fmt)
    require(frame, parsed.is_not_null(), column, file, f"is not a time in the form {fmt}", code="bad_time")
    refuse_dst_gaps(frame.select("source_line", parsed.alias("_local")), "_local", column, file, zone)
    return to_utc(parsed, zone)


def blank_to_null(column: str | pl.Expr, *nulls: str) -> pl.Expr:
    """Trimmed text; empty strings and the format's placeholder values become null."""
    col = _col(column).str.strip_chars()
    # when/then rather than Expr.replace: replace makes polars' streaming engine gather the frame
    out = pl.when(col.is_in(["", *nulls])).then(pl.lit(None, dtype=pl.String)).otherwise(col)
    return out.alias(column) if isinstance(column, str) else out


@dataclass(frozen=True, slots=True, eq=False)
class RowCheck:
    """A condition every row meets, and the rejection for the first row (its line, its value) that does not."""

    ok: pl.Expr
    value: pl.Expr  # what the rejection quotes
    reject: Callable[[int, Any], StatementRejected]


def row_check(ok: pl.Expr, column: str, file: str, what: str, *, code: str = "bad_value",
              value: pl.Expr | None = None) -> RowCheck:
    """`require` as a RowCheck: the same condition and message, checked by `run_checks`."""
    def reject(line: int, found: Any) -> StatementRejected:
        return StatementRejected(file, line, f"{column} {found!r} {what}", code=code)
    return RowCheck(ok, pl.col(column).cast(pl.String) if value is None else value, reject)


# What `run_checks` applies, in order: a row check; a rejection (or error) known before the pass,
# which ends the list; or a check of the pass's column totals, given them by name.
Step = RowCheck | Exception | Callable[[dict[str, Any]], None]


def _every_failure(frame: pl.LazyFrame, first: RowCheck, others: list[RowCheck]) -> StatementRejected:
    """The refusal for `first` (headline: its first false row), listing every false row of it and of
    the other failed row checks, capped, with the count in all."""
    problems: list[Problem] = []
    count = 0
    for check in (first, *others):
        bad = frame.filter(~check.ok.fill_null(False)).select("source_line", check.value.alias("_value"))
        count += bad.select(pl.len()).collect(engine="streaming").item()
        for line, value in bad.head(PROBLEM_CAP).collect(engine="streaming").iter_rows():
            problems.append(check.reject(int(line), value).problem)
    return StatementRejected.of(problems, count, by_line=True)


def run_checks(frame: pl.LazyFrame, steps: Sequence[Step], columns: dict[str, pl.Expr],
               totals: dict[str, pl.Expr]) -> pl.DataFrame:
    """Build `columns` from `frame` (which carries `source_line`) in one streaming pass that also
    evaluates every row check and sums each of `totals`; then apply `steps` in order and raise the
    first that fails. Only a failed row check looks at `frame` again, for its first false row."""
    checks = [s for s in steps if isinstance(s, RowCheck)]
    flags = {check: f"ok,{i}" for i, check in enumerate(checks)}  # a comma: no clash with a column name
    sums = {f"sum,{name}": expr for name, expr in totals.items()}
    passed = frame.select(*(c.ok.fill_null(False).alias(flags[c]) for c in checks), **columns, **sums).collect(engine="streaming")
    # select_seq: picking and totalling columns is cheap, and the parallel select would first copy
    # each of the pass's many chunks into one
    found = passed.select_seq(*(pl.col(f).all() for f in flags.values()), *(pl.col(s).sum() for s in sums)).row(0, named=True)
    for step in steps:
        if isinstance(step, Exception):
            raise step
        if isinstance(step, RowCheck):
            if not found[flags[step]]:
                raise _every_failure(frame, step, [c for c in checks if c is not step and not found[flags[c]]])
        else:
            step({name: found[f"sum,{name}"] for name in totals})
    return passed.select_seq(*columns)
