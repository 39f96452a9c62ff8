"""The toolkit's vectorised cell builders agree with its scalar ones (issue #19: one grammar per cell
kind, checked before conversion, whichever read path a parser takes).

Hypothesis writes cells from the characters that matter (digits, signs, points, separators, a
letter) and each is judged twice: by the polars expressions the CSV parsers run and by the scalar
builders in recon.money / the time grammar / `utc_instant`. A signed year, a 19-digit amount or a fraction where a
count belongs must be refused by both, and an accepted cell must mean the same value in both.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from parsers.table import TIME_FORMAT, Verdict, amount, local_time, time, time_grammar, to_utc, utc_instant
from recon.errors import StatementRejected
from recon.money import AmountGrammar, MoneyError, parse_amount, parse_count

from .budget import parser_settings

SETTINGS = parser_settings(100)
AMOUNT_TEXT = st.text(alphabet="0123456789.-+e ", max_size=30) | st.from_regex(r"-?\d{1,25}(\.\d{0,3})?", fullmatch=True)
TIME_TEXT = st.text(alphabet="0123456789-: T", max_size=22) | st.datetimes(
    min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)).map(lambda d: f"{d:%Y-%m-%d %H:%M:%S}")


def _scalar_amount(text: str) -> Decimal | None:
    if text != text.strip():
        return None  # readers trim cells before the check; the vectorised rule sees the cell as it is
    try:
        return parse_amount(text, AmountGrammar(max_scale=2))
    except MoneyError:
        return None


@SETTINGS
@given(text=AMOUNT_TEXT)
@example("1" * 18 + ".00")
@example("1" * 19 + ".00")
@example("000000000000000000001.50")
def test_vectorised_amount_equals_the_scalar_builder(text: str) -> None:
    value, rule = amount("a", "a", 2)
    frame = pl.DataFrame({"a": [text]}).select(bad=rule.bad, value=value)
    bad, value = frame.row(0)
    ok = not bad
    scalar = _scalar_amount(text)
    assert bool(ok) == (scalar is not None), text
    if ok:
        assert Decimal(value) == scalar


def test_a_negative_zero_amount_is_zero() -> None:
    value, _ = amount("a", "a", 2, blank="zero")
    assert [str(v) for v in pl.DataFrame({"a": ["-0.00", "-0", "+0.0", "", "0"]}).select(value).to_series()] == ["0.000000"] * 5


@SETTINGS
@given(text=TIME_TEXT)
@example("-2024-03-01 10:00:00")
@example("2024-3-1 10:00:00")
@example("2024-02-30 10:00:00")
def test_time_cells_pass_the_grammar_before_the_calendar(text: str) -> None:
    parsed = pl.DataFrame({"t": [text]}).select(local_time("t")).item()
    try:
        expected = dt.datetime.strptime(text, TIME_FORMAT) if re.fullmatch(time_grammar(TIME_FORMAT), text) else None
    except ValueError:
        expected = None
    assert parsed == expected, text


@SETTINGS
@given(text=st.text(alphabet="0123456789.-", max_size=8))
@example("3.9")
@example("20.0")
def test_counts_are_whole_numbers_or_refused(text: str) -> None:
    try:
        count = parse_count(text)
    except MoneyError:
        assert not re.fullmatch(r"0*\d{1,18}(\.0*)?", text)
        return
    assert Decimal(text) == count and count >= 0


ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Shanghai")
NEAR_CHANGES = st.sampled_from([dt.datetime(2026, 3, 29, 2), dt.datetime(2026, 10, 25, 2), dt.datetime(2026, 3, 8, 2),
                                dt.datetime(2026, 11, 1, 1), dt.datetime(2026, 4, 5, 1, 30), dt.datetime(2026, 10, 4, 2)])


@SETTINGS
@given(local=st.one_of(st.builds(lambda at, minutes: at + dt.timedelta(minutes=minutes), NEAR_CHANGES, st.integers(-90, 90)),
                       st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2099, 12, 31))),
       zone=st.sampled_from(ZONES))
@example(local=dt.datetime(2026, 3, 29, 2, 30), zone="Europe/Berlin")
@example(local=dt.datetime(2026, 10, 25, 2, 30), zone="Europe/Berlin")
def test_one_policy_for_local_times_whichever_reader(local: dt.datetime, zone: str) -> None:
    """The vectorised `to_utc` and the record-by-record `utc_instant` (UnionPay's) read every local
    time alike: a gap time is no instant, a repeated hour its earlier one."""
    local = local.replace(microsecond=0)
    vectorised = pl.DataFrame({"t": [local]}).select(to_utc(pl.col("t"), zone)).item()
    scalar = utc_instant(local, ZoneInfo(zone))
    assert vectorised == scalar, (local, zone)
    if scalar is not None:  # the earlier of two readings, when the hour repeats
        later = local.replace(tzinfo=ZoneInfo(zone), fold=1).astimezone(dt.timezone.utc)
        assert scalar <= later


CELL = st.sampled_from(["1.00", "-2.5", "+3", "12.", "1e5", "1.005", "", " 1", "9" * 19, "0.10"])


@SETTINGS
@given(cells=st.lists(st.tuples(CELL, st.sampled_from(["2026-01-02 03:04:05", "-2026-01-02 03:04:05", "2026-1-2 03:04:05"])),
                      min_size=1, max_size=12))
def test_a_refusal_lists_every_failing_row_of_every_rule(cells: list[tuple[str, str]]) -> None:
    """However many rules fail on however many rows, the refusal lists each (rule, line) once, in
    file order after its headline: the first failing line of the first rule in the format's order."""
    frame = pl.DataFrame({"a": [a for a, _ in cells], "t": [t for _, t in cells], "line": list(range(2, len(cells) + 2))})
    rules = [amount("a", "a", 2)[1], time("t", "t")[1]]
    bad_amounts = [n for n, (a, _) in enumerate(cells, 2) if _scalar_amount(a) is None]
    bad_times = [n for n, (_, t) in enumerate(cells, 2) if not re.fullmatch(time_grammar(TIME_FORMAT), t)]
    if not bad_amounts and not bad_times:
        Verdict(frame, rules, "f").refuse()  # nothing to refuse: returns
        return
    with pytest.raises(StatementRejected) as err:
        Verdict(frame, rules, "f").refuse()
    problems = err.value.problems
    assert err.value.problem.line == (bad_amounts or bad_times)[0]
    assert sorted((p.code, p.line) for p in problems) == sorted(
        [("bad_amount", n) for n in bad_amounts] + [("bad_time", n) for n in bad_times])
    assert [p.line for p in problems[1:]] == sorted(p.line for p in problems[1:])
    assert all(p.file == "f" and (p.message.startswith("a ") or p.message.startswith("t ")) for p in problems)
