"""The queue export as an analyst meets it: what to fill in first and marked, internal columns last and
hidden, widths that fit, the report's money formats, and Chinese throughout with `report.language = "zh"`;
the import reads the labels of either language (and the codes) and names the cell it cannot read."""

from __future__ import annotations

import json
from decimal import Decimal

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from typer.testing import CliRunner

from cli import app
from layers import DAY, make_ws, row, write_layer1
from recon.excel.words import KINDS
from recon.queue.excel_roundtrip import COLUMNS, EDITABLE, INTERNAL, resolution_of
from recon.queue.sync import sync_results

runner = CliRunner()


def recon(ws, *args):
    return runner.invoke(app, [*args, "--workspace", str(ws.root)])


def queued(ws):
    write_layer1(ws, [row("AMOUNT_MISMATCH", "k1", their="100.50"), row("LOCAL_ONLY", "k2", their=None),
                      row("CHANNEL_ONLY", "k3", our=None),
                      row("FEE_MISMATCH", "k4", our="1500", their="1500", our_currency="JPY", their_currency="JPY",
                          their_fee=Decimal("20"), diff_fee=Decimal("19.4")),
                      row("LOCAL_ONLY", "k5-with-a-rather-long-order-number-0123456789", their=None)])
    sync_results(ws, DAY)
    return {i["key"]: i["id"] for i in json.loads(recon(ws, "queue", "list", "--json").stdout)}


def fill(path, edits: dict[int, dict[str, str]]) -> None:
    """Type into the editable cells of the rows of the given item ids, as an analyst would."""
    wb = load_workbook(path)
    sheet = wb.active
    col = {name: i + 1 for i, name in enumerate(COLUMNS)}
    for r in range(2, sheet.max_row + 1):
        for name, value in edits.get(sheet.cell(r, col["id"]).value, {}).items():
            sheet.cell(r, col[name]).value = value
    wb.save(path)


def width_of(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def test_editable_first_and_marked_internal_last_and_hidden_widths_fit_money_formatted(ws, tmp_path):
    queued(ws)
    out = tmp_path / "queue.xlsx"
    assert recon(ws, "queue", "export", "--out", str(out)).exit_code == 0
    sheet = load_workbook(out).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Resolution", "Write-off account", "Assign to", "Note"]
    assert header[-2:] == ["Version", "Updated at (UTC)"]
    for i, name in enumerate(COLUMNS, 1):
        dim = sheet.column_dimensions[get_column_letter(i)]
        assert dim.hidden == (name in INTERNAL), name
        cell = sheet.cell(1, i)
        assert (cell.comment is not None) == (name in EDITABLE), name  # says "fill in"
        assert (cell.fill.fgColor.rgb == "00FFF2CC") == (name in EDITABLE), name
        if name in INTERNAL:
            continue
        for r in range(1, sheet.max_row + 1):  # every shown text fits its column (the long ones wrap: reason)
            value = sheet.cell(r, i).value
            if isinstance(value, str) and name not in ("reason", "note"):
                assert dim.width >= width_of(value), (name, value, dim.width)
    rows = [dict(zip(COLUMNS, (c.value for c in r))) for r in sheet.iter_rows(min_row=2)]
    kinds = {r["key"]: r["kind"] for r in rows}
    assert kinds["k1"] == "Amount mismatch" and kinds["k4"] == "Fee mismatch"  # whole, never cut to 14 characters
    formats = {(r.value, sheet.cell(r.row, COLUMNS.index("our_amount") + 1).number_format)
               for r in sheet[get_column_letter(COLUMNS.index("currency") + 1)][1:]}
    assert formats == {("CNY", "#,##0.00"), ("JPY", "#,##0")}
    by_key = {sheet.cell(r, COLUMNS.index("key") + 1).value: r for r in range(2, sheet.max_row + 1)}
    diff = sheet.cell(by_key["k1"], COLUMNS.index("diff") + 1)
    assert Decimal(str(diff.value)) == Decimal("0.50") and diff.number_format == "#,##0.00"
    assert sheet.freeze_panes == "F2"  # the four editable columns and the id stay in view
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert sheet.print_title_rows == "$1:$1"


def test_zh_export_is_chinese_and_its_drop_down_labels_import(tmp_path):
    ws = make_ws(tmp_path / "ws", language="zh")
    ids = queued(ws)
    out = tmp_path / "queue.xlsx"
    assert recon(ws, "queue", "export", "--out", str(out)).exit_code == 0
    wb = load_workbook(out)
    sheet = wb.active
    assert sheet.title == "差错队列"
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["处理方式", "核销科目", "指派给", "备注"] and header[COLUMNS.index("kind")] == "类型"
    kinds = {c.value for c in sheet[get_column_letter(COLUMNS.index("kind") + 1)][1:]}
    assert kinds == {"金额不符", "短款(我方有渠道无)", "长款(渠道有我方无)", "手续费不符"}
    english = set(KINDS) | {en for en, _ in KINDS.values()}
    assert not [c.value for r in sheet.iter_rows() for c in r if c.value in english]
    [dv] = sheet.data_validations.dataValidation
    assert dv.formula1 == '"以渠道为准,以平台为准,核销,重新打开"'
    wb.close()

    fill(out, {ids["k1"]: {"resolution": "以平台为准", "note": "渠道四舍五入"},
               ids["k2"]: {"resolution": "核销", "write_off_account": "6711", "note": "测试订单"},
               ids["k3"]: {"resolution": "Accept ours", "note": "English label in a zh workbook"},
               ids["k4"]: {"resolution": "以渠道为准吧", "note": "?"}})
    done = recon(ws, "queue", "import", str(out), "--json")
    report = json.loads(done.stdout)
    assert sorted(report["applied"]) == sorted([f"{ids['k1']}: accept_ours", f"{ids['k2']}: write_off",
                                                f"{ids['k3']}: accept_ours"])
    [bad] = report["invalid"]
    assert done.exit_code == 4 and "cell A" in bad["message"] and "'以渠道为准吧'" in bad["message"]
    assert "以渠道为准" in bad["message"] and "accept_channel" in bad["message"]  # says what it would take
    items = {i["key"]: i for i in json.loads(recon(ws, "queue", "list", "--state", "all", "--json").stdout)}
    assert [items[k]["status"] for k in ("k1", "k2", "k3")] == ["RESOLVED", "WRITTEN_OFF", "RESOLVED"]
    assert items["k4"]["status"] == "OPEN"


def test_en_export_round_trip_with_codes_and_labels_of_either_language(ws, tmp_path):
    ids = queued(ws)
    out = tmp_path / "queue.xlsx"
    assert recon(ws, "queue", "export", "--out", str(out)).exit_code == 0
    [dv] = load_workbook(out).active.data_validations.dataValidation
    assert dv.formula1 == '"accept_channel,accept_ours,write_off,reopen"'
    fill(out, {ids["k1"]: {"resolution": "accept_ours", "note": "rounding"},
               ids["k2"]: {"resolution": "核销", "write_off_account": "6711", "note": "test order"},
               ids["k3"]: {"resolution": " Write off ", "write_off_account": "6711", "note": "label, spaces"},
               ids["k4"]: {"resolution": "burn it", "note": "?"}})
    first = json.loads(recon(ws, "queue", "import", str(out), "--json").stdout)
    assert sorted(first["applied"]) == sorted([f"{ids['k1']}: accept_ours", f"{ids['k2']}: write_off",
                                               f"{ids['k3']}: write_off"])
    [bad] = first["invalid"]
    assert "'burn it'" in bad["message"] and "cell A" in bad["message"]
    second = json.loads(recon(ws, "queue", "import", str(out), "--json").stdout)
    assert second["applied"] == [] and sorted(second["already_applied"]) == sorted(first["applied"])


def test_every_label_the_cli_and_the_drop_downs_print_reads_back():
    # `recon queue resolve --help`: "ours (以平台为准: annotate) | channel (以渠道为准: post an adjustment)"
    assert resolution_of("以平台为准") == "accept_ours" and resolution_of("以渠道为准") == "accept_channel"
    assert resolution_of("ours") == "accept_ours" and resolution_of("write-off") == "write_off"
    for code in ("accept_channel", "accept_ours", "write_off", "reopen"):
        assert resolution_of(code) == resolution_of(code.upper()) == code
    assert resolution_of("重新打开") == "reopen" and resolution_of("Reopen") == "reopen"
    assert resolution_of("resolve") is None and resolution_of("") is None
