"""The parser toolkit: one rule type, one verdict, one builder per cell kind (issue #19).

Every tabular parser (CSV, the Chinese channels' bills, WeChat's trade bill) checks its cells the
same way:

* A `Rule` is a boolean expression true on an offending row, and the words that say why. A
  `Verdict` evaluates every rule of a table (and the control sums its footers are compared with) in
  one vectorised pass; only a broken rule looks at the rows again. A refusal lists every offending
  line of every broken rule (capped at PROBLEM_CAP, with the count in all), headed by the first
  line of the first broken rule in the order the format checks them, each naming its column.
* Cells are text until a builder has checked them against one grammar and only then converted:
  `amount` (the grammar `recon.money.parse_amount` accepts, with at most the format's decimals:
  the currency's minor unit, or a documented exception such as WeChat's fees quoted to 5 decimals;
  `minor_unit` checks a row's own currency), `count_text` (whole numbers only: `20.0` is 20, `3.9`
  is refused, never truncated), `local_time`/`time` (the format's digits exactly, then the calendar: no
  signed years) with one policy for local times (`DST_RULE`), and `scientific_id` (an id a
  spreadsheet turned into `4.2E+27` lost its digits). polars' own casts would accept `1e5`, round
  extra decimals and read `-2024-03-01` as a negative year, so none is ever applied unchecked.

The fast native read paths (cn_common, csv_common) build the same frames of text and hand them to
these rules, so a file is judged the same way whichever way it was read; the equivalence proofs and
fuzzers are gathered in tests/parsers_toolkit/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

import polars as pl

from recon.errors import PROBLEM_CAP, Problem, StatementRejected
from recon.money import (
    INTEGER_DIGITS,
    MAX_INTEGER_DIGITS,
    MoneyError,
    currency_code,
    exponent,
    parse_amount,
    parse_count,
)
from recon.schema import MONEY

# An id a spreadsheet turned into scientific notation (4.2000001E+27): its digits are gone.
SCIENTIFIC_ID = r"^[+-]?[0-9.]+[eE][+-]?\d+$"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# The key under which a rule's `quote` reaches its reason.
QUOTE = "quote,"


@dataclass(frozen=True, slots=True, eq=False)
class Rule:
    """A row rule: `bad` is true on an offending row; `reason` says why, as a text or as a function
    of the offending row (its cells by name, `quote`'s value under QUOTE, the line under its name).

    `screen`, when given, is a cheaper test true at least wherever `bad` is (an `e` before the full
    scientific-notation regex): a clean file then never evaluates `bad`."""

    bad: pl.Expr
    reason: str | Callable[[dict[str, Any]], str]
    code: str = "invalid_row"
    screen: pl.Expr | None = None
    quote: pl.Expr | None = None


# What `Verdict.run` applies in order: a rule; a refusal known before the pass, which ends the list;
# or a check of the pass's sums, given them by name.
Step = Rule | Exception | Callable[[dict[str, Any]], None]


class Verdict:
    """Every rule and sum of one table, evaluated together in one pass.

    `frame` (eager or lazy) carries each row's physical line in the column `line`. `sums` are
    row-wise values the verdict adds up (a bool counts its true rows); `rows` is the number of
    rows. With `columns`, the same pass also builds those columns (`frame` may then be a streaming
    scan of a large file, never held whole): they are `built`. Nothing is raised until `refuse` or
    `run` is asked."""

    def __init__(self, frame: pl.DataFrame | pl.LazyFrame, rules: Sequence[Rule] | Mapping[str, Rule], file: str, *,
                 sums: Mapping[str, pl.Expr] | None = None, columns: Mapping[str, pl.Expr] | None = None,
                 line: str = "line") -> None:
        self._frame, self._file, self._line = frame.lazy(), file, line
        self._rules = dict(rules) if isinstance(rules, Mapping) else {r: r for r in rules}
        sums = {k: e for k, e in (sums or {}).items() if k != "rows"}
        keys = list(self._rules)
        flags = [(r.screen if r.screen is not None else r.bad).fill_null(False) for r in self._rules.values()]
        if columns is None:
            found = self._frame.select(*(f.any().alias(f"ok,{i}") for i, f in enumerate(flags)),
                                       pl.len().alias("rows,"),
                                       *(e.sum().alias(f"sum,{k}") for k, e in sums.items())).collect().row(0)
            self.built = None
        else:
            passed = self._frame.select(*(f.alias(f"ok,{i}") for i, f in enumerate(flags)), **columns,
                                        **{f"sum,{k}": e for k, e in sums.items()}).collect(engine="streaming")
            # select_seq: picking and totalling columns is cheap, and the parallel select would first
            # copy each of the pass's many chunks into one
            found = passed.select_seq(*(pl.col(f"ok,{i}").any() for i in range(len(flags))),
                                      pl.lit(passed.height).alias("rows,"),
                                      *(pl.col(f"sum,{k}").sum() for k in sums)).row(0)
            self.built = passed.select_seq(*columns)
        hit = dict(zip(keys, found[: len(keys)]))
        self.sums = {"rows": found[len(keys)], **dict(zip(sums, found[len(keys) + 1:]))}
        screened = [k for k in keys if hit[k] and self._rules[k].screen is not None]
        if screened:  # the screen fired: does the rule itself?
            exact = self._frame.select(self._rules[k].bad.fill_null(False).any() for k in screened).collect().row(0)
            hit.update(zip(screened, exact))
        self._broken = {k for k in keys if hit[k]}

    def __getitem__(self, key: str) -> Any:
        return self.sums[key]

    def decimal(self, key: str, rows: str) -> Decimal:
        """A Decimal sum; over no rows it is 0 (not 0.000000), as the footers' messages print it."""
        return Decimal(self.sums[key]) if self.sums[rows] else Decimal(0)

    def refuse(self, *keys: Any) -> None:
        """Raise for the first broken rule among `keys` (all rules when none are named), headed by its
        first offending line, listing every offending line of every broken rule among them."""
        broken = [k for k in dict.fromkeys(keys or self._rules) if k in self._broken]
        if not broken:
            return
        problems: list[Problem] = []
        count = 0
        for key in broken:
            rule = self._rules[key]
            bad = self._frame.filter(rule.bad.fill_null(False))
            if rule.quote is not None:
                bad = bad.with_columns(rule.quote.alias(QUOTE))
            count += bad.select(pl.len()).collect().item()
            for row in bad.head(PROBLEM_CAP).collect().iter_rows(named=True):
                why = rule.reason if isinstance(rule.reason, str) else rule.reason(row)
                problems.append(Problem(self._file, int(row[self._line]), why, rule.code))
        raise StatementRejected.of(problems, count, by_line=True)

    def run(self, steps: Sequence[Step]) -> None:
        """Apply `steps` in order; the first that fails raises (a broken rule lists every other too)."""
        rules = [s for s in steps if isinstance(s, Rule)]
        for step in steps:
            if isinstance(step, Exception):
                raise step
            if isinstance(step, Rule):
                if step in self._broken:
                    self.refuse(step, *rules)
            else:
                step(self.sums)


def quoted(label: str, what: str, where: str = "") -> Callable[[dict[str, Any]], str]:
    """The reason `label 'value' what`, quoting the rule's `quote`."""
    return lambda row: f"{label} {row[QUOTE]!r} {what}{where}"


def required(cells: Iterable[str], code: str = "missing_value") -> list[Rule]:
    return [Rule(pl.col(c).is_null(), f"required value {c} is empty", code) for c in cells]


def blank_to_null(cell: str | pl.Expr, *nulls: str) -> pl.Expr:
    """Trimmed text; empty strings and the format's placeholder values become null."""
    col = _col(cell).str.strip_chars()
    # when/then rather than Expr.replace: replace makes polars' streaming engine gather the frame
    out = pl.when(col.is_in(["", *nulls])).then(pl.lit(None, dtype=pl.String)).otherwise(col)
    return out.alias(cell) if isinstance(cell, str) else out


def _col(cell: str | pl.Expr) -> pl.Expr:
    return pl.col(cell) if isinstance(cell, str) else cell


# --- amounts ---------------------------------------------------------------------------------

Blank = Literal["refuse", "zero", "null"]


def amount_pattern(max_scale: int | None, *, signed: bool = True) -> str:
    """`recon.money.parse_amount`'s grammar (a sign, 18 digits, a point and decimals; no exponent,
    no separators) with at most `max_scale` decimals (any number when None); no sign when the
    format gives the direction in a column of its own (`signed=False`)."""
    decimals = "[0-9]*" if max_scale is None else f"[0-9]{{0,{max_scale}}}"
    return rf"^{'[+-]?' if signed else ''}{INTEGER_DIGITS}(?:\.{decimals})?$"


def amount(cell: str | pl.Expr, label: str, max_scale: int | None, *, blank: Blank = "refuse", where: str = "",
           signed: bool = True, code: str = "bad_amount") -> tuple[pl.Expr, Rule]:
    """The cell as exact MONEY where it fits the amount grammar with at most `max_scale` decimals
    (null elsewhere), and the rule refusing the rows where it does not. A blank cell is refused,
    read as zero, or left null for a `required` rule to judge (`blank`)."""
    col = _col(cell)
    fits = col.str.contains(amount_pattern(max_scale, signed=signed))
    scale = ("" if signed else " without a sign") + ("" if max_scale is None else f" with at most {max_scale} decimals")
    empty = col.is_null() | (col == "")
    bad = ~fits.fill_null(False) if blank == "refuse" else ~empty & ~fits
    # Not strict: the grammar bounds the digits, and a value the cast still refuses becomes null
    # rather than an exception inside polars. A negative zero is written as zero: MONEY is a
    # scaled integer, so "-0.00" is the same 0 as "0.00" (tests/parsers_toolkit/test_cell_builders.py).
    value = pl.when(fits).then(col).cast(MONEY, strict=False)
    if blank == "zero":
        value = value.fill_null(pl.lit(0).cast(MONEY))
    why = f"is not an amount{scale} (at most {MAX_INTEGER_DIGITS} digits before the point)"
    return value, Rule(bad, quoted(label, why, where), code, quote=col)


def currency_exponents(frame: pl.DataFrame, cell: str, file: str, override: Callable[[str], int | None],
                       before: Sequence[Rule] = (), *, line: str) -> dict[str, int]:
    """The minor-unit exponent of every currency in `cell`. An invalid code refuses the file at its
    lines, unless one of the `before` rules (those a reader checks first) already refuses it."""
    result: dict[str, int] = {}
    for code in frame[cell].drop_nulls().unique(maintain_order=True).to_list():
        try:
            result[code] = exponent(currency_code(code), override(code))
        except MoneyError as exc:
            Verdict(frame, before, file, line=line).refuse()
            Verdict(frame, [Rule(pl.col(cell) == code, str(exc), "currency")], file, line=line).refuse()
    return result


def minor_unit(cell: str, currency: str, exps: dict[str, int]) -> Rule:
    """The rule that an amount (one that fits `amount`'s grammar) has no more decimals than its
    row's currency allows (`exps`, from `currency_exponents`); a blank cell passes."""
    col = pl.col(cell)
    allowed = pl.col(currency).replace_strict(exps, default=None, return_dtype=pl.Int64)
    bad = col.is_not_null() & (col.str.extract(r"\.(\d*)$", 1).str.len_chars().fill_null(0) > allowed)
    # Bytes after the point: never fewer than the digits the exact rule counts, and no regex.
    after = (col.str.len_bytes().cast(pl.Int64) - col.str.find(".", literal=True) - 1).fill_null(0)
    return Rule(bad, lambda r: f"{cell} {r[cell]!r} has more decimals than {r[currency]} allows", "amount_scale",
                screen=col.is_not_null() & (after > allowed))


def amount_text(text: str, file: str, line: int | None, what: str, code: str = "invalid_footer") -> Decimal:
    """One amount outside the table (a footer's, a summary's), by the same grammar."""
    try:
        return parse_amount(text)
    except MoneyError:
        raise StatementRejected(file, line, f"{what} {text!r} is not an amount", code=code) from None


def count_text(text: str, file: str, line: int | None, what: str, code: str = "invalid_footer") -> int:
    """A count: a whole number of rows (`20.0` is 20; `3.9` is refused, never truncated)."""
    try:
        return parse_count(text)
    except MoneyError:
        raise StatementRejected(file, line, f"{what} {text!r} is not a count", code=code) from None


def compare(file: str, line: int | None, what: str, stated: object, computed: object, checks: list[str]) -> None:
    """One control total: equal is recorded as a check, unequal refuses the whole file."""
    if stated != computed:
        raise StatementRejected(file, line, f"totals mismatch: {what} says {stated}, lines give {computed}",
                                code="totals_mismatch")
    checks.append(f"{what} {stated} = lines")


# --- ids ---------------------------------------------------------------------------------------


def scientific_id(cell: str | pl.Expr, label: str, where: str = "") -> Rule:
    """An id a spreadsheet turned into scientific notation lost its digits for good: refused. Only
    a cell holding an `e` can be one, so that cheap test screens the regex."""
    col = _col(cell)
    why = quoted(label, "is in scientific notation (its digits were lost in a spreadsheet)", where)
    return Rule(col.str.contains(SCIENTIFIC_ID), why, "id_mangled", screen=col.str.contains_any(["e", "E"]), quote=col)


# --- times -------------------------------------------------------------------------------------

_FMT_GRAMMAR = {"%Y": "[0-9]{4}", "%m": "[0-9]{2}", "%d": "[0-9]{2}", "%H": "[0-9]{2}", "%M": "[0-9]{2}",
                "%S": "[0-9]{2}", "%z": "[+-][0-9]{4}"}


def time_grammar(fmt: str) -> str:
    """The regex a time in `fmt` must match before conversion: exactly the digits the format says.
    polars' strptime alone accepts a signed year (`-2024-03-01 ...`, a negative-year timestamp the
    fuzzer found) and single-digit fields; the grammar is checked first, one rule for every parser."""
    out = re.escape(fmt)
    for code, pattern in _FMT_GRAMMAR.items():
        out = out.replace(re.escape(code), pattern)
    return f"^{out}$"


def local_time(cell: str | pl.Expr, fmt: str = TIME_FORMAT) -> pl.Expr:
    """Naive local times (UTC instants when `fmt` has an offset, %z); null where the text is not a
    time in `fmt` (grammar first, then the calendar)."""
    col = _col(cell)
    dtype = pl.Datetime("us", "UTC") if "%z" in fmt else pl.Datetime("us")
    # cache=False: a bill's times are mostly distinct, so memoising them costs more than it saves
    parsed = col.str.strptime(dtype, fmt, strict=False, cache=False)
    return pl.when(col.str.contains(time_grammar(fmt))).then(parsed).otherwise(pl.lit(None, dtype=dtype))


def time(cell: str | pl.Expr, label: str, fmt: str = TIME_FORMAT, *, blank: Blank = "refuse", where: str = "",
         code: str = "bad_time") -> tuple[pl.Expr, Rule]:
    """The cell as a naive local time, and the rule refusing a time that is not one (`blank`: a
    blank cell is refused, or left null)."""
    col = _col(cell)
    parsed = local_time(col, fmt)
    bad = parsed.is_null() if blank == "refuse" else parsed.is_null() & col.is_not_null() & (col != "")
    return parsed, Rule(bad, quoted(label, f"is not a time in the form {fmt}", where), code, quote=col)


# The one ambiguity policy for local times in a zone with daylight saving (every parser uses it):
# a time in the autumn's repeated hour is read as its first occurrence (the statement gives no
# offset to tell them apart, and the earlier instant keeps the day's order); a time in the spring
# gap does not exist, so it is refused with its line, the zone and this rule (`dst_gap`).
DST_RULE = "a time in a daylight-saving gap is refused; a repeated hour is read as its first occurrence"


def to_utc(local: pl.Expr, zone: ZoneInfo | str) -> pl.Expr:
    """Naive local times in `zone` as UTC instants, by DST_RULE (null where the time does not exist)."""
    key = zone if isinstance(zone, str) else zone.key
    return local.dt.replace_time_zone(key, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")


def dst_gap(local: pl.Expr, label: str, zone: ZoneInfo | str) -> Rule:
    """The rule refusing a (non-null) local time that does not exist in `zone`."""
    return Rule(local.is_not_null() & to_utc(local, zone).is_null(),
                lambda row: dst_gap_message(label, row[QUOTE], zone), "bad_time", quote=local.dt.strftime(TIME_FORMAT))


def dst_gap_message(label: str, local: str, zone: ZoneInfo | str) -> str:
    key = zone if isinstance(zone, str) else zone.key
    return f"{label} {local!r} does not exist in {key} (the clocks skip that hour); rule: {DST_RULE}"


def utc_instant(local: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
    """`to_utc` for one naive time (a record-by-record reader's): None where it does not exist in
    `zone`. Python's first fold is the earlier instant of a repeated hour, as DST_RULE reads it;
    a time in the gap does not survive the round trip through the zone."""
    instant = local.replace(tzinfo=zone, fold=0).astimezone(dt.timezone.utc)
    return instant if instant.astimezone(zone).replace(tzinfo=None) == local else None

