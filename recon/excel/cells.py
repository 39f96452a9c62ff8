"""Safe cells: the one function every untrusted value passes through on its way into a workbook.

Statement fields (merchant order numbers, remarks, counterparty names) are written by strangers.
Two things go wrong if they reach a cell as they are:
- Formula injection (FAULTS.md D3): openpyxl turns any string starting with `=` into a formula, and
  Excel/LibreOffice treat cells beginning with `+ - @`, tab or CR as formulas once a person edits
  them. Text is therefore always stored with the text data type, and text that starts with a trigger
  (also after leading whitespace, also their full-width forms: recon.formula) gets the quote prefix, the same as typing `'` in Excel. Numbers
  are written as numbers: a real negative amount stays a number.
- Card numbers (FAULTS.md D8, PCI DSS 3.4.1): a 13-19 digit run (spaces or dashes allowed) that
  passes the Luhn check is shown as the first 6 and last 4 digits only (recon.redact), in free
  text; identifier columns (`mask=False`) are written as they are.
Characters XML cannot hold (NUL and other C0 controls) become U+FFFD instead of failing the save;
CR becomes LF, as any XML reader would read it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

from recon.formula import is_risky
from recon.redact import luhn_ok, mask_pans

__all__ = ["luhn_ok", "mask_pans", "safe_text", "is_risky", "put", "value_for", "wcell"]

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def safe_text(text: str, *, mask: bool = True) -> str:
    """Untrusted text made fit for a report: PANs masked (free text), XML-illegal characters replaced.

    CR becomes LF: XML parsers turn an unescaped CR into LF anyway, so this makes what is written
    what every reader gets back.
    """
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", mask_pans(text) if mask else text).replace("\r\n", "\n").replace("\r", "\n")


def put(cell: Cell, value: object, number_format: str | None = None, *, mask: bool = True) -> Cell:
    """Store `value` in `cell` safely; returns the cell (so write-only rows can use it)."""
    if value is None:
        cell.value = None
    elif isinstance(value, str):
        text = safe_text(value, mask=mask)
        cell.value = text
        cell.data_type = "s"  # never 'f' (formula) or 'e' (error code such as '#N/A')
        if is_risky(text):
            cell.quotePrefix = True
    elif isinstance(value, dt.datetime):
        # Excel has no time zones; recon's times are UTC and headers say so.
        cell.value = value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
        cell.number_format = number_format or DATETIME_FORMAT
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = number_format or DATE_FORMAT
    elif isinstance(value, (Decimal, int, float, bool)):
        cell.value = value
        if number_format:
            cell.number_format = number_format
    else:
        return put(cell, str(value), number_format, mask=mask)
    return cell


_ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})


def value_for(ws, value: object, number_format: str | None = None, *, mask: bool = True) -> object:
    """For a write-only row: plain safe text or a number as is (cheap), else a safe cell.

    A plain `str` is only turned into something else by openpyxl when it starts with '=' or is an
    error code, and both are risky, so text that is not risky can go in without a cell object.
    """
    if isinstance(value, str):
        text = safe_text(value, mask=mask)
        if not is_risky(text) and text not in _ERROR_CODES:
            return text
        return wcell(ws, text, mask=False)
    if value is None or (number_format is None and isinstance(value, (Decimal, int, bool))):
        return value
    return wcell(ws, value, number_format)


def wcell(ws, value: object, number_format: str | None = None, *, font=None, fill=None, alignment=None,
          mask: bool = True) -> Cell:
    """A write-only cell holding `value` safely, with optional styles (`alignment`: wrap text)."""
    cell = put(WriteOnlyCell(ws), value, number_format, mask=mask)
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if alignment is not None:
        cell.alignment = alignment
    return cell
