"""The set-based holdback (`holdback.classify_frame`) equals the per-row definition it replaced.

The oracle below is the former row-by-row implementation, kept here and only here: every row of
the results file read as a dict, each item's queue key taken from `read_layer1`'s records (the
queue's own per-row keying), and the day's transactions decided one at a time. Generated days hold
duplicates, groups (1:N with our money on the anchor line, N:M), carried rows, empty ids, failed
transactions and items resolved or written off before, on or after the clearing day.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from unittest.mock import patch
from zoneinfo import ZoneInfo

import polars as pl
from clearing_support import LAYER1_SCHEMA, classify, make_ws
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from recon.clearing import holdback
from recon.clearing.holdback import Presented, State, released_items
from recon.errors import StageFailed
from recon.queue.sources import SETTLED_OUTCOMES, read_layer1
from recon.queue.store import queue_engine
from recon.queue.sync import sync_results
from recon.store.tables.queue import queue_items

ZONE = ZoneInfo("Asia/Shanghai")
D1, D2 = dt.date(2026, 3, 9), dt.date(2026, 3, 10)
SCHEMA = {**LAYER1_SCHEMA, "group_id": pl.String(), "group_size": pl.Int64()}
_runs = itertools.count()


# --- the oracle: the per-row implementation this module replaced -------------------------------
@dataclass(frozen=True, slots=True)
class _Row:
    txn: Presented
    settled: bool
    carried: bool
    outcome: str
    item: tuple


def oracle_read_rows(path) -> list[_Row]:
    frame = pl.read_parquet(path)
    found, _ = read_layer1(path)
    open_iter = iter(found)
    grouped = (frame.filter(pl.col("group_id").is_not_null() & pl.col("our_amount").is_not_null())
               if "group_id" in frame.columns else frame.clear())
    anchors = {(r["our_txn_id"], r["group_id"]): (r["our_amount"], r["our_fee"]) for r in grouped.iter_rows(named=True)}
    rows = []
    for n, row in enumerate(frame.iter_rows(named=True), start=1):
        if row["outcome"] in SETTLED_OUTCOMES:
            key = (row.get("match_key") or row.get("our_txn_id") or row.get("their_channel_txn_id")
                   or row.get("our_merchant_txn_id") or row.get("their_merchant_txn_id") or "?")
            item = (None, row["channel"], row.get("account") or "", row.get("carried_from") or row["business_date"], key)
        else:
            d = next(open_iter)
            item = (d.kind, d.channel, d.account, d.business_date, d.key)
        if row.get("our_txn_id") is None or row.get("our_status") != "SUCCESS":
            continue
        if row.get("our_amount") is None and (row["our_txn_id"], row.get("group_id")) in anchors:
            row = {**row, "our_amount": anchors[(row["our_txn_id"], row["group_id"])][0]}
        missing = [c for c in ("our_merchant_id", "our_record_type", "our_currency", "our_amount") if row.get(c) is None]
        if missing:
            raise StageFailed(f"{path}: row {n} ({row['our_txn_id']}): no {', '.join(missing)}")
        if not isinstance(row["our_amount"], Decimal):
            raise StageFailed(f"{path}: our_amount is {type(row['our_amount']).__name__}, expected a decimal")
        original = row.get("carried_from") or row["business_date"]
        txn = Presented(row["our_txn_id"], row["our_merchant_id"], row["channel"], row["our_record_type"],
                        row["our_currency"], row["our_amount"], row.get("our_trade_time"), original, State.HELD, "")
        rows.append(_Row(txn, row["outcome"] in SETTLED_OUTCOMES, row.get("carried_from") is not None,
                         row["outcome"], item))
    return rows


def _as(txn: Presented, state: State, note: str) -> Presented:
    return Presented(txn.txn_id, txn.merchant_id, txn.channel, txn.record_type, txn.currency, txn.amount,
                     txn.trade_time, txn.original_date, state, note)


def oracle_classify(results_dir, engine, zone, day):
    rows = oracle_read_rows(results_dir(day) / "layer1.parquet")
    closed_today = released_items(engine, zone, day, set())
    dates = {r.item[3] for r in rows} | {i.business_date for i in closed_today}
    items = released_items(engine, zone, day, dates)
    by_key = {(i.channel, i.account, i.business_date, i.key): i for i in items}
    by_base = defaultdict(list)
    for i in items:
        by_base[(i.channel, i.account, i.business_date, i.key.split("#", 1)[0])].append(i)
    out, notes = {}, []
    originals = defaultdict(list)
    for r in rows:
        if not r.carried:
            originals[r.txn.txn_id].append(r)
    for txn_id, group in originals.items():
        unsettled = [r for r in group if not r.settled]
        closed = [by_key.get(r.item[1:]) for r in unsettled]
        if all(i is not None and i.closed_on <= day for i in closed):
            note = "; ".join(f"{i.kind} {i.status} on {i.closed_on}" for i in closed if i is not None)
            out[txn_id] = _as(group[0].txn, State.CLEARED, note)
        else:
            held = sorted({r.outcome for r, i in zip(unsettled, closed, strict=True) if i is None or i.closed_on > day})
            out[txn_id] = _as(group[0].txn, State.HELD, "open: " + ", ".join(held))
    for r in rows:
        if not (r.carried and r.settled) or r.txn.txn_id in out:
            continue
        earlier = [i for i in by_base.get(r.item[1:], []) if i.closed_on < day]
        if earlier:
            notes.append(f"{r.txn.txn_id}: matched on {day} but already released on {earlier[0].closed_on}; skipped")
            continue
        out[r.txn.txn_id] = _as(r.txn, State.RELEASED, f"{r.outcome} on {day} (carried from {r.txn.original_date})")
    cache = {}
    for item in sorted(items, key=lambda i: (i.business_date, i.key)):
        if item.closed_on != day or item.business_date >= day:
            continue
        if item.business_date not in cache:
            earlier_path = results_dir(item.business_date) / "layer1.parquet"
            cache[item.business_date] = oracle_read_rows(earlier_path) if earlier_path.exists() else []
        day_rows = [r for r in cache[item.business_date] if not r.carried]
        ident = (item.channel, item.account, item.business_date, item.key)
        for txn_id in sorted({r.txn.txn_id for r in day_rows if r.item[1:] == ident}):
            if txn_id in out:
                continue
            unsettled = [r for r in day_rows if r.txn.txn_id == txn_id and not r.settled]
            closed = [by_key.get(r.item[1:]) for r in unsettled]
            if unsettled and all(i is not None for i in closed) and max(i.closed_on for i in closed) == day:
                out[txn_id] = _as(unsettled[0].txn, State.RELEASED,
                                  "; ".join(f"{i.kind} {i.status} on {day}" for i in closed))
        if not any(r.item[1:] == ident for r in day_rows):
            notes.append(f"queue item {item.kind} {item.key} of {item.business_date} resolved on {day}: "
                         "no transaction of ours in that day's results; nothing to release")
    return sorted(out.values(), key=lambda p: (p.merchant_id, p.currency, p.original_date, p.txn_id)), notes


# --- generated days -----------------------------------------------------------------------------
OUTCOMES = ["MATCHED", "MATCHED", "AUTO_RESOLVED", "AMOUNT_MISMATCH", "LOCAL_ONLY", "CHANNEL_ONLY", "DUPLICATE",
            "FEE_MISMATCH", "PENDING", "STATUS_MISMATCH"]
ids = lambda prefix: st.sampled_from([None, "", f"{prefix}1", f"{prefix}2", f"{prefix}3"])  # noqa: E731
money = st.one_of(st.none(), st.integers(-500, 5000).map(lambda n: Decimal(n).scaleb(-2)))


@st.composite
def layer1_row(draw, day: dt.date, earlier: tuple[dt.date, ...]) -> dict:
    row = {name: None for name in SCHEMA}
    txn = draw(st.sampled_from([None, "T1", "T2", "T3", "T4", "T5"]))
    row.update(business_date=day, channel=draw(st.sampled_from(["wechat", "alipay"])),
               account=draw(st.sampled_from([None, "", "1900000109"])), outcome=draw(st.sampled_from(OUTCOMES)),
               match_key=draw(ids("K")), reason=draw(st.sampled_from([None, "", "why"])),
               carried_from=draw(st.sampled_from([None, None, *earlier])),
               our_txn_id=txn, our_merchant_id=draw(st.sampled_from(["M1", "M2"])),
               our_merchant_txn_id=draw(ids("S")), our_record_type=draw(st.sampled_from(["PAYMENT", "REFUND"])),
               our_currency=draw(st.sampled_from(["CNY", "JPY"])), our_amount=draw(money),
               our_status=draw(st.sampled_from(["SUCCESS", "SUCCESS", "SUCCESS", "FAILED", None])),
               our_trade_time=draw(st.sampled_from([None, dt.datetime(2026, 3, 9, 1, tzinfo=dt.UTC)])),
               their_channel_txn_id=draw(ids("C")), their_merchant_txn_id=draw(ids("S")),
               their_amount=draw(money), diff_amount=draw(money), diff_fee=draw(money),
               group_id=draw(st.sampled_from([None, None, "G1", "G2"])), group_size=draw(st.sampled_from([None, 1, 2, 3])))
    return row


def _write(ws, day: dt.date, rows: list[dict]) -> None:
    path = ws.results_dir(day) / "layer1.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    (pl.DataFrame(rows, schema=SCHEMA, orient="row") if rows else pl.DataFrame(schema=SCHEMA)).write_parquet(path)
    sync_results(ws, day)


def _close(ws, picks: list[tuple[int, str, int]]) -> None:
    """Close items by position: (index into the open items, status, hours after D1 00:00 Shanghai)."""
    engine = queue_engine(ws)
    with engine.begin() as conn:
        open_ids = conn.execute(select(queue_items.c.id).where(queue_items.c.layer == 1)
                                .order_by(queue_items.c.id)).scalars().all()
        for n, status, hours in picks:
            if open_ids:
                at = dt.datetime(2026, 3, 9, tzinfo=ZONE) + dt.timedelta(hours=hours)
                conn.execute(update(queue_items).where(queue_items.c.id == open_ids[n % len(open_ids)])
                             .values(status=status, closed_at=at.astimezone(dt.UTC)))


def _outcome(fn, ws, day):
    try:
        return fn(ws.results_dir, queue_engine(ws), ZONE, day)
    except StageFailed as exc:
        return ("raises", str(exc))


closing = st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["RESOLVED", "WRITTEN_OFF", "OPEN"]),
                             st.integers(0, 60)), max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(first=st.lists(layer1_row(D1, ()), max_size=14), second=st.lists(layer1_row(D2, (D1,)), max_size=14),
       close1=closing, close2=closing, batch=st.sampled_from([holdback._BATCH, 1, 2, 5]))
def test_classify_equals_the_per_row_definition(tmp_path_factory, first, second, close1, close2, batch):
    """`batch`: how many rows `our_rows` keys at once (a small one splits groups and duplicates
    over batches, as a day of millions of rows does)."""
    ws = make_ws(tmp_path_factory.getbasetemp() / f"holdback-{next(_runs)}")
    _write(ws, D1, first)
    _close(ws, close1)
    _write(ws, D2, second)
    _close(ws, close2)
    with patch.object(holdback, "_BATCH", batch):
        for day in (D1, D2):
            assert _outcome(classify, ws, day) == _outcome(oracle_classify, ws, day)


def test_a_float_amount_column_is_refused_as_before(tmp_path):
    ws = make_ws(tmp_path / "ws")
    row = {name: None for name in SCHEMA} | dict(business_date=D1, channel="wechat", outcome="MATCHED", match_key="K",
                                                 our_txn_id="T1", our_merchant_id="M1", our_record_type="PAYMENT",
                                                 our_currency="CNY", our_status="SUCCESS")
    frame = pl.DataFrame([row], schema=SCHEMA, orient="row").with_columns(our_amount=pl.lit(1.5))
    path = ws.results_dir(D1) / "layer1.parquet"
    path.parent.mkdir(parents=True)
    frame.write_parquet(path)
    got, want = _outcome(classify, ws, D1), _outcome(oracle_classify, ws, D1)
    assert got == want and got[0] == "raises" and "our_amount is float" in got[1]
