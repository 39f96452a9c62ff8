"""Export -> analysts fill in -> import: validated, idempotent, and conflicts are reported, not applied."""

from __future__ import annotations

import json

from openpyxl import load_workbook
from typer.testing import CliRunner

from cli import app
from layers import DAY, row, write_layer1
from recon.queue.excel_roundtrip import COLUMNS
from recon.queue.sync import sync_results

runner = CliRunner()


def recon(ws, *args):
    return runner.invoke(app, [*args, "--workspace", str(ws.root)])


def fill(path, edits: dict[str, dict[str, str]]):
    """Set editable cells by item key, as an analyst would in Excel."""
    wb = load_workbook(path)
    sheet = wb.active
    col = {name: i + 1 for i, name in enumerate(COLUMNS)}
    for r in range(2, sheet.max_row + 1):
        key = sheet.cell(r, col["key"]).value
        for name, value in edits.get(key, {}).items():
            sheet.cell(r, col[name]).value = value
    wb.save(path)


def test_round_trip_applies_once_and_reports_conflicts(ws, tmp_path):
    write_layer1(ws, [row("AMOUNT_MISMATCH", "k2", their="100.50"), row("LOCAL_ONLY", "k5", their=None),
                      row("CHANNEL_ONLY", "k4", our=None), row("CHANNEL_ONLY", "=HYPERLINK(\"x\")", our=None)])
    sync_results(ws, DAY)
    out = tmp_path / "queue.xlsx"
    exported = recon(ws, "queue", "export", "--out", str(out))
    assert exported.exit_code == 0, exported.output

    wb = load_workbook(out)
    sheet = wb.active
    validations = sheet.data_validations.dataValidation
    assert validations and validations[0].type == "list" and "accept_channel" in validations[0].formula1
    key_column = sheet.cell(1, COLUMNS.index("key") + 1).column_letter
    injected = [c for c in sheet[key_column] if c.value == '=HYPERLINK("x")']
    assert injected and injected[0].data_type == "s"  # text, never a formula
    wb.close()

    fill(out, {"k2": {"resolution": "accept_ours", "note": "rounding at the channel"},
               "k5": {"resolution": "write_off", "write_off_account": "6711", "note": "test order"},
               "k4": {"assign_to": "li.na"},
               '=HYPERLINK("x")': {"resolution": "burn it", "note": "?"}})
    # Meanwhile someone resolves k4 from the CLI: the workbook's k4 row is now stale.
    ids = {i["key"]: i["id"] for i in json.loads(recon(ws, "queue", "list", "--json").stdout)}
    assert recon(ws, "queue", "resolve", str(ids["k4"]), "--note", "seen in bank", "--by", "wang").exit_code == 0

    imported = recon(ws, "queue", "import", str(out), "--json")
    assert imported.exit_code == 4  # rows were refused: cron and scripts must see it
    assert "CONFLICT" in imported.stderr and "ERROR" in imported.stderr
    first = json.loads(imported.stdout)
    assert sorted(first["applied"]) == [f"{ids['k2']}: accept_ours", f"{ids['k5']}: write_off"]
    assert len(first["conflicts"]) == 1 and f"item {ids['k4']} changed since the export" in first["conflicts"][0]["message"]
    assert "by wang" in first["conflicts"][0]["message"]
    assert len(first["invalid"]) == 1 and "'burn it'" in first["invalid"][0]["message"]

    second = json.loads(recon(ws, "queue", "import", str(out), "--json").stdout)
    assert second["applied"] == [] and sorted(second["already_applied"]) == sorted(first["applied"])
    assert len(second["conflicts"]) == 1

    all_items = {i["key"]: i for i in json.loads(recon(ws, "queue", "list", "--state", "all", "--json").stdout)}
    assert all_items["k2"]["status"] == "RESOLVED" and all_items["k5"]["status"] == "WRITTEN_OFF"
    assert all_items["k4"]["assignee"] is None  # the conflicting row changed nothing
    history = json.loads(recon(ws, "queue", "show", str(ids["k5"]), "--json").stdout)["history"]
    assert [e["action"] for e in history] == ["created", "write_off"]  # applied exactly once


def test_ids_and_keys_are_never_masked_in_list_show_and_export(ws, tmp_path):
    # A key with spaces that holds a Luhn-valid 16-digit run: an id, so shown whole everywhere
    # (until issue 17, text with spaces in an id field was masked in the export and the report).
    key = "ORDER 4111 1111 1111 1111"
    write_layer1(ws, [row("LOCAL_ONLY", key, their=None)])
    sync_results(ws, DAY)
    [item] = json.loads(recon(ws, "queue", "list", "--json").stdout)
    assert item["key"] == key
    shown = recon(ws, "queue", "show", str(item["id"]), "--json")
    assert json.loads(shown.stdout)["key"] == key
    out = tmp_path / "queue.xlsx"
    assert recon(ws, "queue", "export", "--out", str(out)).exit_code == 0
    sheet = load_workbook(out).active
    col = COLUMNS.index("key") + 1
    assert sheet.cell(2, col).value == key


def test_card_numbers_in_a_reason_are_masked_in_list_and_show_json(ws):
    # A reason is free text copied from a statement: the same card number that the report masks
    # must not come back whole through `--json`, which scripts forward to chat and tickets.
    write_layer1(ws, [row("CHANNEL_ONLY", "k9", our=None, reason="card 4111 1111 1111 1111 refused")])
    sync_results(ws, DAY)
    [item] = json.loads(recon(ws, "queue", "list", "--json").stdout)
    assert "4111 1111 1111 1111" not in item["reason"] and "1111" in item["reason"]
    shown = json.loads(recon(ws, "queue", "show", str(item["id"]), "--json").stdout)
    assert "4111 1111 1111 1111" not in json.dumps(shown), json.dumps(shown)
