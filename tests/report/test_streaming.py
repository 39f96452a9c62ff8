"""`recon.report.streaming` writes a sheet's rows as the very bytes openpyxl's own writer does."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils.exceptions import IllegalCharacterError

from recon.report.streaming import stream

texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", " a", "a ", "=1+2", "=", "#N/A", "#REF!", "a&b<c>d\"e'", "\x01x", "x\x1fy",
                     "\t=cmd", "line\nline", "  ", "中文 ", "{x}", "%s", "a" * 40000]),
)
plain = st.one_of(
    st.none(), texts, st.integers(-10**20, 10**20), st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-10**12, max_value=10**12),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)),
)


def _styled(ws, value):
    cell = WriteOnlyCell(ws, value)
    cell.font, cell.alignment, cell.number_format = Font(bold=True), Alignment(wrap_text=True), "#,##0.00"
    return cell


def _sheet_xml(rows, fast: bool) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("s")
    ws.column_dimensions["B"].width = 30
    ws.row_dimensions[2].height = 45
    ws.freeze_panes = "A2"
    if fast:
        stream(ws)
    buf = io.BytesIO()
    try:
        for row in rows:
            ws.append([_styled(ws, v[0]) if isinstance(v, tuple) else v for v in row])
        wb.save(buf)
    except (ValueError, IllegalCharacterError):
        ws._rows = None  # the refused sheet's half-written rows: dropped here, not at interpreter exit
        raise
    with zipfile.ZipFile(buf) as z:
        return z.read("xl/worksheets/sheet1.xml")


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.lists(st.one_of(plain, plain.map(lambda v: (v,))), max_size=8), max_size=6))
def test_streamed_rows_are_openpyxls_bytes(rows):
    stock_error = fast_error = None
    try:
        stock = _sheet_xml(rows, fast=False)
    except (ValueError, TypeError, IllegalCharacterError) as exc:  # what openpyxl refuses, streaming refuses too
        stock_error = type(exc)
    try:
        fast = _sheet_xml(rows, fast=True)
    except (ValueError, TypeError, IllegalCharacterError) as exc:
        fast_error = type(exc)
    assert stock_error == fast_error
    if stock_error is None:
        assert fast == stock


def test_formula_text_and_error_codes_stay_openpyxls():
    rows = [["=SUM(A1:A9)", "#N/A", "ok", Decimal("12.50"), True, None, ""]]
    assert _sheet_xml(rows, fast=True) == _sheet_xml(rows, fast=False)


def test_openpyxl_stays_on_the_writer_the_report_streams_for_with_lxml_installed():
    """lxml is installed (camt reads through it) and openpyxl would pick its writer, on which the
    streamed rows fall back to the slow per-cell path: importing recon keeps openpyxl on et_xmlfile's,
    in a process that loads the camt parser (lxml) before openpyxl."""
    import subprocess
    import sys

    probe = ("import parsers.camt, lxml.etree, openpyxl.xml as x; from recon.report import streaming; "
             "print(x.LXML)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_non_finite_numbers_are_written_as_openpyxl_writes_them():
    """NaN and infinities print as nothing; openpyxl's writer decides their cell (hypothesis found it)."""
    for value in (float("inf"), float("-inf"), float("nan")):
        for row in ([value], [(value,)]):
            assert _sheet_xml([row], fast=True) == _sheet_xml([row], fast=False)
