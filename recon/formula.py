"""Formula injection (FAULTS.md D3, OWASP "CSV injection"): text a spreadsheet would run.

Excel and LibreOffice treat a cell beginning with `=`, `+`, `-`, `@`, tab or CR as a formula once
it is opened or edited, also after leading spaces, and also with the full-width forms (`＝ ＋ － ＠`)
that Asian input methods type and some spreadsheet versions read as their ASCII twins. The
workbooks store such text as text with the quote prefix (recon.excel.cells); a CSV has no cell
types, so the CSV writers prefix it with a single quote, which is what OWASP recommends and what a
person typing `'` in Excel would do. Numbers written by recon (`-12.50`) are not text and are never
prefixed: only text columns go through here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import polars as pl

TRIGGERS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
LEADING = ("\t", "\r", "\n")
_RISKY_RE = r"^(?:[\t\r\n]|[ \t\r\n]*[=+\-@\x{FF1D}\x{FF0B}\x{FF0D}\x{FF20}])"


def is_risky(text: str) -> bool:
    """Would a spreadsheet read this text as the start of a formula?"""
    return text.startswith(LEADING) or text.lstrip(" \t\r\n").startswith(TRIGGERS)


def csv_text(text: str | None) -> str | None:
    """A text field for a CSV: formula-leading text gets a leading single quote."""
    return "'" + text if text is not None and is_risky(text) else text


def csv_untext(text: str | None) -> str | None:
    """Read back what `csv_text` wrote: a quote before formula-leading text is ours, not the data's."""
    return text[1:] if text is not None and text.startswith("'") and is_risky(text[1:]) else text


def csv_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column of `frame` made safe for a CSV (numbers and dates untouched)."""
    exprs = [pl.when(pl.col(name).str.contains(_RISKY_RE)).then(pl.lit("'") + pl.col(name))
             .otherwise(pl.col(name)).alias(name)
             for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(exprs) if exprs else frame


def csv_line(cells: Iterable[object], delimiter: str = ",") -> str:
    """One CSV row without its line end, as the csv module quotes it, a cell holding a bare CR
    included: with "\n" as the line end the csv module leaves a CR unquoted, and every reader then
    breaks the row there. The files keep "\n" line ends; only such a cell is quoted."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerow(cells)
    return buf.getvalue().removesuffix("\r\n")
