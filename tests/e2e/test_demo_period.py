"""The demo's three days as one period report (`recon report --since --until`), printed with LibreOffice.

The demo's discrepancies are known in advance (sample_statements/expected): the period's per-day
trend must show them, day by day, as the results files hold them, with the OK outcomes of layers 2
and 3 (BILL_OK, SETTLED, CASH_OK, PAYOUT_RECEIVED) counted as checked, never as discrepancies.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from cli import app
from recon.excel.words import OK_OUTCOMES, WAITING_OUTCOMES

DAYS = ("2026-11-20", "2026-11-21", "2026-11-22")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="module")
def period(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "ws"
    assert CliRunner().invoke(app, ["demo", str(root)]).exit_code == 0
    done = CliRunner().invoke(app, ["report", "--since", DAYS[0], "--until", DAYS[-1], "--workspace", str(root),
                                    "--json"])
    assert done.exit_code == 0, done.output
    return root, json.loads(done.stdout)


def test_the_demo_period_trend_is_each_days_results(period):
    root, shown = period
    assert shown["days"] == list(DAYS) and shown["missing_days"] == []
    wb = load_workbook(shown["path"])
    rows = list(wb["Daily trend"].iter_rows(values_only=True))
    trend = {r[0].date().isoformat(): dict(zip(rows[0], r)) for r in rows[1:]}
    for day in DAYS:
        found = {}
        for path in sorted((root / "results" / day).glob("layer*.parquet")):
            frame = pl.read_parquet(path)
            kinds = frame["outcome" if path.name == "layer1.parquet" else "kind"]
            for kind in kinds.filter(~kinds.is_in(list(OK_OUTCOMES | WAITING_OUTCOMES))).to_list():
                found[kind] = found.get(kind, 0) + 1
        layer1 = pl.read_parquet(root / "results" / day / "layer1.parquet")
        assert trend[day]["Lines"] == layer1.height
        assert trend[day]["Discrepancies"] == sum(found.values())
        labels = {h for h in rows[0][6:] if not str(h).endswith("matched %")}
        shown_kinds = {h: trend[day][h] for h in labels if trend[day][h]}
        assert sum(shown_kinds.values()) == sum(found.values())
    checked = [r for r in wb["Channel trend"].iter_rows(min_row=2, values_only=True) if r[1] in (2, 3)]
    assert sum(r[6] for r in checked) > 0  # layers 2 and 3 checked OK lines: shown, not counted as discrepancies


def test_the_demo_period_prints_one_page_wide(period, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or shutil.which("pdfinfo") is None:
        pytest.skip("LibreOffice (soffice) and poppler (pdfinfo) are needed: "
                    "apt-get install libreoffice-calc-nogui poppler-utils")
    _, shown = period
    path = Path(shown["path"])
    done = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                          capture_output=True, text=True, timeout=180)
    pdf = tmp_path / path.with_suffix(".pdf").name
    assert done.returncode == 0 and pdf.exists(), done.stderr
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    print(f"demo period {DAYS[0]}..{DAYS[-1]}: {pages} PDF pages")
    assert pages <= 12  # 8 sheets one page wide, the three charts a page each
    if shutil.which("pdftoppm"):
        ARTIFACTS.mkdir(exist_ok=True)
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                        str(ARTIFACTS / "demo-period-page1")], check=True, timeout=120)
        print(f"page 1: {ARTIFACTS / 'demo-period-page1.png'}")
