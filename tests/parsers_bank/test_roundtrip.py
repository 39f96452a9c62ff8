"""Property: a generated statement written as MT940 or camt.053 and parsed back gives its rows.

Statements are drawn by hypothesis (amounts, marks, fee and reversal lines, references, names and
remittance text, dates across a year end); `tests.synth.bank` writes them; the parsed bill must
carry exactly the generated lines, and the balance check must pass (the writer chains balances by
construction). A modest budget keeps a developer's run fast; CI searches deeper (tests/parsers_toolkit/budget.py).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from tests.synth.bank import SynthLine, SynthStatement, write_camt053, write_mt940
from tests.parsers_bank.conftest import parse
from tests.parsers_toolkit.budget import parser_settings

WORD = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.,", min_size=1, max_size=12)
TEXT = st.lists(WORD, min_size=1, max_size=8).map(" ".join)


@st.composite
def lines(draw, day: dt.date, index: int) -> SynthLine:
    cents = draw(st.integers(min_value=1, max_value=10**11))
    kind = draw(st.sampled_from(["credit", "debit", "fee", "reversal"]))
    amount = Decimal(cents).scaleb(-2) * (1 if kind == "credit" else -1)
    return SynthLine(
        value_date=day - dt.timedelta(days=draw(st.integers(0, 3))), entry_date=day, amount=amount,
        type_code="CHG" if kind == "fee" else "TRF", reversal=kind == "reversal",
        customer_ref=draw(st.none() | st.from_regex(r"[A-Z0-9]{4,16}", fullmatch=True)) if kind != "fee" else None,
        bank_ref=f"B{index:06d}", counterparty=draw(TEXT), remittance=draw(TEXT),
    )


@st.composite
def statements(draw) -> SynthStatement:
    day = dt.date(2025, 12, 28) + dt.timedelta(days=draw(st.integers(0, 8)))
    n = draw(st.integers(0, 6))
    opening = Decimal(draw(st.integers(-10**10, 10**10))).scaleb(-2)
    return SynthStatement("ST" + day.strftime("%Y%m%d"), 1, "NL91ABNA0417164300", "EUR", day - dt.timedelta(days=1),
                          opening, tuple(draw(lines(day, i)) for i in range(n)))


def _expected(stmt: SynthStatement) -> list[tuple]:
    def kind(ln: SynthLine) -> str:
        if ln.reversal:
            return "ADJUSTMENT"
        if ln.type_code == "CHG":
            return "FEE"
        return "PAYMENT" if ln.amount > 0 else "PAYOUT"

    return [(kind(ln), ln.amount, ln.bank_ref, ln.customer_ref, ln.entry_date, ln.value_date, ln.counterparty, ln.remittance)
            for ln in stmt.lines]


COLUMNS = ("record_type", "amount", "channel_txn_id", "merchant_txn_id", "bill_date", "value_date", "counterparty", "memo")


def _rows(path: Path, fmt: str) -> list[tuple]:
    parsed = parse(fmt, path)
    rows = parsed.bill.select(*COLUMNS).rows()
    # bill_date is the statement's (closing) date; every line is booked that day in these statements
    return rows, parsed


@parser_settings(25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stmt=statements())
def test_mt940_round_trip(tmp_path: Path, stmt: SynthStatement) -> None:
    out = io.StringIO()
    write_mt940(iter([stmt]), out)
    path = tmp_path / "rt.mt940"
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    rows, parsed = _rows(path, "mt940")
    assert rows == _expected(stmt)
    assert parsed.balances["amount"].to_list() == [stmt.opening, stmt.closing]


@parser_settings(25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stmt=statements(), version=st.sampled_from(["02", "04", "08"]))
def test_camt053_round_trip(tmp_path: Path, stmt: SynthStatement, version: str) -> None:
    out = io.StringIO()
    write_camt053(iter([stmt]), out, version=version)
    path = tmp_path / "rt.xml"
    path.write_text(out.getvalue(), encoding="utf-8")
    rows, parsed = _rows(path, "camt.053")
    assert rows == _expected(stmt)
    assert sorted(parsed.balances["amount"].to_list()) == sorted([stmt.opening, stmt.closing])
