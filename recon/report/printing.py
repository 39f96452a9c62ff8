"""Print setup shared by every sheet of the report: what comes out of the printer is what gets signed.

Every sheet prints landscape on A4, one page wide (fitToWidth 1, fitToHeight 0: as many pages
down as it needs, never a row split two to five columns at a time), with its header row repeated
on each page and a footer naming the workspace, the business date, "page x of y" and the recon
version. The header/footer codes are Excel's (&P page, &N pages), which LibreOffice reads too.
"""

from __future__ import annotations

from openpyxl.styles import Alignment
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from recon.excel.words import t

# Bottom-aligned like every other cell (Excel's default), so a tall row's figures and the last
# line of its wrapped text share one baseline without styling each of its cells.
WRAP = Alignment(wrap_text=True)
# Widest a column of a reading sheet gets (characters); longer text wraps inside it.
TEXT_WIDTH = 24
WIDE_TEXT = {"reason": 48, "queue_note": 28, "note": 28, "answer": 40, "file": 48, "value": 40, "sha256": 66}
LINE_HEIGHT = 15  # points per line of 11-point text


def footer_text(text: str) -> str:
    """Literal text in a header/footer: '&' starts a code there, so a workspace named "a&b" is doubled."""
    return text.replace("&", "&&")


def page_setup(ws, *, title_rows: str | None, left: str, center: str, right: str, fit_height: int = 0) -> None:
    """Landscape A4, one page wide, `title_rows` ("1:3") repeated, and the footer's three parts.

    The parts are footer code text: literal text in them goes through `footer_text` first.
    """
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = fit_height
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.2, footer=0.25)
    ws.print_options.gridLines = False
    if title_rows:
        ws.print_title_rows = title_rows
    for part, text in ((ws.oddFooter.left, left), (ws.oddFooter.center, center), (ws.oddFooter.right, right)):
        part.text, part.size = text, 8


def print_setup(ws, *, workspace: str, date: str, version: str, language: str,
                title_rows: int | None = 1, fit_height: int = 0) -> None:
    """The daily report's sheets: `title_rows` repeated; `fit_height` 1 keeps a sheet to one page."""
    page = t("day.footer_page", language).replace("{page}", "&P").replace("{pages}", "&N")
    page_setup(ws, title_rows=f"1:{title_rows}" if title_rows else None, left=footer_text(workspace),
               center=f"{footer_text(date)}  {page}", right=f"recon {footer_text(version)}", fit_height=fit_height)


def column_limit(name: str) -> int:
    return WIDE_TEXT.get(name, TEXT_WIDTH)


def text_width(text: str) -> int:
    # CJK characters take two columns in Excel's default fonts.
    return len(text) if text.isascii() else sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def line_count(text: str, width: float) -> int:
    """Lines `text` takes wrapped in a column `width` characters wide (word wrap, as Excel does).

    Neither Excel nor LibreOffice grows a row for wrapped text written by a program, so the
    report sets each row's height from this count.
    """
    room = max(int(width) - 1, 1)
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0
        for word in paragraph.split(" "):
            size = text_width(word)
            if used and used + 1 + size <= room:
                used += 1 + size
                continue
            if used:
                lines += 1
            used = size
            while used > room:  # a word (or CJK run) longer than the column breaks anywhere
                lines += 1
                used -= room
    return lines
