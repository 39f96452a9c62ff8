"""Small builders for layer 2/3 tests: a workspace, bills, balances and internal rows, inline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl

from recon.internal import from_records
from recon.schema import BALANCE_COLUMNS
from recon.matching.policy import LayerSettings
from recon.schema import BILL_COLUMNS, OPTIONAL_COLUMNS, conform
from recon.workspace import Workspace
from jobs.catalog import open_workspace

D = dt.date
TOML = """
[defaults]
timezone = "UTC"

[channels.stripe]
format = "stripe.balance"
account = "acct_1"

[channels.bank]
format = "camt.053"
account = "DE89370400440532013000"
"""


def workspace(root: Path) -> Workspace:
    (root / "rules").mkdir(parents=True, exist_ok=True)
    (root / "recon.toml").write_text(TOML, encoding="utf-8")
    return open_workspace(root)


def layer_settings(**stripe: object) -> LayerSettings:
    """Weekends off, T+1 on business days, two days' grace; `stripe` overrides that channel."""
    return LayerSettings.from_dict({
        "calendar": {"weekend": ["sat", "sun"], "holidays": ["2024-04-01"]},
        "defaults": {"cycle": "T+1", "business_days": True, "payout_window_days": 2, "landing_days": 1},
        "channels": {"stripe": dict(stripe)},
    })


def line(record_type: str, txn: str, amount: str, fee: str = "0", *, payout_id: str | None = None,
         status: str = "SUCCESS", currency: str = "EUR", memo: str | None = None,
         settle_date: dt.date | None = None) -> dict:
    return {"record_type": record_type, "channel_txn_id": txn, "amount": Decimal(amount),
            "fee": Decimal(fee), "payout_id": payout_id, "status": status, "currency": currency,
            "memo": memo, "settle_date": settle_date}


def write_bill(ws: Workspace, channel: str, day: dt.date, lines: list[dict], account: str = "acct_1") -> Path:
    rows = []
    for n, ln in enumerate(lines, start=2):
        rows.append({
            "channel": channel, "account": account, "bill_date": day, "record_type": ln["record_type"],
            "channel_txn_id": ln["channel_txn_id"], "merchant_txn_id": None, "channel_refund_id": None,
            "merchant_refund_id": None, "trade_time": dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC),
            "currency": ln["currency"], "amount": ln["amount"], "fee": ln["fee"],
            "net_amount": ln["amount"] - ln["fee"], "status": ln["status"], "source_file": f"{channel}-{day}.csv",
            "source_line": n, "settle_date": ln["settle_date"], "payout_id": ln["payout_id"], "memo": ln["memo"],
        })
    schema = {**BILL_COLUMNS, **OPTIONAL_COLUMNS}
    frame = conform(pl.DataFrame(rows, schema={k: schema[k] for k in rows[0]} if rows else schema, orient="row"))
    path = ws.bill_path(channel, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


def write_balances(ws: Workspace, channel: str, day: dt.date, closings: list[tuple[str, str, str]]) -> Path:
    """One statement file: (account, currency, closing balance) per account, each with an opening."""
    rows = []
    for n, (account, currency, closing) in enumerate(closings):
        for kind, amount, at in (("OPENING", "0", 10), ("CLOSING", closing, 90)):
            rows.append({"channel": channel, "account": account, "currency": currency,
                         "statement_id": f"S{day:%Y%m%d}", "balance_date": day, "balance_type": kind,
                         "amount": Decimal(amount), "source_file": "stmt.xml", "source_line": 100 * n + at})
    path = ws.balances_path(channel, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows, schema=BALANCE_COLUMNS, orient="row").write_parquet(path)
    return path


def internal(rows: list[tuple[str, str, str, str]], channel: str = "stripe", currency: str = "EUR") -> pl.DataFrame:
    """(txn_id, record_type, amount, fee) -> the internal frame recon.internal builds."""
    return from_records([
        {"txn_id": t, "merchant_id": "M1", "channel": channel, "merchant_txn_id": f"m-{t}", "record_type": rt,
         "trade_time": "2024-03-04T10:00:00+00:00", "currency": currency, "amount": amt, "fee": fee,
         "status": "SUCCESS"} for t, rt, amt, fee in rows
    ], "internal.csv")


def rows_of(path: Path, **where: object) -> list[dict]:
    frame = pl.read_parquet(path)
    for column, value in where.items():
        frame = frame.filter(pl.col(column) == value)
    return frame.to_dicts()
