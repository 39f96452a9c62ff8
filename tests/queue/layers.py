"""Test helpers: a workspace and results files shaped exactly like the matcher's contract.

`results/<D>/layer1.parquet` columns and types follow CONTRIBUTING.md ("Cross-module contracts");
layers 0, 2 and 3 use the generic discrepancy columns. Tests build rows with `row(...)`, overriding
only what matters to them, so each test shows its own data inline.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl

from recon.schema import MONEY, UTC_TIME
from recon.workspace import Workspace
from jobs.catalog import open_workspace

LAYER1_SCHEMA: dict[str, pl.DataType] = {
    "business_date": pl.Date(), "channel": pl.String(), "account": pl.String(), "outcome": pl.String(),
    "pass_name": pl.String(), "match_key": pl.String(), "reason": pl.String(), "confidence": pl.Float64(),
    "carried_from": pl.Date(),
    "our_txn_id": pl.String(), "our_merchant_id": pl.String(), "our_merchant_txn_id": pl.String(),
    "our_channel_txn_id": pl.String(), "our_merchant_refund_id": pl.String(), "our_record_type": pl.String(),
    "our_currency": pl.String(), "our_amount": MONEY, "our_fee": MONEY, "our_status": pl.String(),
    "our_trade_time": UTC_TIME, "our_source_file": pl.String(), "our_source_line": pl.Int64(),
    "their_channel_txn_id": pl.String(), "their_merchant_txn_id": pl.String(),
    "their_channel_refund_id": pl.String(), "their_merchant_refund_id": pl.String(),
    "their_record_type": pl.String(), "their_currency": pl.String(), "their_amount": MONEY,
    "their_fee": MONEY, "their_status": pl.String(), "their_trade_time": UTC_TIME,
    "their_source_file": pl.String(), "their_source_line": pl.Int64(),
    "diff_amount": MONEY, "diff_fee": MONEY, "our_merchant_order_no": pl.String(),
}
GENERIC_SCHEMA: dict[str, pl.DataType] = {
    "business_date": pl.Date(), "channel": pl.String(), "account": pl.String(), "kind": pl.String(),
    "key": pl.String(), "currency": pl.String(), "our_amount": MONEY, "their_amount": MONEY,
    "diff": MONEY, "reason": pl.String(),
}
DAY = dt.date(2025, 3, 14)


def make_ws(root: Path, *, store_url: str | None = None, language: str = "en") -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    url = store_url or "sqlite:///recon.db"
    (root / "recon.toml").write_text(
        f'[store]\nurl = "{url}"\n\n[report]\nlanguage = "{language}"\n\n'
        '[channels.wechat]\nformat = "wechatpay.trade"\naccount = "1900000109"\n', encoding="utf-8")
    return open_workspace(root)


def row(outcome: str, key: str, *, our: str | None = "100.00", their: str | None = "100.00",
        day: dt.date = DAY, **extra) -> dict:
    """One layer-1 row: both sides present unless `our`/`their` is None."""
    our_d = None if our is None else Decimal(our)
    their_d = None if their is None else Decimal(their)
    base = {name: None for name in LAYER1_SCHEMA}
    base.update(business_date=day, channel="wechat", account="1900000109", outcome=outcome,
                match_key=key, reason="" if outcome == "MATCHED" else f"{outcome.lower()} on {key}")
    if our_d is not None:
        base.update(our_txn_id=f"T{key}", our_merchant_txn_id=f"M{key}", our_currency="CNY",
                    our_amount=our_d, our_fee=Decimal("0.60"), our_status="SUCCESS",
                    our_trade_time=dt.datetime(2025, 3, 14, 2, 30, tzinfo=dt.UTC),
                    our_source_file="internal/2025-03-14.csv", our_source_line=7)
    if their_d is not None:
        base.update(their_channel_txn_id=f"C{key}", their_merchant_txn_id=f"M{key}", their_currency="CNY",
                    their_amount=their_d, their_fee=Decimal("0.60"), their_status="SUCCESS",
                    their_trade_time=dt.datetime(2025, 3, 14, 2, 30, 5, tzinfo=dt.UTC),
                    their_source_file="raw/wechat/2025-03-14/wechat_20250314.csv", their_source_line=12)
    if our_d is not None and their_d is not None:
        base.update(diff_amount=their_d - our_d, diff_fee=Decimal("0"))
    if outcome == "MATCHED":
        base.update(pass_name="merchant_txn_id")
    base.update(extra)
    return base


def write_layer1(ws: Workspace, rows: list[dict], day: dt.date = DAY) -> Path:
    frame = pl.DataFrame(rows, schema=LAYER1_SCHEMA, orient="row") if rows else pl.DataFrame(schema=LAYER1_SCHEMA)
    frame = frame.sort("channel", "outcome", "match_key", "our_txn_id", "their_channel_txn_id",
                       "their_source_line", nulls_last=True)
    path = ws.results_dir(day) / "layer1.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


def generic(kind: str, key: str, our: str | None, their: str | None, *, day: dt.date = DAY, **extra) -> dict:
    o = None if our is None else Decimal(our)
    t = None if their is None else Decimal(their)
    d = None if o is None or t is None else t - o
    return {"business_date": day, "channel": "wechat", "account": "1900000109", "kind": kind, "key": key,
            "currency": "CNY", "our_amount": o, "their_amount": t, "diff": d,
            "reason": f"{kind.lower()} {key}", **extra}


def write_generic(ws: Workspace, layer: int, rows: list[dict], day: dt.date = DAY) -> Path:
    schema = dict(GENERIC_SCHEMA)
    for r in rows:
        for k, v in r.items():
            kind = pl.Boolean() if isinstance(v, bool) else pl.Date() if isinstance(v, dt.date) else pl.String()
            schema.setdefault(k, kind)
    frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    path = ws.results_dir(day) / f"layer{layer}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path
