"""The period workbook (`recon report --since D1 --until D2`) over a three-day workspace.

The workspace holds three stored days of layer-1, -2 and -3 results on two channels, clearing of two
of the days and the queue the results made; one item is resolved after the period ended (so it was
still open at its end). Figures are checked against numbers worked out by hand from the rows below
and against the results files and the queue themselves; the workbook is printed with LibreOffice.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from cli import app
from layers import DAY, generic, make_ws, row, write_generic, write_layer1
from recon.excel.words import KINDS, OK_OUTCOMES
from recon.queue.query import Filter, select_items
from recon.queue.store import queue_engine
from recon.queue.sync import sync_results
from recon.report.period_workbook import period_path

runner = CliRunner()
D1, D2, D3 = DAY - dt.timedelta(days=2), DAY - dt.timedelta(days=1), DAY
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"  # git-ignored; a person opens the PNG


def build(root: Path, language: str = "en"):
    ws = make_ws(root, language=language)
    write_layer1(ws, [row("MATCHED", "a1", day=D1), row("MATCHED", "a2", day=D1),
                      row("AMOUNT_MISMATCH", "a3", their="100.50", day=D1), row("PENDING", "a4", their=None, day=D1),
                      row("MATCHED", "b1", day=D1, channel="alipay"),
                      row("LOCAL_ONLY", "b2", their=None, day=D1, channel="alipay")], day=D1)
    write_generic(ws, 2, [generic("BILL_OK", "wechat:bill", "500.00", "500.00", day=D1, is_discrepancy=False),
                          generic("SETTLEMENT_SHORT", "wechat:settle", "1000.00", "980.00", day=D1,
                                  is_discrepancy=True)], day=D1)
    # a4, pending on D1, arrives in D2's bill: the queue closes it automatically on D2
    write_layer1(ws, [row("MATCHED", "c1", day=D2), row("CHANNEL_ONLY", "c2", our=None, day=D2),
                      row("MATCHED", "a4", day=D2, carried_from=D1)], day=D2)
    write_generic(ws, 3, [generic("CASH_OK", "bank:1", "10.00", "10.00", day=D2, is_discrepancy=False),
                          generic("PAYOUT_RECEIVED", "bank:po", "7.00", "7.00", day=D2, is_discrepancy=False),
                          generic("CASH_MISMATCH", "bank:2", "2200.00", "2000.00", day=D2, is_discrepancy=True)],
                  day=D2)
    write_layer1(ws, [row("MATCHED", "e1", day=D3), row("MATCHED", "e2", day=D3),
                      row("FEE_MISMATCH", "e3", our="1500", their="1500", our_currency="JPY", their_currency="JPY",
                          their_fee=Decimal("20"), diff_fee=Decimal("19.4"), day=D3),
                      row("MATCHED", "f1", day=D3, channel="alipay")], day=D3)
    write_generic(ws, 2, [generic("SETTLED", "wechat:settle2", "80.00", "80.00", day=D3, is_discrepancy=False)], day=D3)
    for day, lines in ((D1, "M001,CNY,1000.00,-50.00,6.00,0.00,100.50,843.50\nM002,USD,10.00,0,0.10,0,0,9.90\n"),
                       (D3, "M001,CNY,500.00,0.00,3.00,0.00,0.00,497.00\n")):
        folder = ws.clearing_dir(day)
        folder.mkdir(parents=True)
        (folder / "settlements.csv").write_text(
            "merchant_id,currency,gross,refunds,fees,splits,held,net_payable\n" + lines, encoding="utf-8")
    for day in (D1, D2, D3):
        sync_results(ws, day)
    return ws


def recon(ws, *args: str):
    return runner.invoke(app, [*args, "--workspace", str(ws.root)])


def dec(value) -> Decimal:
    """A number read back by openpyxl (a float) as the decimal its cell's text holds."""
    return Decimal(str(value))


def table(sheet) -> list[dict]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


@pytest.fixture()
def period_ws(tmp_path):
    ws = build(tmp_path / "ws")
    # Resolved now, long after the period: at the period's end it was open.
    [item] = [i for i in json.loads(recon(ws, "queue", "list", "--json").stdout) if i["key"] == "c2"]
    assert recon(ws, "queue", "resolve", str(item["id"]), "--note", "seen later", "--by", "li").exit_code == 0
    done = recon(ws, "report", "--since", str(D1), "--until", str(D3), "--json")
    assert done.exit_code == 0, done.output
    return ws, json.loads(done.stdout)


def test_trends_equal_each_days_results_and_never_count_ok_outcomes(period_ws):
    ws, shown = period_ws
    path = period_path(ws, D1, D3)
    assert shown["path"] == str(path) and path.name == f"recon-{D1}_{D3}.xlsx"
    assert path.parent.parent == ws.root / "reports"
    wb = load_workbook(path)
    trend = {r["Date"].date(): r for r in table(wb["Daily trend"])}
    assert list(trend) == [D1, D2, D3]
    # by hand: D1 6 layer-1 lines, 3 matched; discrepancies a3, b2 and the settlement short (BILL_OK is not one)
    assert [(trend[d]["Lines"], trend[d]["Matched"], trend[d]["Discrepancies"], trend[d]["Waiting"])
            for d in (D1, D2, D3)] == [(6, 3, 3, 1), (3, 2, 2, 0), (4, 3, 1, 0)]
    assert trend[D1]["Matched %"] == 0.5 and trend[D3]["Matched %"] == 0.75
    for day in (D1, D2, D3):  # and from the results files themselves
        l1 = pl.read_parquet(ws.results_dir(day) / "layer1.parquet")
        assert trend[day]["Lines"] == l1.height
        assert trend[day]["Matched"] == l1.filter(pl.col("outcome").is_in(["MATCHED", "AUTO_RESOLVED"])).height
        found = 0
        for f in sorted(ws.results_dir(day).glob("layer*.parquet")):
            frame = pl.read_parquet(f)
            kind = frame["outcome" if f.name == "layer1.parquet" else "kind"]
            found += int((~kind.is_in(list(OK_OUTCOMES | {"PENDING"}))).sum())
        assert trend[day]["Discrepancies"] == found
    headers = next(wb["Daily trend"].iter_rows(values_only=True))
    assert {"Amount mismatch", "Local only", "Settlement short", "Channel only", "Cash mismatch",
            "Fee mismatch"} <= set(headers)
    assert headers[:6] == ("Date", "Lines", "Matched", "Matched %", "Discrepancies", "Waiting")
    assert not {KINDS[k][0] for k in OK_OUTCOMES} & set(headers[6:])  # no OK outcome charted as a discrepancy
    assert trend[D2]["Cash mismatch"] == 1 and trend[D1]["Cash mismatch"] == 0

    per = {(r["Date"].date(), r["Layer"], r["Channel"], r["Currency"]): r for r in table(wb["Channel trend"])}
    assert (per[(D1, 1, "alipay", "CNY")]["Lines"], per[(D1, 1, "alipay", "CNY")]["Discrepancies"]) == (2, 1)
    assert per[(D2, 3, "wechat", "CNY")]["Checked, OK"] == 2 and per[(D2, 3, "wechat", "CNY")]["Discrepancies"] == 1
    assert dec(per[(D2, 3, "wechat", "CNY")]["Discrepancy amount"]) == Decimal("200")
    assert dec(per[(D3, 1, "wechat", "JPY")]["Discrepancy amount"]) == Decimal("19.4")  # a fee mismatch: the fee
    assert wb["Channel trend"].cell(2, 11).number_format == "#,##0.00"
    jpy = [c for c in wb["Channel trend"]["K"] if c.row > 1 and wb["Channel trend"].cell(c.row, 5).value == "JPY"]
    assert jpy and all(c.number_format == "#,##0" for c in jpy)

    summary = [r for r in wb["Period summary"].iter_rows(values_only=True)]
    layers = {(r[0], r[1], r[3]) for r in summary if isinstance(r[0], int) and r[1] in ("wechat", "alipay")}
    assert {(1, "wechat", "CNY"), (1, "alipay", "CNY"), (1, "wechat", "JPY"), (2, "wechat", "CNY"),
            (3, "wechat", "CNY")} <= layers  # every channel and every layer in one summary
    assert [c["channels"] for c in [shown]][0][0]["layer"] == 1
    assert len(wb["Charts"]._charts) == 3
    clearing = {(r["Merchant"], r["Currency"]): r for r in table(wb["Clearing by merchant"]) if r["Currency"]}
    assert dec(clearing[("M001", "CNY")]["Gross"]) == Decimal("1500")
    assert dec(clearing[("M001", "CNY")]["Net payable"]) == Decimal("1340.50")
    assert dec(clearing[("M002", "USD")]["Net payable"]) == Decimal("9.90")
    assert wb["Clearing by merchant"].cell(2, 3).number_format == "#,##0.00"


def test_open_items_are_aged_at_the_period_end_as_the_queue_ages_them(period_ws):
    ws, shown = period_ws
    wb = load_workbook(period_path(ws, D1, D3))
    rows = {r["Id"]: r for r in table(wb["Open at period end"])}
    with queue_engine(ws).connect() as conn:
        active = select_items(conn, Filter(until=D3, states=("OPEN", "PENDING")), ws.settings.queue, D3)
        everything = {i.key: i for i in select_items(conn, Filter(), ws.settings.queue, D3)}
    expected = {i.id: i.age_days for i in active} | {everything["c2"].id: (D3 - D2).days}
    assert {i: r["Age (days)"] for i, r in rows.items()} == expected
    assert rows[everything["a3"].id]["Age (days)"] == 2 and rows[everything["a3"].id]["Age bucket"] == "2-3"
    assert rows[everything["c2"].id]["Status"] == "Resolved"  # closed after the period: open at its end
    assert shown["open_at_end"] == len(expected)
    assert everything["a4"].status == "AUTO_RESOLVED" and everything["a4"].id not in rows  # settled by D2's results
    # ...but at the end of D1 it was open (closed by the results of D2, whatever the clock said then)
    one_day = json.loads(recon(ws, "report", "--since", str(D1), "--until", str(D1), "--json").stdout)
    first = {r["Id"]: r for r in table(load_workbook(one_day["path"])["Open at period end"])}
    assert first[everything["a4"].id]["Age (days)"] == 0 and everything["c2"].id not in first
    assert set(first) == {i.id for i in everything.values() if i.business_date == D1 and i.kind not in OK_OUTCOMES}


def test_prints_landscape_one_page_wide_and_converts_to_pdf(period_ws, tmp_path):
    ws, _ = period_ws
    path = period_path(ws, D1, D3)
    wb = load_workbook(path)
    for sheet in wb.worksheets:
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert "&P" in sheet.oddFooter.right.text and "&N" in sheet.oddFooter.right.text
        assert "recon " in sheet.oddFooter.right.text and ws.root.name in sheet.oddFooter.left.text
        assert f"{D1} – {D3}" in sheet.oddFooter.center.text
    assert wb["Open at period end"].print_title_rows == "$1:$1"
    for sheet in wb.worksheets:  # every text cell wraps or fits its column (a lone title overflows into empty cells)
        for r in sheet.iter_rows():
            filled = [c for c in r if c.value is not None]
            for c in filled:
                if isinstance(c.value, str) and len(filled) > 1 and not c.alignment.wrap_text:
                    width = sheet.column_dimensions[c.column_letter].width
                    assert width >= len(c.value), (sheet.title, c.coordinate, c.value, width)
    reason = [c for c in wb["Open at period end"]["R"] if c.row > 1]
    assert reason and all(c.alignment.wrap_text for c in reason)
    before = path.read_bytes()
    assert recon(ws, "report", "--since", str(D1), "--until", str(D3)).exit_code == 0
    assert path.read_bytes() == before  # byte-identical on re-run

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui")
    outdir = tmp_path / "pdf"
    done = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
                           "--convert-to", "pdf", "--outdir", str(outdir), str(path)],
                          capture_output=True, text=True, timeout=180)
    pdf = outdir / path.with_suffix(".pdf").name
    assert done.returncode == 0 and pdf.exists(), done.stderr
    pages = pdf.read_bytes().count(b"/Type /Page\n") or pdf.read_bytes().count(b"/Type/Page")
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    print(f"period workbook {D1}..{D3}: {pages} PDF pages")
    # 8 sheets, each one page wide; the charts take one page each
    assert 8 <= pages <= 12
    if shutil.which("pdftoppm"):
        ARTIFACTS.mkdir(exist_ok=True)
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                        str(ARTIFACTS / "period-page1")], check=True, timeout=120)
        png = ARTIFACTS / "period-page1.png"
        assert png.read_bytes().startswith(b"\x89PNG")
        print(f"page 1: {png}")


def test_a_zh_period_workbook_shows_no_english_kind_name(tmp_path):
    ws = build(tmp_path / "ws", language="zh")
    done = recon(ws, "report", "--since", str(D1), "--until", str(D3))
    assert done.exit_code == 0, done.output
    wb = load_workbook(period_path(ws, D1, D3))
    assert wb.sheetnames[:3] == ["期间汇总", "每日趋势", "趋势图"]
    english = set(KINDS) | {en for en, _ in KINDS.values()}
    texts = [c.value for s in wb.worksheets if s.title != "运行信息" for r in s.iter_rows() for c in r
             if isinstance(c.value, str)]
    assert "金额不符" in texts and "账实不符" in texts and "未处理" in texts  # kinds and queue statuses
    assert not [x for x in texts if x in english or any(k in x for k in KINDS if k.isupper() and "_" in k)]
    assert "第 &P 页" in wb.worksheets[0].oddFooter.right.text


def test_refuses_a_period_without_results_and_mixed_options(tmp_path):
    ws = make_ws(tmp_path / "ws")
    empty = recon(ws, "report", "--since", "2025-01-01", "--until", "2025-01-31")
    assert empty.exit_code == 4 and "no day from 2025-01-01 to 2025-01-31 was reconciled" in empty.stderr
    assert not (ws.root / "reports" / "2025-01-01_2025-01-31").exists()
    assert recon(ws, "report", "--since", "2025-01-01").exit_code == 2
    both = recon(ws, "report", "--date", "2025-01-01", "--since", "2025-01-01", "--until", "2025-01-02")
    assert both.exit_code == 2 and "not both" in both.stderr
    backwards = recon(ws, "report", "--since", "2025-01-31", "--until", "2025-01-01")
    assert backwards.exit_code == 2 and "after" in backwards.stderr
