"""The demo's daily workbooks as an analyst prints and reads them (issue 20).

One demo workspace (jobs.demo: real pipeline, real re-query server on 127.0.0.1) for the module;
each demo day's workbook is written in English and in Chinese. Printing goes through LibreOffice
(`soffice --headless --convert-to pdf`) and pages are counted with poppler's `pdfinfo`; page 1 of
the first demo day is rendered with `pdftoppm` to tests/artifacts/report-day-page1.png (and the
Chinese one to report-day-zh-page1.png), where a person can open it after the run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from jobs.catalog import open_workspace
from jobs.demo import demo_days, run_demo
from recon.excel.words import KINDS, OK_OUTCOMES, WAITING_OUTCOMES, kind_label, t
from recon.queue.query import Filter, select_items
from recon.queue.severity import BUCKETS
from recon.queue.store import queue_engine
from recon.report.printing import LINE_HEIGHT, line_count, text_width
from recon.report.workbook import write_report
from recon.store.tables.queue import ACTIVE_STATES

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
MAX_PAGES = 6
RAW_SHEETS = {"Details", "明细数据"}  # raw data under data names; every other sheet is read


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """{(day, language): workbook path} for every demo day, plus the workspace."""
    base = tmp_path_factory.mktemp("demo")
    run_demo(base / "ws")
    ws = open_workspace(base / "ws")
    books = {(day, "en"): write_report(ws, day, base / f"{day}-en.xlsx").path for day in demo_days()}
    config = ws.config_path
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('language = "en"', 'language = "zh"'), encoding="utf-8")
    zh = open_workspace(base / "ws")
    assert zh.settings.report.language == "zh"
    books.update({(day, "zh"): write_report(zh, day, base / f"{day}-zh.xlsx").path for day in demo_days()})
    return ws, books


def _tools() -> tuple[str, str, str]:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui")
    if not (shutil.which("pdfinfo") and shutil.which("pdftoppm")):
        pytest.skip("poppler-utils (pdfinfo, pdftoppm) is not installed: apt-get install poppler-utils")
    return soffice, shutil.which("pdfinfo"), shutil.which("pdftoppm")


def _pdf(book: Path, tmp_path: Path) -> Path:
    soffice, _, _ = _tools()
    out = tmp_path / "pdf"
    done = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
                           "--convert-to", "pdf", "--outdir", str(out), str(book)],
                          capture_output=True, text=True, timeout=300)
    pdf = out / (book.stem + ".pdf")
    assert done.returncode == 0 and pdf.exists(), done.stderr
    return pdf


def _pages(pdf: Path) -> int:
    _, pdfinfo, _ = _tools()
    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def _page1_png(pdf: Path, name: str) -> Path:
    _, _, pdftoppm = _tools()
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    subprocess.run([pdftoppm, "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(target.with_suffix(""))], check=True, timeout=120)
    assert target.exists() and target.read_bytes().startswith(b"\x89PNG")
    print(f"page 1 rendered to {target}")
    return target


@pytest.mark.parametrize("language", ["en", "zh"])
def test_demo_days_print_on_at_most_six_pages(demo, tmp_path, language):
    _, books = demo
    pages = {}
    for day in demo_days():
        pdf = _pdf(books[(day, language)], tmp_path / f"{day}")
        pages[day] = _pages(pdf)
        if day == demo_days()[0]:
            _page1_png(pdf, f"report-day{'-zh' if language == 'zh' else ''}-page1.png")
    print(f"pages ({language}): {pages}")
    assert all(n <= MAX_PAGES for n in pages.values()), pages


def _reading_sheets(path: Path):
    wb = load_workbook(path)
    return [s for s in wb.worksheets if s.title not in RAW_SHEETS]


def _width(sheet, column: int) -> float:
    dim = sheet.column_dimensions.get(get_column_letter(column))
    return dim.width if dim is not None and dim.width else 8.43  # Excel's default column


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_text_cell_of_the_reading_sheets_wraps_or_fits(demo, language):
    _, books = demo
    checked = 0
    for day in demo_days():
        for sheet in _reading_sheets(books[(day, language)]):
            for row in sheet.iter_rows():
                for cell in row:
                    if not isinstance(cell.value, str):
                        continue
                    checked += 1
                    text, width = cell.value, _width(sheet, cell.column)
                    where = f"{day} {sheet.title}!{cell.coordinate} {text!r}"
                    if cell.alignment.wrap_text:
                        # the row is tall enough for every wrapped line (nothing cut at the bottom)
                        lines = line_count(text, width)
                        height = sheet.row_dimensions[cell.row].height or LINE_HEIGHT
                        assert height >= LINE_HEIGHT * lines, where
                        continue
                    # Unwrapped text shows whole when it fits its column, or runs on into empty
                    # cells to its right (a block title on the Summary).
                    room = width - 1
                    nxt = cell.column + 1
                    while text_width(text) > room and sheet.cell(cell.row, nxt).value is None and nxt < 40:
                        room += _width(sheet, nxt)
                        nxt += 1
                    assert text_width(text) <= room, where
    assert checked > 100


def _block(rows: list[tuple], title: str) -> list[tuple]:
    """The rows of a Summary block: after its title and header row, up to the blank row."""
    start = next(i for i, r in enumerate(rows) if r and isinstance(r[0], str) and r[0].startswith(title))
    out = []
    for r in rows[start + 2:]:
        if not r or r[0] is None:
            break
        out.append(r)
    return out


def test_no_ok_outcome_is_counted_as_a_discrepancy(demo):
    ws, books = demo

    ok_labels = {kind_label(k) for k in OK_OUTCOMES | WAITING_OUTCOMES}
    seen_ok = set()
    for day in demo_days():
        summary = list(load_workbook(books[(day, "en")])["Summary"].iter_rows(values_only=True))
        counted = {r[0]: r[5] for r in _block(summary, "Discrepancies by kind and layer") if r[0] != "No rows."}
        assert not set(counted) & ok_labels, (day, counted)
        # the figures are every non-OK, non-waiting row of the day's results, layer by layer
        want: dict[str, int] = {}
        for layer in (0, 1, 2, 3):
            path = ws.results_dir(day) / f"layer{layer}.parquet"
            if path.exists():
                frame = pl.read_parquet(path)
                for kind in frame["outcome" if layer == 1 else "kind"].to_list():
                    if kind not in OK_OUTCOMES and kind not in WAITING_OUTCOMES:
                        want[kind_label(kind)] = want.get(kind_label(kind), 0) + 1
                    elif kind in OK_OUTCOMES:
                        seen_ok.add(kind)
        assert counted == want, day
        ok = {r[0]: r[5] for r in _block(summary, "Checked, OK")}
        assert ok and set(ok) <= ok_labels
        layer1 = pl.read_parquet(ws.results_dir(day) / "layer1.parquet")["outcome"].to_list()
        per_channel = _block(summary, "Per channel")
        assert sum(r[6] for r in per_channel) == sum(1 for k in layer1 if k not in OK_OUTCOMES | WAITING_OUTCOMES)
    # the demo's days carry every OK kind the issue names, so the check above saw them all
    assert {"MATCHED", "BILL_OK", "CASH_OK", "SETTLED", "PAYOUT_RECEIVED"} <= seen_ok


def test_ages_equal_the_queues(demo):
    ws, books = demo
    for day in demo_days():
        wb = load_workbook(books[(day, "en")])
        summary = list(wb["Summary"].iter_rows(values_only=True))
        shown = {b: 0 for b in BUCKETS}
        for r in summary:
            if r and r[0] in BUCKETS:
                shown[r[0]] += r[2]
        with queue_engine(ws).connect() as conn:
            items = select_items(conn, Filter(until=day, states=ACTIVE_STATES), ws.settings.queue, ws.today())
            every = {i.id: i for i in select_items(conn, Filter(), ws.settings.queue, ws.today())}
        want = {b: sum(1 for i in items if i.aging_bucket == b) for b in BUCKETS}
        assert shown == want, day
        assert any(i.age_days > 1 for i in items)  # the demo's items are days old: not all in 0-1
        rows = list(wb["Layer 1 discrepancies"].iter_rows(values_only=True))
        col = {h: i for i, h in enumerate(rows[0])}
        for r in rows[1:]:
            if r[col["Queue id"]] is not None:
                item = every[r[col["Queue id"]]]
                assert r[col["Age (days)"]] == item.age_days
                assert r[col["Queue status"]] == t(f"status.{item.status}")  # the queue's state, in words


def test_a_chinese_workbook_has_no_english_kind_name(demo):
    _, books = demo
    english = {pair[0] for pair in KINDS.values()}
    for day in demo_days():
        sheets = _reading_sheets(books[(day, "zh")])
        assert all(not re.search(r"[A-Za-z]", s.title) for s in sheets)
        for sheet in sheets:
            for row in sheet.iter_rows(values_only=True):
                for value in row:
                    if isinstance(value, str):
                        assert value not in english, (day, sheet.title, value)
                        assert not any(k in value for k in KINDS if "_" in k or k in ("MATCHED", "DUPLICATE")), \
                            (day, sheet.title, value)
        rows = list(load_workbook(books[(day, "zh")])["信息流差错"].iter_rows(values_only=True))
        reasons = [r[rows[0].index("原因")] for r in rows[1:] if r[rows[0].index("原因")]]
        for reason in reasons:  # the fixed templates are all translated
            assert not re.search(r"here,|at the channel|channel's bill|no record of ours|of the day's end",
                                 reason), reason
