"""The payment core under hostile input (issue 18): formula text in its CSV export (defect 8),
ids with `#`, `/`, quotes (defect 7), results without a field (defect 5), currencies, signs and
invisible characters (defect 6)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cli import app
from recon.internal import read_file

runner = CliRunner()
HEADER = ("txn_id,merchant_id,merchant_order_no,channel,merchant_txn_id,channel_txn_id,record_type,"
          "merchant_refund_id,original_txn_id,trade_time,currency,amount,fee,status\n")


@pytest.fixture()
def ws(tmp_path: Path) -> Path:
    (tmp_path / "recon.toml").write_text('[store]\nurl = "sqlite:///recon.db"\n\n[defaults]\ntimezone = "Asia/Shanghai"\n'
                                         '\n[channels.wechat]\nformat = "wechatpay.trade"\n')
    return tmp_path


def core(ws: Path, *args: str):
    return runner.invoke(app, ["core", *args, "--workspace", str(ws)])


def test_core_csv_export_escapes_formula_text_and_reads_back_whole(ws):
    src = ws / "in.csv"
    src.write_text(HEADER + "P1,=HYPERLINK(\"x\"),@SUM(A1),wechat,+S1,W1,PAYMENT,,,2024-03-01T10:00:00+08:00,"
                   "CNY,100.00,0.60,SUCCESS\n", encoding="utf-8")
    assert core(ws, "import", str(src)).exit_code == 0
    out = ws / "out.csv"
    result = core(ws, "export", "--date", "2024-03-01", "--channel", "wechat", "--out", str(out))
    assert result.exit_code == 0, result.output
    row = pl.read_csv(out, infer_schema=False).row(0, named=True)
    assert (row["merchant_id"], row["merchant_order_no"], row["merchant_txn_id"]) == (
        "'=HYPERLINK(\"x\")", "'@SUM(A1)", "'+S1")
    assert row["amount"] == "100.000000"  # numbers are not text: never prefixed
    back = read_file(out).row(0, named=True)  # recon reading its own export gets the ids back whole
    assert (back["merchant_id"], back["merchant_order_no"], back["merchant_txn_id"]) == (
        '=HYPERLINK("x")', "@SUM(A1)", "+S1")
