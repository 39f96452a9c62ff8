"""Month-to-date volume (the tier a merchant's fees come from) is read back from the earlier days'
detail files column-wise; it must count exactly what a CSV reader sees: quoted cells holding line
separators (U+2028, a newline) stay whole, a txn id starting with `#` is a row, not a comment, and
the merchant in the file's comment may hold anything."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from recon.clearing.output import DETAIL_COLUMNS, DETAIL_HEADER, detail_name, month_volume
from recon.files import write_text
from recon.formula import csv_line, csv_text

DAY = dt.date(2026, 11, 4)
AMOUNTS = {"CNY": st.decimals("-99999.99", "99999.99", places=2), "JPY": st.integers(-10**9, 10**9).map(Decimal),
           "KWD": st.decimals("-9999.999", "9999.999", places=3)}
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@st.composite
def rows(draw):
    currency = draw(st.sampled_from(sorted(AMOUNTS)))
    return {"txn_id": draw(st.one_of(TEXT, st.just("#T1"), st.just("a\u2028b"))), "channel": "wx",
            "record_type": draw(st.sampled_from(["PAYMENT", "REFUND"])), "currency": currency,
            "amount": draw(AMOUNTS[currency]), "original_date": "2026-11-01",
            "state": draw(st.sampled_from(["CLEARED", "RELEASED", "HELD"])), "note": draw(TEXT)}


def _write(folder: Path, day: dt.date, merchant: str, items: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for r in items:
        # free text escaped as the writer escapes it; amounts are numbers, written as they are
        cells = {c: "" for c in DETAIL_COLUMNS} | {k: csv_text(v) if k in ("txn_id", "note") else str(v)
                                                   for k, v in r.items()}
        lines.append(csv_line([cells[c] for c in DETAIL_COLUMNS]) + "\n")
    write_text(folder / detail_name(merchant), DETAIL_HEADER.format(merchant=merchant, day=day)
               + ",".join(DETAIL_COLUMNS) + "\n" + "".join(lines))


def _oracle(folders: list[Path]) -> dict[tuple[str, str], Decimal]:
    volume: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for folder in folders:
        for path in sorted(folder.glob("merchant-*.csv")):
            with open(path, encoding="utf-8", newline="") as fh:
                reader = csv.reader(fh)
                for row in reader:
                    if row == list(DETAIL_COLUMNS):
                        break
                for row in reader:
                    r = dict(zip(DETAIL_COLUMNS, row, strict=True))
                    if r["record_type"] == "PAYMENT" and r["state"] in ("CLEARED", "RELEASED"):
                        volume[(unquote(path.stem.removeprefix("merchant-")), r["currency"])] += abs(Decimal(r["amount"]))
    return dict(volume)


@settings(max_examples=40, deadline=None)
@given(days=st.lists(st.dictionaries(st.sampled_from(["M1", "M#2", "line\nbreak", "q\"uote"]),
                                     st.lists(rows(), max_size=6), max_size=3), min_size=1, max_size=3))
def test_month_volume_counts_what_a_csv_reader_sees(tmp_path_factory, days):
    root = tmp_path_factory.mktemp("clearing")
    folder = lambda d: root / d.isoformat()  # noqa: E731
    for n, merchants in enumerate(days, 1):
        for merchant, items in merchants.items():
            _write(folder(DAY.replace(day=n)), DAY.replace(day=n), merchant, items)
    got = month_volume(folder, DAY)
    want = _oracle([folder(DAY.replace(day=n)) for n in range(1, DAY.day)])
    assert got == want
    assert all(isinstance(v, Decimal) for v in got.values())


def test_a_day_not_cleared_counts_nothing(tmp_path):
    assert month_volume(lambda d: tmp_path / d.isoformat(), DAY) == {}


def test_a_cell_holding_a_bare_cr_is_quoted_so_no_reader_breaks_the_row():
    line = csv_line(["T1", "a\rb", "c\nd", "plain"])
    assert line == '"T1","a\rb","c\nd",plain'.replace('"T1"', "T1")
    assert next(csv.reader(io.StringIO(line + "\n", newline=""))) == ["T1", "a\rb", "c\nd", "plain"]
