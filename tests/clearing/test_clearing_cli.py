"""`recon clear` from the command line, in a temp workspace with a hand-written layer1.parquet."""

from __future__ import annotations

import datetime as dt
import json

from clearing_support import make_ws, txn, write_layer1
from typer.testing import CliRunner

from cli import app

DAY = dt.date(2025, 3, 14)


def test_clear_prints_a_table_writes_the_contract_csv_and_json(tmp_path):
    ws = make_ws(tmp_path / "ws")  # built-in rules: 0.6% half-up, refunds return the fee
    write_layer1(ws, DAY, [txn("p1", "M001", "1000.00", day=DAY),
                           txn("r1", "M001", "-50.00", day=DAY, record_type="REFUND"),
                           txn("h1", "M001", "100.50", day=DAY, outcome="AMOUNT_MISMATCH")])
    runner = CliRunner()
    result = runner.invoke(app, ["clear", "--date", "2025-03-14", "--workspace", str(ws.root)])
    assert result.exit_code == 0, result.output
    assert "M001" in result.output and "1 held" in result.output
    # fees 6.00 - 0.30 = 5.70; gross 1000.00 - 50.00 + 100.50 = 1050.50 = 944.30 + 5.70 + 0 + 100.50.
    assert (ws.clearing_dir(DAY) / "settlements.csv").read_text(encoding="utf-8") == (
        "merchant_id,currency,gross,refunds,fees,splits,held,net_payable\n"
        "M001,CNY,1050.50,-50.00,5.70,0.00,100.50,944.30\n")
    again = runner.invoke(app, ["clear", "--date", "2025-03-14", "--workspace", str(ws.root), "--json"])
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert (data["posted"], data["unchanged"]) == ([], ["CLEAR:2025-03-14:M001:CNY:wechat"])
    assert data["settlements"][0]["net_payable"] == "944.30"
    quiet = runner.invoke(app, ["clear", "--date", "2025-03-14", "--workspace", str(ws.root), "--quiet"])
    assert (quiet.exit_code, quiet.stdout) == (0, "")


def test_clear_before_matching_exits_4_with_the_next_command(tmp_path):
    ws = make_ws(tmp_path / "ws")
    result = CliRunner().invoke(app, ["clear", "--date", "2025-03-14", "--workspace", str(ws.root)])
    assert result.exit_code == 4
    assert "recon match --date 2025-03-14" in result.stderr


def test_bad_rules_exit_2_naming_the_rule(tmp_path):
    ws = make_ws(tmp_path / "ws", '[fees.a]\nkind = "none"\nrecord_types = ["PAYMENT"]\nrounding = "half_up"\n'
                                  'round_at = "transaction"\n[fees.b]\nkind = "none"\nrecord_types = ["PAYMENT"]\n'
                                  'rounding = "half_up"\nround_at = "transaction"\n')
    write_layer1(ws, DAY, [])
    result = CliRunner().invoke(app, ["clear", "--date", "2025-03-14", "--workspace", str(ws.root)])
    assert result.exit_code == 2
    assert "fees rules 'a' and 'b' overlap" in result.stderr
