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

import datetime as dt
from decimal import Decimal

import polars as pl
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from recon.excel.cells import safe_text, value_for, wcell
from recon.excel.words import t
from recon.money import MoneyError, exponent
from recon.redact import is_id_column
from recon.report.printing import LINE_HEIGHT, WRAP, column_limit, line_count, print_setup, text_width
from recon.report.streaming import stream

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
DIFF_FONT = Font(bold=True, color="9C0006")
DIFF_FILL = PatternFill("solid", fgColor="FFC7CE")
DIFF_COLUMNS = frozenset({"diff", "diff_amount", "diff_fee"})
WIDTH_SAMPLE = 2000
# Excel's (and LibreOffice's) last row. A day with more rows than a sheet holds (a channel whose
# whole bill went unmatched) gets the first rows and a last line saying how many are not shown,
# rather than a workbook that Excel refuses to open.
SHEET_ROWS = 1_048_576
RAW_WIDTH = 40  # widest column of a sheet of raw data (Details); its text may be cut, the cell holds it all
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
    # A masked card number is as long as the number: no need to mask to measure.
    return text_width(value if isinstance(value, str) else str(value))


def _header_width(header: str) -> int:
    """A reading sheet's header may wrap onto two lines, but never inside a word."""
    return max(max((_width(w) for w in header.split(" ")), default=0) + 1, (_width(header) + 1) // 2 + 2)


def fit_widths(ws, headers: list[str], frame: pl.DataFrame | None, limits: list[int] | None = None) -> list[int]:
    """Column widths from content (first WIDTH_SAMPLE rows), each at most its limit; returns them.

    A header is allowed to wrap onto two lines in a reading sheet, so it only asks for half its width.
    """
    widths = [_header_width(h) if limits else _width(h) + 2 for h in headers]
    if frame is not None:
        for row in frame.head(WIDTH_SAMPLE).iter_rows():
            for i, v in enumerate(row):
                if v is not None:
                    widths[i] = max(widths[i], _cell_width(v) + 1)
    out = [min(max(w, 6 if limits else 8), limits[i] if limits else RAW_WIDTH) for i, w in enumerate(widths)]
    for i, w in enumerate(out, 1):
        ws.column_dimensions[get_column_letter(i)].width = w
    return out


def _cell_width(value: object) -> int:
    if isinstance(value, str):
        return max((_width(line) for line in value.split("\n")), default=0)
    if isinstance(value, dt.datetime):
        return 19
    if isinstance(value, dt.date):
        return 10
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}") + 1
    return _width(value)


def fits(text: str, width: float) -> bool:
    """Whether `text` shows whole in a column `width` characters wide without wrapping."""
    return _cell_width(text) <= width - 1


def header_row(ws, headers: list[str], *, wrap: bool = False) -> list:
    return [wcell(ws, h, font=HEADER_FONT, fill=HEADER_FILL, alignment=WRAP if wrap else None) for h in headers]


def currency_of(frame: pl.DataFrame) -> pl.Series | None:
    names = [c for c in ("currency", "our_currency", "their_currency") if c in frame.columns]
    if not names:
        return None
    return frame.select(pl.coalesce(*names) if len(names) > 1 else pl.col(names[0])).to_series()


def write_table(wb, title: str, frame: pl.DataFrame, language: str, *, columns: list[str] | None = None,
                headers: dict[str, str] | None = None, reading: bool = False, page: dict | None = None):
    """A sheet with a frozen, filterable header and one row per frame row; returns the sheet.

    `reading`: a sheet people read and print: text columns are at most `printing.column_limit`
    wide and a cell whose text is wider wraps (never clipped). `headers` replaces the translated
    header of a column (times that name their zone). `page`: `printing.print_setup` arguments.
    """
    ws = wb.create_sheet(title)
    cols = [c for c in (columns or frame.columns) if c in frame.columns]
    room = SHEET_ROWS - 2  # the header and the line that says how many rows are not shown
    cut = max(frame.height - room, 0)
    frame = frame.select(cols).head(room) if cut else frame.select(cols)
    headers = [(headers or {}).get(c) or t(c, language) for c in cols]
    limits = [column_limit(c) if frame.schema[c] == pl.String() else 60 for c in cols] if reading else None
    widths = fit_widths(ws, headers, frame, limits)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(cols), 1))}{frame.height + 1}"
    if page is not None:
        print_setup(ws, **page)
    if reading:
        ws.row_dimensions[1].height = LINE_HEIGHT * max(line_count(h, w) for h, w in zip(headers, widths, strict=True))
    stream(ws)
    ws.append(header_row(ws, headers, wrap=reading))
    money = {i for i, c in enumerate(cols) if isinstance(frame.schema[c], pl.Decimal)}
    diffs = {i for i, c in enumerate(cols) if c in DIFF_COLUMNS}
    ids = {i for i, c in enumerate(cols) if is_id_column(c)}  # order numbers, keys: never masked
    currencies = currency_of(frame)
    cur_iter = iter(currencies) if currencies is not None else None
    for n, row in enumerate(frame.iter_rows(), 2):
        fmt = money_format(next(cur_iter) if cur_iter is not None else None)
        if reading:
            _row_height(ws, n, row, widths)
        out = []
        for i, v in enumerate(row):
            if i in diffs and v is not None and v != 0:
                out.append(wcell(ws, v, fmt, font=DIFF_FONT, fill=DIFF_FILL))
            elif reading and isinstance(v, str) and not fits(v, widths[i]):
                out.append(wcell(ws, v, alignment=WRAP, mask=i not in ids))
            elif i in ids and isinstance(v, str):
                out.append(value_for(ws, v, mask=False))
            else:
                out.append(value_for(ws, v, fmt if i in money else None))
        ws.append(out)
    if cut:
        ws.append([t("rows_cut", language).format(count=f"{cut:,}", limit=f"{SHEET_ROWS:,}")])
    if frame.height == 0:
        ws.append([t("none", language)])
    return ws


def _row_height(ws, n: int, row, widths: list[int]) -> bool:
    """Sets the height of a row whose wrapped text needs more than one line; True when it did.

    Neither Excel nor LibreOffice grows a row for wrapped text a program wrote."""
    lines = max((line_count(safe_text(v), w) for v, w in zip(row, widths, strict=True)
                 if isinstance(v, str) and not fits(v, w)), default=1)
    if lines > 1:
        ws.row_dimensions[n].height = LINE_HEIGHT * lines
    return lines > 1


def write_pairs(wb, title: str, headers: list[str], rows: list[tuple], language: str, *,
                names: list[str] | None = None, page: dict | None = None):
    """A small sheet of text rows (run info, re-queries): a reading sheet, wrapped where wider than
    its column (`names`: the columns' data names, for their width limits); returns the sheet."""
    ws = wb.create_sheet(title)
    frame = pl.DataFrame([["" if v is None else str(v) for v in r] for r in rows], schema=headers,
                         orient="row") if rows else None
    limits = [column_limit(n) for n in (names or [""] * len(headers))]
    widths = fit_widths(ws, headers, frame, limits)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    if page is not None:
        print_setup(ws, **page)
    ws.row_dimensions[1].height = LINE_HEIGHT * max(line_count(h, w) for h, w in zip(headers, widths, strict=True))
    stream(ws)
    ws.append(header_row(ws, headers, wrap=True))
    for n, r in enumerate(rows, 2):
        _row_height(ws, n, r, widths)
        ws.append([wcell(ws, v, alignment=WRAP if isinstance(v, str) and not fits(v, widths[i]) else None)
                   for i, v in enumerate(r)])
    return ws
