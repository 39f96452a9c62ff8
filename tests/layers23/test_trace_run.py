"""`recon run` on a small workspace: two Stripe payouts of 500.00, two bank credits of 500.00."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import polars as pl
from typer.testing import CliRunner

from cli import app
from tests.synth.bank import SynthLine, SynthStatement, write_mt940

DAY = dt.date(2026, 1, 15)
IBAN = "NL91ABNA0417164300"
CONFIG = f"""
[defaults]
timezone = "UTC"

[channels.stripe]
format = "stripe.balance"
account = "acct_1"

[channels.stripe.internal]
source = "file"
path = "internal/{{date:%Y-%m-%d}}.csv"

[channels.bank]
format = "mt940"
account = "{IBAN}"
"""
STRIPE = (
    "balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,"
    "source_id,charge_id,payment_intent_id,description,automatic_payout_id\n"
    f"txn_1,{DAY} 09:00:00,{DAY} 09:00:00,eur,1000.00,0.00,1000.00,charge,ch_1,ch_1,pi_1,Order 1,\n"
    f"txn_po_a,{DAY} 20:00:00,{DAY} 20:00:00,eur,-500.00,0.00,-500.00,payout,po_AAAAAAAA,,,Payout,po_AAAAAAAA\n"
    f"txn_po_b,{DAY} 20:00:01,{DAY} 20:00:01,eur,-500.00,0.00,-500.00,payout,po_BBBBBBBB,,,Payout,po_BBBBBBBB\n"
)


def credit(n: int, remittance: str) -> SynthLine:
    return SynthLine(DAY, DAY, Decimal("500.00"), "TRF", False, None, f"B{n}", "STRIPE TECHNOLOGY", remittance)


def test_recon_run_links_the_payout_named_in_the_bank_line_before_the_one_equal_in_amount(tmp_path):
    (tmp_path / "raw" / "stripe" / str(DAY)).mkdir(parents=True)
    (tmp_path / "raw" / "stripe" / str(DAY) / "balance.csv").write_text(STRIPE, encoding="utf-8")
    mt940 = io.StringIO()
    # the first 500.00 names the second payout: by amount alone it would go to the first
    write_mt940(iter([SynthStatement("STMT1", 1, IBAN, "EUR", DAY - dt.timedelta(days=1), Decimal("0"),
                                     (credit(1, "STRIPE PAYOUT PO_BBBBBBBB"), credit(2, "STRIPE PAYOUT")))]), mt940)
    (tmp_path / "raw" / "bank" / str(DAY)).mkdir(parents=True)
    (tmp_path / "raw" / "bank" / str(DAY) / "statement.sta").write_text(mt940.getvalue(), encoding="utf-8")
    (tmp_path / "internal").mkdir()
    (tmp_path / "internal" / f"{DAY}.csv").write_text(
        "txn_id,merchant_id,channel,merchant_txn_id,channel_txn_id,record_type,trade_time,currency,amount,fee,status\n"
        f"T1,M1,stripe,ORD-1,ch_1,PAYMENT,{DAY}T09:00:00+00:00,EUR,1000.00,0,SUCCESS\n", encoding="utf-8")
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "rules").mkdir()
    done = CliRunner().invoke(app, ["run", "--date", str(DAY), "--workspace", str(tmp_path), "--quiet"])
    assert done.exit_code == 0, done.output

    layer3 = pl.read_parquet(tmp_path / "results" / str(DAY) / "layer3.parquet").filter(pl.col("section") == "payout")
    got = {r["key"]: r for r in layer3.to_dicts()}
    assert {k: r["kind"] for k, r in got.items()} == {"payout:po_AAAAAAAA": "PAYOUT_RECEIVED",
                                                      "payout:po_BBBBBBBB": "PAYOUT_RECEIVED"}
    b, a = got["payout:po_BBBBBBBB"], got["payout:po_AAAAAAAA"]
    assert b["reason"].endswith("linked by payout id po_BBBBBBBB in remittance info")
    assert a["reason"].endswith("linked by amount and date")
    assert b["their_date"] == a["their_date"] == DAY
    assert (b["their_ref"], a["their_ref"]) == ("bank:B1", "bank:B2")
