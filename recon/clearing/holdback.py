"""Which transactions a clearing day takes, which it holds back, and which it releases.

Only reconciled money is paid out. From `results/<D>/layer1.parquet` clearing takes our side of
each row (`our_txn_id`, `our_merchant_id`, `our_record_type`, `our_currency`, `our_amount`) when our
status is SUCCESS (a failed or unknown transaction moved no money; rows with only the channel's side
are not ours to pay). A transaction is then, on day D:
- CLEARED: first presented on D (no `carried_from`) and every row of it is MATCHED or AUTO_RESOLVED,
  or its discrepancies were already RESOLVED / WRITTEN_OFF by the end of D;
- HELD: first presented on D with a discrepancy still open (any other outcome, or its queue item
  not yet resolved). Its amount is the day's `held`;
- RELEASED: held on an earlier day and settled on D, either because a person resolved (or wrote
  off) its queue item on D — the day is the resolution time's date in the workspace time zone — or
  because a later bill matched it (a carried row, MATCHED on D with `carried_from`). Its original
  business date travels with it.
A carried row still unsettled is skipped: it was held on its original day and stays held. A late
match whose item a person already released earlier is skipped too, so nothing is paid twice.
Queue items are found by the queue's own natural keys (`recon.queue.sources.read_layer1`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Engine, or_, select

from recon.clock import window_utc
from recon.errors import StageFailed
from recon.queue.sources import SETTLED_OUTCOMES, read_layer1
from recon.store.tables.queue import queue_items

RELEASING = ("RESOLVED", "WRITTEN_OFF")


class State(StrEnum):
    CLEARED = "CLEARED"
    RELEASED = "RELEASED"
    HELD = "HELD"


@dataclass(frozen=True, slots=True)
class Presented:
    """One transaction as a clearing day sees it."""

    txn_id: str
    merchant_id: str
    channel: str
    record_type: str
    currency: str
    amount: Decimal
    trade_time: dt.datetime | None
    original_date: dt.date
    state: State
    note: str


@dataclass(frozen=True, slots=True)
class _Row:
    txn: Presented  # state and note still to be decided
    settled: bool
    carried: bool
    outcome: str
    item: tuple  # (kind or None, channel, account, business date, key): the queue item's key


@dataclass(frozen=True, slots=True)
class _Item:
    kind: str
    channel: str
    account: str
    business_date: dt.date
    key: str
    status: str
    closed_on: dt.date


def read_rows(path: Path) -> list[_Row]:
    """Our side of every row of one results file, with the queue key of the row's item."""
    frame = pl.read_parquet(path)
    found, settled = read_layer1(path)  # both in file order, as the queue keyed them
    open_iter, settled_iter = iter(found), iter(settled)
    # A combined payment (1:N group) carries our money once, on its anchor line; the other lines of
    # the group are the same transaction of ours and take the anchor's figures. An N:M group's rows
    # of ours each appear once with their own money, so each is taken once as it stands; all of
    # them share the group's queue item, so resolving it releases the whole group.
    grouped = (frame.filter(pl.col("group_id").is_not_null() & pl.col("our_amount").is_not_null())
               if "group_id" in frame.columns else frame.clear())
    anchors = {(r["our_txn_id"], r["group_id"]): (r["our_amount"], r["our_fee"]) for r in grouped.iter_rows(named=True)}
    rows = []
    for n, row in enumerate(frame.iter_rows(named=True), start=1):
        if row["outcome"] in SETTLED_OUTCOMES:
            s = next(settled_iter)
            item = (None, s.channel, s.account, s.business_date, s.keys[0])
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
        if not isinstance(row["our_amount"], Decimal):  # a float column is a writer's bug, never guessed
            raise StageFailed(f"{path}: our_amount is {type(row['our_amount']).__name__}, expected a decimal")
        original = row.get("carried_from") or row["business_date"]
        txn = Presented(row["our_txn_id"], row["our_merchant_id"], row["channel"], row["our_record_type"],
                        row["our_currency"], row["our_amount"], row.get("our_trade_time"), original,
                        State.HELD, "")
        rows.append(_Row(txn, row["outcome"] in SETTLED_OUTCOMES, row.get("carried_from") is not None,
                         row["outcome"], item))
    return rows


def released_items(engine: Engine, zone: ZoneInfo, day: dt.date, dates: set[dt.date]) -> list[_Item]:
    """Layer-1 items resolved or written off that are dated in `dates` or were closed on `day`."""
    start, end = window_utc(day, zone)
    c = queue_items.c
    stmt = select(c.kind, c.channel, c.account, c.business_date, c.key, c.status, c.closed_at).where(
        c.layer == 1, c.status.in_(RELEASING), c.closed_at.is_not(None),
        or_(c.business_date.in_(sorted(dates)), (c.closed_at >= start) & (c.closed_at < end)))
    with engine.connect() as conn:
        return [_Item(r.kind, r.channel, r.account, r.business_date, r.key, r.status,
                      r.closed_at.astimezone(zone).date()) for r in conn.execute(stmt)]


def classify(results_dir, engine: Engine, zone: ZoneInfo, day: dt.date) -> tuple[list[Presented], list[str]]:
    """Every transaction clearing day `day` takes, holds or releases; plus notes on what it skipped."""
    path = results_dir(day) / "layer1.parquet"
    if not path.exists():
        raise StageFailed(f"{path} does not exist: the day is not reconciled yet",
                          hint=f"recon match --date {day.isoformat()}")
    rows = read_rows(path)
    closed_today = released_items(engine, zone, day, set())
    # Also every item dated like today's rows or like the rows released today: a transaction is
    # released only when *all* of its discrepancies are closed.
    dates = {r.item[3] for r in rows} | {i.business_date for i in closed_today}
    items = released_items(engine, zone, day, dates)
    by_key = {(i.channel, i.account, i.business_date, i.key): i for i in items}  # an item's identity
    by_base: dict[tuple, list[_Item]] = defaultdict(list)
    for i in items:
        by_base[(i.channel, i.account, i.business_date, i.key.split("#", 1)[0])].append(i)
    out: dict[str, Presented] = {}
    notes: list[str] = []

    originals: dict[str, list[_Row]] = defaultdict(list)
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

    for r in rows:  # late matches: held on their original day, matched by a later bill today
        if not (r.carried and r.settled) or r.txn.txn_id in out:
            continue
        earlier = [i for i in by_base.get(r.item[1:], []) if i.closed_on < day]
        if earlier:
            notes.append(f"{r.txn.txn_id}: matched on {day} but already released on {earlier[0].closed_on}; skipped")
            continue
        out[r.txn.txn_id] = _as(r.txn, State.RELEASED, f"{r.outcome} on {day} (carried from {r.txn.original_date})")

    cache: dict[dt.date, list[_Row]] = {}
    for item in sorted(items, key=lambda i: (i.business_date, i.key)):
        if item.closed_on != day or item.business_date >= day:
            continue
        if item.business_date not in cache:
            earlier_path = results_dir(item.business_date) / "layer1.parquet"
            cache[item.business_date] = read_rows(earlier_path) if earlier_path.exists() else []
        day_rows = [r for r in cache[item.business_date] if not r.carried]
        for txn_id in sorted({r.txn.txn_id for r in day_rows if r.item[1:] == (item.channel, item.account,
                                                                                 item.business_date, item.key)}):
            if txn_id in out:
                continue
            unsettled = [r for r in day_rows if r.txn.txn_id == txn_id and not r.settled]
            closed = [by_key.get(r.item[1:]) for r in unsettled]
            if all(i is not None for i in closed) and max(i.closed_on for i in closed) == day:
                first = unsettled[0].txn
                out[txn_id] = _as(first, State.RELEASED, "; ".join(f"{i.kind} {i.status} on {day}" for i in closed))
        if not any(r.item[1:] == (item.channel, item.account, item.business_date, item.key) for r in day_rows):
            notes.append(f"queue item {item.kind} {item.key} of {item.business_date} resolved on {day}: "
                         "no transaction of ours in that day's results; nothing to release")
    return sorted(out.values(), key=lambda p: (p.merchant_id, p.currency, p.original_date, p.txn_id)), notes


def _as(txn: Presented, state: State, note: str) -> Presented:
    return Presented(txn.txn_id, txn.merchant_id, txn.channel, txn.record_type, txn.currency, txn.amount,
                     txn.trade_time, txn.original_date, state, note)
