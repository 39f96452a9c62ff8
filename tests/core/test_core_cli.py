"""`recon core ...` end to end in a workspace, through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cli import app
from recon.internal import INTERNAL_COLUMNS

HEADER = ("txn_id,merchant_id,merchant_order_no,channel,merchant_txn_id,channel_txn_id,record_type,"
          "merchant_refund_id,original_txn_id,trade_time,currency,amount,fee,status\n")
ROWS = [
    "P1,m1,o1,wechat,S1,W1,PAYMENT,,,2024-03-01T10:00:00+08:00,CNY,100.00,0.60,SUCCESS",
    "R1,m1,o1,wechat,S1,W1,REFUND,RF1,P1,2024-03-01T12:00:00+08:00,CNY,-30.00,0,SUCCESS",
]

runner = CliRunner()


@pytest.fixture()
def ws(tmp_path: Path) -> Path:
    (tmp_path / "recon.toml").write_text('[store]\nurl = "sqlite:///recon.db"\n\n[defaults]\ntimezone = "Asia/Shanghai"\n'
                                         '\n[channels.wechat]\nformat = "wechatpay.trade"\nrules = "wechat"\n')
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "wechat.toml").write_text('[status.trade_state]\nSUCCESS = "SUCCESS"\nPAYERROR = "FAILED"\n')
    return tmp_path


def run(ws: Path, *args: str) -> object:
    result = runner.invoke(app, ["core", *args, "--workspace", str(ws), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_record_pay_and_balance(ws):
    made = run(ws, "record", '{"type": "payment", "merchant_id": "m1", "merchant_order_no": "o1", '
                             '"channel": "wechat", "currency": "CNY", "amount": 12.30, '
                             '"trade_time": "2024-03-01T10:00:00+08:00"}')
    assert made["state"] == "INIT" and made["amount"] == "12.30" and len(made["txn_id"]) == 32
    run(ws, "record", json.dumps({"type": "start", "txn_id": made["txn_id"]}))
    paid = run(ws, "record", json.dumps({"type": "result", "txn_id": made["txn_id"], "code": "SUCCESS",
                                         "channel_txn_id": "4200001", "fee": "0.07"}))
    assert paid["state"] == "PAID" and paid["channel_txn_id"] == "4200001"
    assert run(ws, "balance", "liabilities:merchant") == [
        {"account": "liabilities:merchant:m1", "currency": "CNY", "debits": "0.00", "credits": "12.30",
         "balance": "-12.30"}]  # at CNY's exponent
    assert run(ws, "trial-balance")["balanced"] is True
    check = run(ws, "check", "--date", "2024-03-01")
    assert check["transactions"] == 1 and check["differences"] == []
    assert (ws / "results" / "2024-03-01" / "layer0.parquet").exists()


def test_import_export_and_a_refused_duplicate(ws):
    src = ws / "in.csv"
    src.write_text(HEADER + "\n".join(ROWS) + "\n")
    assert run(ws, "import", str(src))["inserted"] == 2
    assert run(ws, "import", str(src))["duplicates"] == 2
    out = ws / "out.parquet"
    result = runner.invoke(app, ["core", "export", "--date", "2024-03-01", "--channel", "wechat",
                                 "--out", str(out), "--workspace", str(ws)])
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(out).schema == INTERNAL_COLUMNS
    bad = ws / "bad.csv"
    bad.write_text(HEADER + ROWS[0].replace("100.00", "99.00") + "\n")
    refused = runner.invoke(app, ["core", "import", str(bad), "--workspace", str(ws)])
    assert refused.exit_code == 4 and "P1 has different values" in refused.output


def test_an_illegal_event_exits_4_naming_state_and_event(ws):
    made = run(ws, "record", '{"type": "payment", "merchant_id": "m1", "merchant_order_no": "o9", '
                             '"channel": "wechat", "currency": "CNY", "amount": "1"}')
    result = runner.invoke(app, ["core", "record", json.dumps({"type": "result", "txn_id": made["txn_id"],
                                                               "code": "SUCCESS"}), "--workspace", str(ws)])
    assert result.exit_code == 4
    assert "event PAY_SUCCESS is not allowed in state INIT" in result.output


def test_amounts_finer_than_the_currency_unit_are_refused_on_record_and_import(ws, tmp_path):
    jpy = runner.invoke(app, ["core", "record", '{"type": "payment", "merchant_id": "m1", "merchant_order_no": "j1", '
                              '"channel": "wechat", "currency": "JPY", "amount": "100.5"}', "--workspace", str(ws)])
    assert jpy.exit_code == 4
    assert "amount 100.5 is finer than the minor unit of JPY (0 decimals)" in jpy.output
    ok = run(ws, "record", '{"type": "payment", "merchant_id": "m1", "merchant_order_no": "k1", '
                           '"channel": "wechat", "currency": "KWD", "amount": "1.250"}')
    assert ok["txn_id"]  # KWD has three decimals
    path = tmp_path / "import.csv"
    path.write_text(HEADER + ROWS[0] + "\n" + ROWS[0].replace("P1,", "P2,").replace("o1", "o2")
                    .replace("CNY,100.00", "CNY,100.005") + "\n", encoding="utf-8")
    refused = runner.invoke(app, ["core", "import", str(path), "--workspace", str(ws)])
    assert refused.exit_code == 4
    assert f"{path}:3: amount 100.005 is finer than the minor unit of CNY (2 decimals)" in refused.output
    assert run(ws, "balance") == [] or all(b["currency"] != "CNY" for b in run(ws, "balance"))  # nothing half-written
