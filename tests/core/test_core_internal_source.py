"""`[channels.<name>.internal] source = "core"`: the payment core's store as our side of matching.

The core refuses money finer than its currency's unit when it is recorded or imported; a row that
reached the store another way (a hand-made fix, an older version, another writer) must still be
refused when matching reads it, naming the transaction, and nothing of the day is rewritten.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from typer.testing import CliRunner

from cli import app
from recon.store.tables.core import txns
from tests.matching.factory import _theirs, frames

DAY = dt.date(2024, 3, 1)
CONFIG = """
[store]
url = "sqlite:///recon.db"

[defaults]
timezone = "Asia/Shanghai"

[channels.wx]
format = "wechatpay.trade"
account = "1900000109"

[channels.wx.internal]
source = "core"
"""
HEADER = ("txn_id,merchant_id,merchant_order_no,channel,merchant_txn_id,channel_txn_id,record_type,"
          "merchant_refund_id,original_txn_id,trade_time,currency,amount,fee,status\n")
OURS = ("P1,m1,o1,wx,S1,W1,PAYMENT,,,2024-03-01T10:00:00+08:00,CNY,100.00,0,SUCCESS\n"
        "J1,m1,o2,wx,S2,W2,PAYMENT,,,2024-03-01T11:00:00+08:00,JPY,100,0,SUCCESS\n")
runner = CliRunner()


def line(ctx: str, mtx: str, currency: str, amount: str, hour: int) -> dict:
    time = dt.datetime(2024, 3, 1, hour - 8, tzinfo=dt.UTC)
    return {**_theirs(ctx, mtx, "PAYMENT", None, None, Decimal(amount), Decimal(0), time),
            "currency": currency, "bill_date": DAY, "source_file": "wx-2024-03-01.csv"}


def test_the_core_source_refuses_an_amount_finer_than_its_currency_unit_naming_the_txn(tmp_path: Path):
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "ours.csv").write_text(HEADER + OURS, encoding="utf-8")
    imported = runner.invoke(app, ["core", "import", str(tmp_path / "ours.csv"), "--workspace", str(tmp_path)])
    assert imported.exit_code == 0, imported.output
    bill, _ = frames([], [line("W1", "S1", "CNY", "100.00", 10), line("W2", "S2", "JPY", "100", 11)])
    (tmp_path / "bills" / "wx").mkdir(parents=True)
    bill.write_parquet(tmp_path / "bills" / "wx" / f"{DAY}.parquet")

    matched = runner.invoke(app, ["match", "--date", str(DAY), "--workspace", str(tmp_path)])
    assert matched.exit_code == 0, matched.output
    results = tmp_path / "results" / str(DAY) / "layer1.parquet"
    assert pl.read_parquet(results)["outcome"].to_list() == ["MATCHED", "MATCHED"]
    before = results.read_bytes()

    # J1 becomes JPY 100.5 in the store behind the core's back (the core itself would refuse it)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'recon.db'}")
    with engine.begin() as conn:
        conn.execute(sa.update(txns).where(txns.c.txn_id == "J1").values(amount=Decimal("100.5")))
    engine.dispose()

    refused = runner.invoke(app, ["match", "--date", str(DAY), "--workspace", str(tmp_path)])
    assert refused.exit_code == 4, refused.output
    said = refused.output.replace("\n", " ")
    assert "the payment core's store: txn_id J1: amount 100.5 is finer than the minor unit of JPY (0 decimals)" in said
    assert results.read_bytes() == before  # the day's results are the last good run's, nothing half-written
