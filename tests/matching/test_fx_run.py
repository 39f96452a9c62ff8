"""`recon run` on a small workspace: an Adyen report settling JPY orders in EUR, compared through its rate."""

from __future__ import annotations

import json

import openpyxl
import polars as pl
from typer.testing import CliRunner

from cli import app
from tests.synth.intl import _ADYEN_HEADER

DAY = "2026-01-15"
CONFIG = """
[defaults]
timezone = "Europe/Amsterdam"

[channels.adyen]
format = "adyen.settlement"
account = "Shop"

[channels.adyen.internal]
source = "file"
path = "internal/{date:%Y-%m-%d}.csv"

[channels.adyen.fx]
tolerance_minor = 1

[report]
language = "zh"
"""


def row(psp, ref, t, gc, gcr, rate, nc, ncr, comm):
    return (f"Co,Shop,{psp},{ref},visa,{DAY} {t},CET,Settled,M{psp},{gc},,{gcr},{rate},{nc},,{ncr},{comm},,,,"
            "visa,,7,,,,,,,\n")


def test_recon_run_matches_within_the_statements_rate_and_queues_an_fx_mismatch(tmp_path):
    raw = tmp_path / "raw" / "adyen" / DAY
    raw.mkdir(parents=True)
    # 1500 JPY x 0.0061 = 9.15 EUR (net 9.04 + fee 0.11); 2000 JPY x 0.0061 = 12.20 EUR (ours: 2100)
    (raw / "settlement_detail_report_batch_7.csv").write_text(
        _ADYEN_HEADER + row("882", "ORD-2", "10:00:00", "JPY", "1500", "0.0061", "EUR", "9.04", "0.11")
        + row("883", "ORD-3", "11:00:00", "JPY", "2000", "0.0061", "EUR", "12.09", "0.11"), encoding="utf-8")
    (tmp_path / "internal").mkdir()
    (tmp_path / "internal" / f"{DAY}.csv").write_text(
        "txn_id,merchant_id,channel,merchant_txn_id,record_type,trade_time,currency,amount,fee,status\n"
        f"T2,Shop,adyen,ORD-2,PAYMENT,{DAY}T09:00:00+00:00,JPY,1500,0,SUCCESS\n"
        f"T3,Shop,adyen,ORD-3,PAYMENT,{DAY}T10:00:00+00:00,JPY,2100,0,SUCCESS\n", encoding="utf-8")
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "rules").mkdir()
    runner = CliRunner()
    done = runner.invoke(app, ["run", "--date", DAY, "--workspace", str(tmp_path), "--quiet"])
    assert done.exit_code == 0, done.output

    results = pl.read_parquet(tmp_path / "results" / DAY / "layer1.parquet")
    got = {r["our_txn_id"]: r for r in results.filter(pl.col("our_txn_id").is_not_null()).to_dicts()}
    assert got["T2"]["outcome"] == "MATCHED"
    assert ("1500 JPY here at 0.0061 JPY->EUR (stated on raw/adyen/2026-01-15/settlement_detail_report_batch_7.csv:2) "
            "is 9.15 EUR") in got["T2"]["reason"]
    assert got["T3"]["outcome"] == "FX_MISMATCH"
    assert got["T3"]["reason"] == ("2100 JPY here at 0.0061 JPY->EUR (stated on raw/adyen/2026-01-15/"
                                   "settlement_detail_report_batch_7.csv:3) is 12.81 EUR, the channel has 12.20 EUR: "
                                   "off by -0.61 EUR, beyond the tolerance 0.01 EUR")
    # the queue holds it as one more discrepancy, with both figures in their currencies
    listed = runner.invoke(app, ["queue", "list", "--state", "all", "--json", "--workspace", str(tmp_path)])
    items = json.loads(listed.stdout)
    fx = [i for i in items if i["kind"] == "FX_MISMATCH"]
    assert len(fx) == 1 and fx[0]["key"] == "ORD-3"
    # the report's summary names the kind in the reader's language
    book = openpyxl.load_workbook(tmp_path / "reports" / DAY / f"recon-{DAY}.xlsx")
    summary = [c.value for row in book.worksheets[0].iter_rows() for c in row]
    assert "汇率不符" in summary and "FX_MISMATCH" not in summary
    # clearing holds it back like any open amount difference; the pair within the rate clears
    detail = (tmp_path / "clearing" / DAY / "merchant-Shop.csv").read_text(encoding="utf-8")
    assert "T3,adyen,PAYMENT,JPY,2100,2026-01-15,HELD," in detail and detail.rstrip().endswith("open: FX_MISMATCH")
    assert "T2,adyen,PAYMENT,JPY,1500,2026-01-15,CLEARED," in detail
