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


PAYMENT = {"type": "payment", "merchant_id": "m1", "merchant_order_no": "o1", "channel": "wechat",
           "currency": "CNY", "amount": "10.00", "trade_time": "2024-03-01T10:00:00+08:00"}


def _paying(ws: Path, **over) -> str:
    made = core(ws, "record", json.dumps({**PAYMENT, **over}), "--json")
    assert made.exit_code == 0, made.output
    txn_id = json.loads(made.stdout)["txn_id"]
    assert core(ws, "record", json.dumps({"type": "start", "txn_id": txn_id})).exit_code == 0
    return txn_id


def test_a_success_result_without_field_pays_with_the_channels_own_rules(ws):
    """Defect 5: the built-in WeChat rules call their table `trade`; no `field` used to map to nothing."""
    txn_id = _paying(ws)
    paid = core(ws, "record", json.dumps({"type": "result", "txn_id": txn_id, "code": "SUCCESS"}), "--json")
    assert paid.exit_code == 0, paid.output
    assert json.loads(paid.stdout)["state"] == "PAID" and json.loads(paid.stdout)["result"] == "SUCCESS"


def test_a_result_that_decides_nothing_is_never_a_silent_success(ws):
    txn_id = _paying(ws)
    wrong = core(ws, "record", json.dumps({"type": "result", "txn_id": txn_id, "code": "SUCCESS",
                                           "field": "trade_state"}))
    assert wrong.exit_code == 2 and "has no status field 'trade_state'" in wrong.output
    assert "refund, trade" in wrong.output
    unknown = core(ws, "record", json.dumps({"type": "result", "txn_id": txn_id, "code": "USERPAYING"}))
    assert unknown.exit_code == 3 and "UNKNOWN" in unknown.output and "PAYING" in unknown.output


@pytest.mark.parametrize("currency, said", [("cny", "upper case (CNY)"), ("ABC", "not an ISO 4217"),
                                            ("CN", "not an ISO 4217")])
def test_the_core_refuses_unknown_or_lower_case_currencies_with_one_line(ws, currency, said):
    result = core(ws, "record", json.dumps({**PAYMENT, "currency": currency}))
    assert result.exit_code == 2 and said in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_invisible_characters_never_become_part_of_an_id(ws):
    txn_id = _paying(ws, merchant_order_no="\ufeffo-7\u200b", merchant_id="m\u20601")
    got = json.loads(core(ws, "record", json.dumps({"type": "close", "txn_id": txn_id}), "--json").stdout)
    assert (got["merchant_order_no"], got["merchant_id"]) == ("o-7", "m1")
    again = json.loads(core(ws, "record", json.dumps({**PAYMENT, "merchant_order_no": "o-7"}), "--json").stdout)
    assert again["txn_id"] == txn_id  # the same order: the invisible characters made no second one


@pytest.mark.parametrize("row, said", [
    ("P1,m1,o1,wechat,S1,W1,PAYMENT,,,2024-03-01T10:00:00+08:00,CNY,-10.00,0,SUCCESS", "PAYMENT amount is positive"),
    ("P1,m1,o1,wechat,S1,W1,PAYMENT,,,2024-03-01T10:00:00+08:00,cny,10.00,0,SUCCESS", "upper case (CNY)"),
    ("P1,m1,o1,wechat,S1,W1,PAYMENT,,,2024-03-01T10:00:00+08:00,XYZ,10.00,0,SUCCESS", "not an ISO 4217"),
    ("R1,m1,o1,wechat,S1,W1,REFUND,RF1,P0,2024-03-01T10:00:00+08:00,CNY,5.00,0,SUCCESS", "REFUND amount is negative"),
])
def test_the_internal_side_refuses_wrong_signs_and_currencies_naming_the_line(ws, row, said):
    src = ws / "in.csv"
    src.write_text(HEADER + row + "\n", encoding="utf-8")
    result = core(ws, "import", str(src))
    assert result.exit_code == 4 and said in result.output and f"{src}:2" in result.output.replace("\n", "")


def test_the_internal_side_strips_invisible_characters_from_ids(ws):
    src = ws / "in.csv"
    src.write_text(HEADER + "P1,m1,\ufeffo1,wechat,S\u200b1,W1,PAYMENT,,,2024-03-01T10:00:00+08:00,CNY,10.00,0,SUCCESS\n",
                   encoding="utf-8")
    row = read_file(src).row(0, named=True)
    assert (row["merchant_order_no"], row["merchant_txn_id"]) == ("o1", "S1")
