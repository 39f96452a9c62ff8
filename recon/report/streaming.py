"""Rows of a write-only sheet serialised straight to their XML: the bytes openpyxl writes, faster.

openpyxl's write-only sheet turns every value into a cell object and every cell into an element
tree before writing it (without lxml, most of a 1M-line day's report went there: a few hundred
thousand cells, Details repeating every row shown). `stream(ws)` writes the cells itself as the
text openpyxl's own writer produces: plain text and numbers without making a cell object
(`<c r="B7" t="inlineStr"><is><t>..</t></is></c>`, `<c r="C7" t="n"><v>..</v></c>`), and cell
objects (styles, number formats, dates) from openpyxl's own attributes and style ids. What only
openpyxl's writer handles, it still writes: a formula, an error code, rich text, an illegal
character (which it refuses). Text reaches the sheet through `recon.excel.cells` as before, so
no input text can become a formula here either.

It relies on internals of the pinned openpyxl 3.1 and et_xmlfile 2.0 (the sheet's row converter,
the cell attribute helper and the writer's raw output); tests/report/test_streaming.py proves the
sheet XML byte for byte equal to openpyxl's, and with another XML writer (lxml installed) the rows
go through openpyxl's own writer.
"""

from __future__ import annotations

from decimal import Decimal
from xml.sax.saxutils import escape

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell._writer import _set_attributes, write_cell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.compat.strings import safe_string
from openpyxl.utils import get_column_letter

_NUMBERS = {int: "n", float: "n", Decimal: "n", bool: "b"}
_MAX_TEXT = 32767  # what openpyxl keeps of a longer text
_LETTERS = [get_column_letter(i) for i in range(1, 16385)]


def _text(head: str, text: str) -> str:
    """A text cell as openpyxl's writer serialises it (`head`: the opening tag's name and attributes)."""
    if not text:
        return f"{head} />"
    stripped = text.strip()
    space = ' xml:space="preserve"' if stripped and stripped != text else ""
    return f"{head}><is><t{space}>{escape(text)}</t></is></c>"


def plain_cell(ref: str, value: object) -> str | None:
    """The XML openpyxl writes for `value` without a style at `ref`, or None where openpyxl does
    more than that (a formula, an error code, a date's number format, an illegal character)."""
    kind = type(value)
    if kind is str:
        text = value[:_MAX_TEXT]
        if (len(text) > 1 and text[0] == "=") or text in ERROR_CODES or ILLEGAL_CHARACTERS_RE.search(text):
            return None
        return _text(f'<c r="{ref}" t="inlineStr"', text)
    if kind in _NUMBERS:
        number = safe_string(value)
        # NaN and infinities print as nothing: openpyxl's own writer decides what such a cell is
        return f'<c r="{ref}" t="{_NUMBERS[kind]}"><v>{number}</v></c>' if number else None
    return None


def cell_xml(cell: Cell) -> str | None:
    """The XML openpyxl writes for a cell object (styled or not: its own attributes, its own style id),
    or None for what only openpyxl's writer handles (formulas, rich text, error codes)."""
    kind = cell.data_type
    if not (kind in ("n", "b", "d") or (kind == "s" and type(cell._value) is str)):
        return None
    if kind == "n" and cell._value is not None and not safe_string(cell._value):
        return None  # NaN or an infinity: openpyxl's own writer decides that cell
    value, attrs = _set_attributes(cell, cell.has_style)
    head = "<c" + "".join(f' {k}="{v}"' for k, v in attrs.items())
    if value is None or value == "":
        return f"{head} />"
    if kind == "s":
        return _text(head, value)
    return f"{head}><v>{escape(safe_string(value))}</v></c>"


def stream(ws) -> None:
    """From now on `ws.append` writes its rows' XML itself. Call it once the sheet's setup (widths,
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
                text = cell_xml(cell)
                if text is not None:
                    raw(text)
                else:
                    write_cell(xf, ws, cell, cell.has_style)

    ws._values_to_row = lambda values, row_idx: values
    ws._writer.write_row = write_row
