"""The toolkit's vectorised cell builders agree with its scalar ones (issue #19: one grammar per cell
kind, checked before conversion, whichever read path a parser takes).

Hypothesis writes cells from the characters that matter (digits, signs, points, separators, a
letter) and each is judged twice: by the polars expressions the CSV parsers run and by the scalar
builders in recon.money / the time grammar. A signed year, a 19-digit amount or a fraction where a
count belongs must be refused by both, and an accepted cell must mean the same value in both.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from parsers.table import TIME_FORMAT, amount, local_time, time_grammar
from recon.money import AmountGrammar, MoneyError, parse_amount, parse_count

SETTINGS = settings(deadline=None)  # examples from the profile: HYPOTHESIS_PROFILE=ci runs 2,000 (tests/conftest.py)
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
