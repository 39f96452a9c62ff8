"""`recon queue ...` end to end through the real CLI app, in a temporary workspace."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import app
from layers import DAY, row, write_layer1
from recon.queue.sync import sync_results

runner = CliRunner()


def recon(ws, *args, input=None):
    result = runner.invoke(app, [*args, "--workspace", str(ws.root)], input=input)
    return result


def listed(ws, *args):
    result = recon(ws, "queue", "list", "--json", *args)
    assert result.exit_code == 0, result.output
    return {i["key"]: i for i in json.loads(result.stdout)}


@pytest.fixture()
def day(ws):
    write_layer1(ws, [
        row("MATCHED", "k1"),
        row("AMOUNT_MISMATCH", "k2", their="100.50"),
        row("PENDING", "k3", their=None),
        row("CHANNEL_ONLY", "k4", our=None, their="25000.00"),
        row("LOCAL_ONLY", "k5", their=None),
    ])
    sync_results(ws, DAY)
    return ws


def test_list_json_fields_and_filters(day):
    items = listed(day)
    assert set(items) == {"k2", "k3", "k4", "k5"}
    k2 = items["k2"]
    for field in ("id", "layer", "kind", "channel", "business_date", "status", "key", "our_amount",
                  "their_amount", "diff", "age_days", "severity", "aging_bucket"):
        assert field in k2
    assert (k2["our_amount"], k2["their_amount"], k2["diff"]) == ("100.00", "100.50", "0.50")  # CNY: 2 decimals
    assert k2["business_date"] == "2025-03-14" and k2["layer"] == 1 and k2["status"] == "OPEN"
    assert set(listed(day, "--kind", "PENDING")) == {"k3"}
    assert set(listed(day, "--state", "pending")) == {"k3"}
    assert set(listed(day, "--min-amount", "1000")) == {"k4"}
    assert set(listed(day, "--channel", "other")) == set()
    assert set(listed(day, "--since", "2025-03-15")) == set()
    assert set(listed(day, "--older-than", "100000")) == set()
    assert list(listed(day, "--sort", "amount"))[0] == "k4"
    table = recon(day, "queue", "list")
    assert table.exit_code == 0 and "4 item(s)" in table.stdout


def test_show_assign_resolve_write_off_reopen(day):
    ids = {k: v["id"] for k, v in listed(day).items()}
    shown = recon(day, "queue", "show", str(ids["k2"]), "--json")
    data = json.loads(shown.stdout)
    assert data["sides"]["ours"]["source_file"] == "internal/2025-03-14.csv"
    assert data["history"][0]["action"] == "created"
    assert "history" in recon(day, "queue", "show", str(ids["k2"])).stdout

    assert recon(day, "queue", "assign", str(ids["k2"]), "--to", "li.na", "--by", "lead").exit_code == 0
    assert listed(day, "--assignee", "li.na")["k2"]["assignee"] == "li.na"
    refused = recon(day, "queue", "resolve", str(ids["k2"]))
    assert refused.exit_code == 2 and "needs --note" in refused.stderr
    ok = recon(day, "queue", "resolve", str(ids["k2"]), "--accept", "channel", "--note", "channel is right", "--by", "li.na")
    assert ok.exit_code == 0, ok.output
    hist = json.loads(recon(day, "queue", "show", str(ids["k2"]), "--json").stdout)["history"]
    adj = hist[-1]["data"]["adjustment"]
    assert adj["amount"] == "0.500000" and adj["posted"] is True
    assert adj["lines"] == [{"debit": "assets:channel:wechat", "credit": "liabilities:suspense:wechat",
                             "amount": "0.500000"}]
    from recon.core.ledger import trial_balance
    from recon.queue.store import queue_engine

    assert trial_balance(queue_engine(day)).balanced
    assert hist[-1]["actor"] == "li.na" and hist[-1]["to_state"] == "RESOLVED"

    wo = recon(day, "queue", "write-off", str(ids["k5"]), "--account", "6711 losses", "--note", "under 1 yuan")
    assert wo.exit_code == 0, wo.output
    assert listed(day, "--state", "written_off")["k5"]["status"] == "WRITTEN_OFF"
    again = recon(day, "queue", "write-off", str(ids["k5"]), "--account", "6711", "--note", "x")
    assert again.exit_code == 2 and "WRITTEN_OFF" in again.stderr
    assert recon(day, "queue", "reopen", str(ids["k5"]), "--note", "auditor asked").exit_code == 0
    assert listed(day)["k5"]["status"] == "OPEN"
    assert recon(day, "queue", "show", "9999").exit_code == 2


def test_force_match_and_unmatch(day):
    ids = {k: v["id"] for k, v in listed(day).items()}
    assert recon(day, "queue", "match", str(ids["k4"]), str(ids["k5"]), "--note", "same order, new id").exit_code == 0
    assert {"k4", "k5"}.isdisjoint(listed(day))
    assert recon(day, "queue", "reopen", str(ids["k4"]), "--note", "x").exit_code == 2  # must unmatch
    assert recon(day, "queue", "unmatch", str(ids["k5"]), "--note", "wrong pair").exit_code == 0
    assert {"k4", "k5"} <= set(listed(day))


def test_bulk_asks_for_confirmation_unless_yes(day):
    declined = recon(day, "queue", "bulk", "assign", "--kind", "LOCAL_ONLY", "--to", "ops", input="n\n")
    assert declined.exit_code == 1 and "Aborted" in declined.output
    assert listed(day)["k5"]["assignee"] is None
    accepted = recon(day, "queue", "bulk", "assign", "--layer", "1", "--to", "ops", input="y\n")
    assert accepted.exit_code == 0 and all(i["assignee"] == "ops" for i in listed(day).values())
    done = recon(day, "queue", "bulk", "resolve", "--state", "open", "--note", "month-end sweep", "--yes", "--json")
    assert done.exit_code == 0, done.output
    assert {d["to"] for d in json.loads(done.stdout)} == {"RESOLVED"}
    assert set(listed(day)) == {"k3"}  # only the pending item is left


def test_search_finds_items_by_order_number_key_or_reason(ws):
    write_layer1(ws, [
        row("LOCAL_ONLY", "k5", their=None, our_merchant_order_no="S2026112000032"),
        row("CHANNEL_ONLY", "k6", our=None, reason="no record of ours; closest: channel line bill.csv:9"),
        row("AMOUNT_MISMATCH", "S2026_x", their="100.50"),
    ])
    sync_results(ws, DAY)
    assert set(listed(ws, "--search", "S2026112000032")) == {"k5"}  # the order number, in either side's ids
    assert set(listed(ws, "--search", "bill.CSV:9")) == {"k6"}  # the reason, case-blind
    assert set(listed(ws, "--search", "s2026_")) == {"S2026_x"}  # `_` is literal, not a wildcard
    assert set(listed(ws, "--search", "nothing-like-this")) == set()


def test_piped_tables_are_never_truncated_and_tsv_csv_are_for_scripts(ws):
    long_key = "ORDER-20261120-" + "x" * 90
    write_layer1(ws, [row("FEE_MISMATCH", long_key, their_fee=__import__("decimal").Decimal("0.65"),
                          diff_fee=__import__("decimal").Decimal("0.05")),
                      row("STATUS_MISMATCH", "k8", our_status="FAILED")])
    sync_results(ws, DAY)
    table = recon(ws, "queue", "list")
    assert table.exit_code == 0 and long_key in table.stdout  # CliRunner is not a terminal
    fee_line = next(line for line in table.stdout.splitlines() if long_key in line)
    assert "0.05" in fee_line  # a fee mismatch's diff is the fee's
    status_line = next(line for line in table.stdout.splitlines() if " k8 " in line)
    assert "FAILED / SUCCESS" in status_line
    tsv = recon(ws, "queue", "list", "--format", "tsv", "--sort", "id")
    lines = [line.split("\t") for line in tsv.stdout.splitlines()]
    assert lines[0][:3] == ["id", "severity", "layer"] and len(lines) == 3
    assert lines[1][7] == long_key and lines[1][11] == "0.05" and lines[1][9] == "100.00"
    assert recon(ws, "queue", "list", "--format", "csv").stdout.startswith("id,severity,layer")
    assert recon(ws, "queue", "list", "--format", "xml").exit_code == 2
