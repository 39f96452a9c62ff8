"""Writing and print setup of the period workbook's sheets (ordinary, not write-only, worksheets).

A period workbook holds aggregates (a row per day and channel, per day and kind, per open item), so
its sheets are built in memory, which lets every sheet get what a printed page needs: landscape,
one page wide, its header rows repeated on every page, wrapped long text, widths from content, and
a footer naming the workspace, the period, page x of y and the recon version.
"""

from __future__ import annotations

from decimal import Decimal

from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from recon.excel.cells import DATE_FORMAT, put
from recon.report.printing import footer_text, line_count, page_setup
from recon.report.printing import text_width as line_width
from recon.report.sheets import HEADER_FILL, HEADER_FONT

TITLE_FONT = Font(bold=True, size=14)
BLOCK_FONT = Font(bold=True, size=12)
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
MAX_WIDTH = 48  # wider text wraps; a page one-wide stays readable
MIN_WIDTH = 6
LINE_HEIGHT = 13  # points per line of the default 11 pt font


def text_width(value: object) -> int:
    """Columns a value takes in Excel's default fonts (CJK characters take two)."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return max((line_width(line) for line in text.split("\n")), default=0)


class Sheet:
    """A worksheet filled top to bottom, remembering widths so they can be set from content at the end."""

    def __init__(self, ws) -> None:
        self.ws, self.row, self.widths = ws, 0, {}

    def title(self, text: str) -> int:
        self.row += 1
        put(self.ws.cell(self.row, 1), text).font = TITLE_FONT
        return self.row

    def label(self, text: str) -> int:
        self.row += 2 if self.row else 1
        put(self.ws.cell(self.row, 1), text).font = BLOCK_FONT
        return self.row

    def header(self, names: list[str]) -> int:
        self.row += 1
        for col, name in enumerate(names, 1):
            cell = put(self.ws.cell(self.row, col), name)
            cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, WRAP
            self._fit(col, name, 2)
        return self.row

    def add(self, values: list, formats: list[str | None] | None = None, *, whole: set[int] = frozenset()) -> int:
        """One row; `formats` per column (money, percent, date); text wraps at MAX_WIDTH.

        Free text has card numbers masked; `whole` names (0-based) identifier columns written as they are."""
        self.row += 1
        for col, value in enumerate(values, 1):
            fmt = formats[col - 1] if formats and col <= len(formats) else None
            cell = put(self.ws.cell(self.row, col), value, fmt, mask=col - 1 not in whole)
            cell.alignment = WRAP if isinstance(value, str) else TOP
            shown = value if fmt is None or not isinstance(value, (int, float, Decimal)) else _shown(value, fmt)
            self._fit(col, shown, 3 if fmt == DATE_FORMAT else 1)
        return self.row

    def pair(self, label: str, value: object, fmt: str | None = None) -> int:
        return self.add([label, value], [None, fmt])

    def _fit(self, col: int, value: object, pad: int) -> None:
        self.widths[col] = max(self.widths.get(col, MIN_WIDTH), text_width(value) + pad)

    def set_widths(self, floor: dict[int, int] | None = None) -> None:
        """Column widths from content (at most MAX_WIDTH), then row heights for the text that wraps.

        LibreOffice and Excel keep a row's stored height when opening a file, so a wrapped cell
        would print over the next row: each row gets the height of its tallest wrapped cell."""
        final = {}
        for col, width in self.widths.items():
            final[col] = min(max(width, (floor or {}).get(col, 0)), MAX_WIDTH)
            self.ws.column_dimensions[get_column_letter(col)].width = final[col]
        for row in self.ws.iter_rows(min_row=1, max_row=self.row):
            lines = max((line_count(c.value, final.get(c.column, MIN_WIDTH)) for c in row if isinstance(c.value, str)),
                        default=1)
            if lines > 1:
                self.ws.row_dimensions[row[0].row].height = LINE_HEIGHT * lines + 2


def _shown(value: object, fmt: str) -> str:
    """Roughly what a number looks like with its format (for the width only)."""
    if fmt.endswith("%"):
        return "100.00%"
    decimals = len(fmt.split(".")[1]) if "." in fmt else 0
    return f"{value:,.{decimals}f}"


def print_ready(ws, *, title_rows: str | None, left: str, center: str, right: str) -> None:
    """Landscape A4, one page wide (as many tall as needed), `title_rows` repeated, the footer set."""
    page_setup(ws, title_rows=title_rows, left=footer_text(left), center=footer_text(center),
               right=right)  # `right` holds the &[Page] codes: not escaped
