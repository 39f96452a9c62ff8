"""A day with more rows than a sheet holds: the first rows, then one line saying how many are not shown."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from openpyxl import Workbook, load_workbook

from recon.report import sheets
from recon.schema import MONEY


def _frame(n: int) -> pl.DataFrame:
    return pl.DataFrame({"match_key": [f"K{i:03d}" for i in range(n)],
                         "our_amount": [Decimal(i) for i in range(n)]}, schema={"match_key": pl.String(), "our_amount": MONEY})


def _written(tmp_path, frame: pl.DataFrame, language: str) -> list[tuple]:
    wb = Workbook(write_only=True)
    sheets.write_table(wb, "t", frame, language, reading=True)
    wb.save(tmp_path / "t.xlsx")
    return [tuple(r) for r in load_workbook(tmp_path / "t.xlsx").active.iter_rows(values_only=True)]


def test_rows_past_the_sheet_limit_are_counted_not_written(tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "SHEET_ROWS", 8)  # Excel's 1,048,576, made small enough to test
    rows = _written(tmp_path, _frame(20), "en")
    assert len(rows) == 8  # never past the sheet's last row
    assert [r[0] for r in rows[1:7]] == [f"K{i:03d}" for i in range(6)]  # the first rows, in order
    assert rows[7][0].startswith("14 more rows not shown: a sheet holds at most 8 rows")
    zh = _written(tmp_path, _frame(20), "zh")
    assert zh[7][0].startswith("另有 14 行未显示")


def test_a_table_that_fits_has_no_such_line(tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "SHEET_ROWS", 8)
    rows = _written(tmp_path, _frame(6), "en")
    assert len(rows) == 7 and rows[-1][0] == "K005"
