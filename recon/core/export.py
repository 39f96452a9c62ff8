"""The internal side for matching, from the payment core's own store.

`internal_frame(engine, channel, date, zone)` gives exactly `recon.internal.INTERNAL_COLUMNS` for the
payments and refunds of one channel whose `trade_time` falls in the business day `date` in `zone`
(the window is `recon.internal.window_utc`, the same rule the other internal sources use). Money
stays Decimal from the store to the frame; status is the order's state mapped through its state
machine (only PAID / SUCCEEDED are SUCCESS). Rows are sorted by (trade_time, txn_id) so two exports
of the same day are identical.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from recon.clock import window_utc
from recon.core.machine import MACHINES
from recon.internal import INTERNAL_COLUMNS, empty_internal
from recon.store.tables.core import txns

SOURCE = "recon.core"


def internal_frame(engine: Engine, channel: str, date: dt.date, zone: ZoneInfo | str) -> pl.DataFrame:
    start, end = window_utc(date, ZoneInfo(zone) if isinstance(zone, str) else zone)
    stmt = (sa.select(txns).where(txns.c.channel == channel, txns.c.trade_time >= start, txns.c.trade_time < end)
            .order_by(txns.c.trade_time, txns.c.txn_id))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    if not rows:
        return empty_internal()
    records = [{
        "txn_id": r.txn_id,
        "merchant_id": r.merchant_id,
        "merchant_order_no": r.merchant_order_no,
        "channel": r.channel,
        "merchant_txn_id": r.merchant_txn_id,
        "channel_txn_id": r.channel_txn_id,
        "record_type": r.record_type,
        "merchant_refund_id": r.merchant_refund_id,
        "original_txn_id": r.original_txn_id,
        "trade_time": r.trade_time,
        "currency": r.currency,
        "amount": r.amount,
        "fee": r.fee,
        "status": MACHINES[r.record_type].status_of(r.state),
        "source_file": SOURCE,
        "source_line": int(r.id),
    } for r in rows]
    return pl.DataFrame(records, schema=INTERNAL_COLUMNS, orient="row")
