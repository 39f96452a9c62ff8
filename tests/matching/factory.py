"""Test data for layer 1: a clean day where both sides agree, and ways to break it on purpose.

A clean day has payments (each with our serial M…, the channel's serial C…) and partial refunds of
some of them (R…), both sides holding the same rows. Amounts are distinct per row and times stay
away from midnight, so no two rows could be confused and nothing is cross-day unless a test says so.
`inject` then breaks exactly k rows in one named way and says which outcome that must produce.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import polars as pl

from recon.internal import INTERNAL_COLUMNS
from recon.schema import BILL_COLUMNS, OPTIONAL_COLUMNS

DAY = dt.date(2024, 5, 1)
UTC = dt.timezone.utc
# 2024-05-01 in Asia/Shanghai is [04-30 16:00Z, 05-01 16:00Z); generated times stay in 01:00-22:00 local.
DAY_START = dt.datetime(2024, 4, 30, 16, 0, tzinfo=UTC)
BILL_SCHEMA = {**BILL_COLUMNS, **OPTIONAL_COLUMNS}
# A workspace with one WeChat Pay channel whose internal side is a daily CSV: the shape most
# workspace tests start from (they add channels or change the source by string replacement).
WX_FILE_CONFIG = """
[defaults]
timezone = "Asia/Shanghai"

[channels.wx]
format = "wechatpay.trade"
account = "1900000109"

[channels.wx.internal]
source = "file"
path = "internal/{date:%Y-%m-%d}.csv"
"""
KINDS = {  # injected fault -> the outcome it must produce
    "amount": "AMOUNT_MISMATCH", "fee": "FEE_MISMATCH", "status": "STATUS_MISMATCH",
    "currency": "CURRENCY_MISMATCH", "drop_theirs": "LOCAL_ONLY", "drop_ours": "CHANNEL_ONLY",
    "duplicate": "DUPLICATE",
}


def clean_day(n: int, seed: int, *, refunds: bool = True) -> tuple[list[dict], list[dict]]:
    """(ours, theirs) as lists of dicts in internal / bill columns; row i of each side agree."""
    rng = random.Random(seed)
    ours, theirs = [], []
    for i in range(n):
        amount = Decimal(i + 1) + Decimal(rng.randint(0, 99)) / 100
        fee = (amount * Decimal("0.006")).quantize(Decimal("0.01"))
        time = DAY_START + dt.timedelta(hours=1, seconds=rng.randint(0, 21 * 3600))
        ours.append(_ours(i, f"M{i:06d}", f"C{i:06d}", "PAYMENT", None, amount, fee, time))
        theirs.append(_theirs(f"C{i:06d}", f"M{i:06d}", "PAYMENT", None, None, amount, fee, time))
        if refunds and rng.random() < 0.25:
            for r in range(rng.randint(1, 2)):  # partial refunds: one payment, several refunds
                part = -(amount / 4).quantize(Decimal("0.01")) - Decimal(r) / 100
                rt = time + dt.timedelta(minutes=5 + r)
                ours.append(_ours(len(ours), f"M{i:06d}", None, "REFUND", f"R{i:06d}{r}", part, Decimal(0), rt))
                theirs.append(_theirs(f"C{i:06d}", f"M{i:06d}", "REFUND", f"CR{i:06d}{r}", f"R{i:06d}{r}",
                                      part, Decimal(0), rt))
    for line, row in enumerate(ours, start=2):
        row["source_line"] = line
    for line, row in enumerate(theirs, start=2):
        row["source_line"] = line
    return ours, theirs


def _ours(i, mtx, ctx, rtype, refund, amount, fee, time) -> dict:
    return {"txn_id": f"T{i:06d}", "merchant_id": "MER1", "merchant_order_no": f"O{i:06d}", "channel": "wx",
            "merchant_txn_id": mtx, "channel_txn_id": ctx, "record_type": rtype, "merchant_refund_id": refund,
            "original_txn_id": None, "trade_time": time, "currency": "CNY", "amount": amount, "fee": fee,
            "status": "SUCCESS", "source_file": "internal.csv", "source_line": 0}


def _theirs(ctx, mtx, rtype, crefund, mrefund, amount, fee, time) -> dict:
    return {"channel": "wx", "account": "1900000109", "bill_date": DAY, "record_type": rtype,
            "channel_txn_id": ctx, "merchant_txn_id": mtx, "channel_refund_id": crefund,
            "merchant_refund_id": mrefund, "trade_time": time, "currency": "CNY", "amount": amount, "fee": fee,
            "net_amount": amount - fee, "status": "SUCCESS", "source_file": "bill.csv", "source_line": 0}


def inject(ours: list[dict], theirs: list[dict], kind: str, k: int, seed: int) -> list[int]:
    """Break k distinct payment pairs in place (by index into the lists); returns the indexes."""
    rng = random.Random(seed)
    payments = [i for i, row in enumerate(ours) if row["record_type"] == "PAYMENT"]  # aligned with theirs
    picked = rng.sample(payments, k)
    for i in picked:
        mine, chan = ours[i], theirs[i]
        if kind == "amount":
            chan["amount"] -= Decimal("0.01")
            chan["net_amount"] = chan["amount"] - chan["fee"]
        elif kind == "fee":
            chan["fee"] += Decimal("0.01")
            chan["net_amount"] = chan["amount"] - chan["fee"]
        elif kind == "status":
            mine["status"] = "FAILED"
        elif kind == "currency":
            chan["currency"] = "USD"
        elif kind == "drop_theirs":
            chan["_drop"] = True
        elif kind == "drop_ours":
            mine["_drop"] = True
        elif kind == "duplicate":
            theirs.append({**chan, "source_line": 100000 + i})
    return picked


def frames(ours: list[dict], theirs: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(bill, internal) frames in the contract schemas, dropped rows left out."""
    keep_o = [{c: r[c] for c in INTERNAL_COLUMNS} for r in ours if not r.get("_drop")]
    keep_t = [{c: r.get(c) for c in BILL_SCHEMA} for r in theirs if not r.get("_drop")]
    return (pl.DataFrame(keep_t, schema=BILL_SCHEMA, orient="row"),
            pl.DataFrame(keep_o, schema=INTERNAL_COLUMNS, orient="row"))


def per_input_row(results: pl.DataFrame) -> tuple[dict, dict]:
    """{(file, line): {outcomes}} for our rows and for their rows, as the results place them."""
    ours: dict = {}
    theirs: dict = {}
    for row in results.iter_rows(named=True):
        if row["our_source_file"] is not None:
            ours.setdefault((row["our_source_file"], row["our_source_line"]), set()).add(row["outcome"])
        if row["their_source_file"] is not None:
            theirs.setdefault((row["their_source_file"], row["their_source_line"]), set()).add(row["outcome"])
    return ours, theirs
