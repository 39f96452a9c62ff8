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


def _footer_text(text: str) -> str:
    # '&' starts a code in header/footer text: a workspace named "a&b" must print as it is.
    return text.replace("&", "&&")


def print_setup(ws, *, workspace: str, date: str, version: str, language: str,
                title_rows: int | None = 1, fit_height: int = 0) -> None:
    """Landscape A4, one page wide, `title_rows` repeated, the footer; `fit_height` 1 keeps it to one page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = fit_height
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.2, footer=0.25)
    ws.print_options.gridLines = False
    if title_rows:
        ws.print_title_rows = f"1:{title_rows}"
    page = t("day.footer_page", language).replace("{page}", "&P").replace("{pages}", "&N")
    ws.oddFooter.left.text = _footer_text(workspace)
    ws.oddFooter.left.size = 8
    ws.oddFooter.center.text = f"{_footer_text(date)}  {page}"
    ws.oddFooter.center.size = 8
    ws.oddFooter.right.text = f"recon {_footer_text(version)}"
    ws.oddFooter.right.size = 8


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
