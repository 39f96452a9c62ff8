"""Rows of a write-only sheet serialised straight to its XML: the same bytes openpyxl writes, faster.

openpyxl's write-only sheet turns every value into a cell object and every cell into an element
tree before writing it (~50 us a cell without lxml), which made a 1M-line day's report spend most
of its time on a few hundred thousand cells. `stream(ws)` keeps openpyxl for everything that
carries a style or an unusual type (its own cell writer, so style ids and number formats stay
openpyxl's), and writes the plain cells, text and numbers without a style, as the text openpyxl
would have produced: `<c r="B7" t="inlineStr"><is><t>...</t></is></c>`, `<c r="C7" t="n"><v>..</v></c>`.
Text reaching here has been through `recon.excel.cells` (no formula, no error code, no illegal
character); anything openpyxl would treat differently (a leading '=', an error code, an illegal
character) is handed to openpyxl's own writer, so no input text can become a formula here either.

This uses two internals of the pinned openpyxl 3.1 / et_xmlfile 2.0 (the sheet's row converter and
the writer's raw output function); tests/report/test_streaming.py proves the sheet XML is byte for
byte openpyxl's, and without those internals (lxml installed, another version) `stream` leaves the
sheet as openpyxl's.
"""

from __future__ import annotations

from decimal import Decimal
from xml.sax.saxutils import escape

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell._writer import write_cell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.compat.strings import safe_string
from openpyxl.utils import get_column_letter

_NUMBERS = {int: "n", float: "n", Decimal: "n", bool: "b"}
_MAX_TEXT = 32767  # what openpyxl keeps of a longer text
_LETTERS = [get_column_letter(i) for i in range(1, 16385)]


def plain_cell(ref: str, value: object) -> str | None:
    """The XML openpyxl writes for `value` without a style at `ref`, or None where openpyxl does
    more than that (a formula, an error code, a date's number format, an illegal character)."""
    kind = type(value)
    if kind is str:
        text = value[:_MAX_TEXT]
        if (len(text) > 1 and text[0] == "=") or text in ERROR_CODES or ILLEGAL_CHARACTERS_RE.search(text):
            return None
        if not text:
            return f'<c r="{ref}" t="inlineStr" />'
        stripped = text.strip()
        space = ' xml:space="preserve"' if stripped and stripped != text else ""
        return f'<c r="{ref}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'
    if kind in _NUMBERS:
        number = safe_string(value)
        return f'<c r="{ref}" t="{_NUMBERS[kind]}"><v>{number}</v></c>' if number else f'<c r="{ref}" t="{_NUMBERS[kind]}" />'
    return None


def stream(ws) -> None:
    """From now on `ws.append` writes plain cells itself. Call it once the sheet's setup (widths,
    panes, print setup) is done: like a first append, it writes the sheet's head."""
    ws._get_writer()
    stock_values, stock_row = ws._values_to_row, ws._writer.write_row

    def write_row(xf, row, row_idx):
        raw = getattr(xf, "_file", None)  # et_xmlfile's output function; lxml's writer has none
        if not callable(raw):
            return stock_row(xf, stock_values(row, row_idx), row_idx)
        attrs = {"r": f"{row_idx}"}
        attrs.update(ws.row_dimensions.get(row_idx, {}))
        with xf.element("row", attrs):
            for col, value in enumerate(row, 1):
                if value is None:
                    continue
                text = plain_cell(f"{_LETTERS[col - 1]}{row_idx}", value)
                if text is not None:
                    raw(text)
                    continue
                cell = value if isinstance(value, Cell) else WriteOnlyCell(ws, value)
                cell.column, cell.row = col, row_idx
                if cell._comment is not None:
                    ws._comments.append(CommentRecord.from_cell(cell))
                if cell._value is None and not cell.has_style and not cell._comment:
                    continue
                write_cell(xf, ws, cell, cell.has_style)

    ws._values_to_row = lambda values, row_idx: values
    ws._writer.write_row = write_row
