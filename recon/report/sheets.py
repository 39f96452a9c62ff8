"""Table sheets: one frame -> one write-only sheet that an analyst can filter, sort and read.

A day can carry a hundred thousand discrepancies, so table sheets stream rows (openpyxl write_only)
instead of building cells in memory. Everything that must be decided before the first row (frozen
header, autofilter range, column widths) is computed from the frame first.

Formats: money cells get a number format with the row's currency exponent (JPY 0 decimals, KWD 3),
while the stored value stays the exact Decimal; dates are real dates; non-zero differences are
highlighted. Every value goes through `recon.excel.cells` (formula injection, card masking in
free text; identifier columns are never masked).
"""

from __future__ import annotations

import polars as pl
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from recon.excel.cells import mask_pans, value_for, wcell
from recon.excel.words import t
from recon.money import MoneyError, exponent
from recon.redact import is_id_column

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
DIFF_FONT = Font(bold=True, color="9C0006")
DIFF_FILL = PatternFill("solid", fgColor="FFC7CE")
DIFF_COLUMNS = frozenset({"diff", "diff_amount", "diff_fee"})
WIDTH_SAMPLE = 2000
_FORMATS: dict[str, str] = {}


def money_format(currency: str | None) -> str:
    """`#,##0.00` for CNY/USD, `#,##0` for JPY, `#,##0.000` for KWD; 2 decimals when unknown."""
    key = currency or ""
    if key not in _FORMATS:
        try:
            exp = exponent(key) if key else 2
        except MoneyError:
            exp = 2
        _FORMATS[key] = "#,##0" + ("." + "0" * exp if exp else "")
    return _FORMATS[key]


def _width(value: object) -> int:
    text = mask_pans(value) if isinstance(value, str) else str(value)
    # CJK characters take two columns in Excel's default fonts.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def fit_widths(ws, headers: list[str], frame: pl.DataFrame | None) -> None:
    widths = [_width(h) + 2 for h in headers]
    if frame is not None:
        for row in frame.head(WIDTH_SAMPLE).iter_rows():
            for i, v in enumerate(row):
                if v is not None:
                    widths[i] = max(widths[i], _width(v) + 1)
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = min(max(w, 8), 60)


def header_row(ws, headers: list[str]) -> list:
    return [wcell(ws, h, font=HEADER_FONT, fill=HEADER_FILL) for h in headers]


def currency_of(frame: pl.DataFrame) -> pl.Series | None:
    names = [c for c in ("currency", "our_currency", "their_currency") if c in frame.columns]
    if not names:
        return None
    return frame.select(pl.coalesce(*names) if len(names) > 1 else pl.col(names[0])).to_series()


def write_table(wb, title: str, frame: pl.DataFrame, language: str, *, columns: list[str] | None = None) -> None:
    """A sheet with a frozen, filterable header and one row per frame row."""
    ws = wb.create_sheet(title)
    cols = [c for c in (columns or frame.columns) if c in frame.columns]
    frame = frame.select(cols)
    headers = [t(c, language) for c in cols]
    fit_widths(ws, headers, frame)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(cols), 1))}{frame.height + 1}"
    ws.append(header_row(ws, headers))
    money = {i for i, c in enumerate(cols) if isinstance(frame.schema[c], pl.Decimal)}
    diffs = {i for i, c in enumerate(cols) if c in DIFF_COLUMNS}
    ids = {i for i, c in enumerate(cols) if is_id_column(c)}  # order numbers, keys: never masked
    currencies = currency_of(frame)
    cur_iter = iter(currencies) if currencies is not None else None
    for row in frame.iter_rows():
        fmt = money_format(next(cur_iter) if cur_iter is not None else None)
        out = []
        for i, v in enumerate(row):
            if i in diffs and v is not None and v != 0:
                out.append(wcell(ws, v, fmt, font=DIFF_FONT, fill=DIFF_FILL))
            elif i in ids and isinstance(v, str):
                out.append(value_for(ws, v, mask=False))
            else:
                out.append(value_for(ws, v, fmt if i in money else None))
        ws.append(out)
    if frame.height == 0:
        ws.append([t("none", language)])


def write_pairs(wb, title: str, headers: list[str], rows: list[tuple], language: str) -> None:
    """A small sheet of text rows (run info): same header look, safe cells, fitted widths."""
    ws = wb.create_sheet(title)
    frame = pl.DataFrame([list(map(str, r)) for r in rows], schema=headers, orient="row") if rows else None
    fit_widths(ws, headers, frame)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    ws.append(header_row(ws, headers))
    for r in rows:
        ws.append([wcell(ws, v) for v in r])
