"""Row checks for the CSV statement parsers: every rule evaluated in one pass, the first failing
line reported.

A check is a boolean expression true on an offending row plus the words that say why; `enforce`
evaluates all of them at once and, only when one fails, finds its first line in the file's order,
so a clean file pays one vectorised pass and a bad one is refused naming its line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from parsers.columns import SCIENTIFIC_ID
from parsers.csv_common import AMOUNT_RE, LINE
from recon.errors import PROBLEM_CAP, Problem, StatementRejected
from recon.money import INTEGER_DIGITS, MoneyError, currency_code, exponent
from recon.schema import MONEY


@dataclass(frozen=True, slots=True)
class Check:
    """A row rule: `mask` is true on an offending row and `message(row)` says why.

    `exact`, when given, is the rule as it must be reported and `mask` a cheaper test that is true
    at least wherever `exact` is (so a clean file never evaluates `exact`).
    """

    mask: pl.Expr
    message: Callable[[dict], str]
    code: str
    exact: pl.Expr | None = None


def enforce(frame: pl.DataFrame, checks: Sequence[Check], file: str) -> None:
    """Reject naming every failing line of every failing check (the first failing check's first
    line is the headline, as before); one pass when none fails."""
    if not checks:
        return
    hits = frame.select(c.mask.any().alias(f"_{i}") for i, c in enumerate(checks)).row(0)
    problems: list[Problem] = []
    count = 0
    for check, hit in zip(checks, hits):
        if hit:
            bad = frame.filter(check.exact if check.exact is not None else check.mask)
            count += bad.height
            problems += [Problem(file, row[LINE], check.message(row), check.code)
                         for row in bad.head(PROBLEM_CAP).iter_rows(named=True)]
    if problems:
        raise StatementRejected.of(problems, count, by_line=True)


def reject_first(frame: pl.DataFrame, mask: pl.Expr, file: str, message: Callable[[dict], str], code: str) -> None:
    """Raise `StatementRejected` for the first row where `mask` holds, naming its line."""
    hit = frame.filter(mask).head(1)
    if hit.height:
        row = hit.row(0, named=True)
        raise StatementRejected(file, row[LINE], message(row), code=code)


def scientific(frame: pl.DataFrame, columns: Iterable[str]) -> list[Check]:
    """An id in scientific notation lost its digits in a spreadsheet for good (FAULTS A10): reject.

    Such an id starts with a sign, a digit or a point, all below ':'; a column whose smallest
    value does not (`txn_...`, `ORDER-...`) cannot hold one, and skips the regex."""
    columns = list(columns)
    low = frame.select(pl.col(c).min() for c in columns).row(0) if columns else ()
    return [Check(pl.col(c).str.contains(SCIENTIFIC_ID) if m is not None and m < ":" else pl.lit(False),
                  lambda r, c=c: f"{c} {r[c]!r} is in scientific notation (id precision lost in a spreadsheet)",
                  "scientific_id", exact=pl.col(c).str.contains(SCIENTIFIC_ID)) for c, m in zip(columns, low)]


def required(columns: Iterable[str]) -> list[Check]:
    return [Check(pl.col(c).is_null(), lambda r, c=c: f"required value {c} is empty", "missing_value") for c in columns]


def currency_exponents(frame: pl.DataFrame, col: str, file: str, override: Callable[[str], int | None],
                       before: Sequence[Check] = ()) -> dict[str, int]:
    """Exponent of every currency in `col`. An invalid code rejects its first line, unless one of
    the `before` checks (those a reader runs first) already rejects the file."""
    result: dict[str, int] = {}
    for code in frame[col].drop_nulls().unique(maintain_order=True).to_list():
        try:
            result[code] = exponent(currency_code(code), override(code))
        except MoneyError as exc:
            enforce(frame, before, file)
            reject_first(frame, pl.col(col) == code, file, lambda r, e=exc: str(e), "currency")
    return result


def amount(col: str, currency_col: str, exps: dict[str, int]) -> list[Check]:
    """`col` against the amount grammar, then against its row's currency exponent (null passes)."""
    cell = pl.col(col)
    allowed = pl.col(currency_col).replace_strict(exps, default=None, return_dtype=pl.Int64)
    grammar = cell.is_not_null() & ~cell.str.contains(AMOUNT_RE)
    scale = cell.is_not_null() & (cell.str.extract(r"\.(\d*)$", 1).str.len_chars().fill_null(0) > allowed)
    if len(set(exps.values())) == 1:
        # One exponent e for every row: the grammar with at most e decimals tests both rules at once.
        both = cell.is_not_null() & ~cell.str.contains(rf"^[+-]?{INTEGER_DIGITS}(?:\.[0-9]{{0,{next(iter(exps.values()))}}})?$")
        fast_grammar, fast_scale = both, both
    else:
        # Bytes after the point: never fewer than the digits the exact rule counts, and no regex.
        after = (cell.str.len_bytes().cast(pl.Int64) - cell.str.find(".", literal=True) - 1).fill_null(0)
        fast_grammar, fast_scale = grammar, cell.is_not_null() & (after > allowed)
    return [
        Check(fast_grammar, lambda r: f"{col} {r[col]!r} is not an amount", "amount", exact=grammar),
        Check(fast_scale, lambda r: f"{col} {r[col]!r} has more decimals than {r[currency_col]} allows", "amount_scale",
              exact=scale),
    ]


def by_value(frame: pl.DataFrame, col: str, convert: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """`convert(col)` computed once per distinct value and spread back over the rows, in order: for
    a costly parse of a column that repeats itself (times to the second, in a day's report)."""
    cells = frame.select(col)
    done = cells.unique().with_columns(convert(pl.col(col)).alias("_converted"))
    return cells.join(done, on=col, how="left", maintain_order="left", nulls_equal=True)["_converted"]


def money(col: str) -> pl.Expr:
    """The MONEY cast of an amount that passed `amount`: exact, its scale never exceeds MONEY's.
    (Polars reads a trailing point, `12.`, as 12, as `recon.money.parse_amount` does.)"""
    return pl.col(col).cast(MONEY)
