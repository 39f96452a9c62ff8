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
Queue items are found by the queue's own natural keys, computed column-wise (`recon.queue.sources.
layer1_frame`, equal to the queue's per-row keying; the file read a batch of rows at a time, see
`our_rows`); the day's first presentations are decided by one join of the unsettled rows with the
closed items and a group-by, so only the few carried rows and releases of earlier days become
Python records before the result. Nothing here copies or sorts the day's rows whole: a day of
millions is sorted a batch of merchants at a time by `compute.merchant_batches`.
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
from recon.queue.sources import SETTLED_OUTCOMES, layer1_frame
from recon.schema import MONEY
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


_OURS = {"our_txn_id": pl.String, "our_merchant_id": pl.String, "our_record_type": pl.String,
         "our_currency": pl.String, "our_amount": MONEY, "our_status": pl.String,
         "our_trade_time": pl.Datetime("us", "UTC"), "group_id": pl.String, "carried_from": pl.Date}
_REQUIRED = ("our_merchant_id", "our_record_type", "our_currency", "our_amount")
# What `our_rows` reads of a results file: our side, and what the queue keys an item by
# (`layer1_frame`); the other, wide columns (the channel's figures, sources, reasons) stay on disk.
_READ = {*_OURS, "business_date", "channel", "account", "outcome", "match_key", "our_merchant_txn_id",
         "their_channel_txn_id", "their_merchant_txn_id", "diff_amount", "diff_fee", "group_size"}
_BATCH = 250_000  # rows of a results file `our_rows` keys at once: its memory, not its result


def our_rows(path: Path) -> pl.DataFrame:
    """Our side of every row of one results file that moved our money, in file order, with the queue
    identity of the row's item (`recon.queue.sources.layer1_frame`): txn_id, merchant_id, channel,
    record_type, currency, amount, trade_time, original_date, settled, carried, outcome, and the
    item as kind (null for a settled row), account, period, key.

    Read `_BATCH` rows at a time, so a day of many millions of rows never has its identity work in
    memory at once: a settled row outside any group is keyed by its own columns alone (no copies,
    no anchor), so each batch of those is keyed by itself; the other rows (unsettled or grouped,
    a few in a thousand) are kept across batches and keyed together, as the queue keys them."""
    schema = pl.read_parquet_schema(path)
    columns = [c for c in schema if c in _READ]
    height = pl.scan_parquet(path).select(pl.len()).collect().item()
    plain: list[pl.DataFrame] = []
    others: list[pl.DataFrame] = []
    offsets = range(0, max(height, 1), _BATCH)  # an empty file is one empty batch
    for offset in offsets:
        batch = (pl.scan_parquet(path).select(columns).slice(offset, _BATCH).collect()
                 .with_columns(pl.lit(None, dtype=dtype).alias(c) for c, dtype in _OURS.items() if c not in columns)
                 .with_row_index("n", offset=offset + 1))
        alone = pl.col("outcome").is_in(sorted(SETTLED_OUTCOMES)).fill_null(False) & pl.col("group_id").is_null()
        plain.append(_ours(layer1_frame(batch.filter(alone))))
        others.append(batch.filter(~alone))
    rest = pl.concat(others)
    # A combined payment (1:N group) carries our money once, on its anchor line; the other lines of
    # the group are the same transaction of ours and take the anchor's figures. An N:M group's rows
    # of ours each appear once with their own money, so each is taken once as it stands; all of
    # them share the group's queue item, so resolving it releases the whole group.
    anchor = pl.col("our_amount").filter(pl.col("group_id").is_not_null()).drop_nulls().last()
    rest = _ours(layer1_frame(rest).with_columns(our_amount=pl.coalesce(
        "our_amount", anchor.over(["our_txn_id", "group_id"]))))
    plain.reverse()  # each batch's part is freed as it is merged with its share of the rest, in file order
    ours = pl.concat([pl.concat([plain.pop(), rest.filter(pl.col("n").is_between(offset + 1, offset + _BATCH))])
                      .sort("n") for offset in offsets])
    missing = pl.any_horizontal(pl.col(c).is_null() for c in _REQUIRED)
    bad, good = ours.filter(missing).head(1), ours.filter(~missing).head(1)
    if good.height and not isinstance(ours.schema["our_amount"], pl.Decimal) and (
            not bad.height or good["n"][0] < bad["n"][0]):  # a float column is a writer's bug, never guessed
        raise StageFailed(f"{path}: our_amount is {type(good['our_amount'][0]).__name__}, expected a decimal")
    for row in bad.iter_rows(named=True):
        raise StageFailed(f"{path}: row {row['n']} ({row['our_txn_id']}): no "
                          f"{', '.join(c for c in _REQUIRED if row[c] is None)}")
    return ours.select(
        txn_id="our_txn_id", merchant_id="our_merchant_id", channel="channel", record_type="our_record_type",
        currency="our_currency", amount="our_amount", trade_time="our_trade_time",
        original_date=pl.coalesce("carried_from", "business_date"), settled="q_settled",
        carried=pl.col("carried_from").is_not_null(), outcome="outcome",
        kind=pl.when(~pl.col("q_settled")).then(pl.col("outcome")), account="q_account", period="q_period",
        key="q_key")


def _ours(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of a keyed batch that moved our money, with only what `our_rows` checks and returns;
    the few-valued texts as categoricals (4 bytes a row, not 16: a day's rows are held until the
    presented ones are picked; `_texts` turns them back)."""
    return frame.filter(pl.col("our_txn_id").is_not_null() & (pl.col("our_status") == "SUCCESS")).select(
        "n", "our_txn_id", *_REQUIRED, "channel", "our_trade_time", "carried_from", "business_date", "q_settled",
        "outcome", "q_account", "q_period", "q_key").with_columns(pl.col(_FEW).cast(pl.Categorical))


_FEW = ("our_merchant_id", "our_record_type", "our_currency", "channel", "outcome", "q_account")


def _texts(rows: pl.DataFrame) -> pl.DataFrame:
    """`our_rows` with its categoricals as text again (to join or sort them as text)."""
    return rows.with_columns(pl.col(c).cast(pl.String) for c, dtype in rows.schema.items() if dtype == pl.Categorical)


def _records(rows: pl.DataFrame) -> list[_Row]:
    return [_Row(Presented(t, m, ch, rt, cur, a, tt, od, State.HELD, ""), st, ca, oc, (k, ch, ac, pe, key))
            for t, m, ch, rt, cur, a, tt, od, st, ca, oc, k, ac, pe, key in rows.iter_rows()]


_ITEMS = {"channel": pl.String, "account": pl.String, "period": pl.Date, "key": pl.String, "item_kind": pl.String,
          "item_status": pl.String, "closed_on": pl.Date}


def _first_presented(rows: pl.DataFrame, items: list[_Item], day: dt.date) -> pl.DataFrame:
    """The transactions first presented on `day` (rows not carried), set-based: CLEARED when every
    unsettled row's item was closed by the end of `day` (the note names them in file order), else
    HELD (the note names the still-open outcomes, sorted). Each takes its first row's figures."""
    closed = pl.DataFrame([(i.channel, i.account, i.business_date, i.key, i.kind, i.status, i.closed_on)
                           for i in items], schema=_ITEMS, orient="row")
    original = ~pl.col("carried")
    still_open = pl.col("closed_on").is_null() | (pl.col("closed_on") > day)
    verdicts = (_texts(rows.filter(original & ~pl.col("settled")))
                .join(closed, on=["channel", "account", "period", "key"], how="left", maintain_order="left")
                .group_by("txn_id").agg(
                    held=still_open.any(),
                    open_kinds=pl.col("outcome").filter(still_open).unique().sort().str.join(", "),
                    closed_notes=(pl.col("item_kind") + " " + pl.col("item_status") + " on "
                                  + pl.col("closed_on").cast(pl.String)).str.join("; "))
                .select("txn_id", state=pl.when("held").then(pl.lit(State.HELD.value))
                        .otherwise(pl.lit(State.CLEARED.value)),
                        note=pl.when("held").then("open: " + pl.col("open_kinds"))
                        .otherwise(pl.col("closed_notes").fill_null(""))))
    # each transaction's first row not carried, picked by one mask; on a usual day that is every
    # row, and the day's columns are taken as they are, not copied
    first = rows.select(original & pl.when(original).then(pl.col("txn_id")).is_first_distinct()).to_series()
    firsts = rows if first.all() else rows.filter(first)
    # the few transactions with a verdict looked up by id (a join would copy every row)
    verdict = lambda c, default: pl.col("txn_id").replace_strict(  # noqa: E731
        verdicts["txn_id"], verdicts[c], default=default, return_dtype=pl.String)
    return firsts.select(*(c for c in PRESENTED_SCHEMA if c not in ("state", "note")),
                         state=verdict("state", State.CLEARED.value), note=verdict("note", "")).cast(PRESENTED_SCHEMA)


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


def classify_frame(results_dir, engine: Engine, zone: ZoneInfo, day: dt.date) -> tuple[pl.DataFrame, list[str]]:
    """Every transaction clearing day `day` takes, holds or releases (`PRESENTED_SCHEMA`, in no set
    order: a day of millions is sorted (`ORDER`) a batch of merchants at a time, by
    `compute.merchant_batches`); plus notes on what it skipped."""
    path = results_dir(day) / "layer1.parquet"
    if not path.exists():
        raise StageFailed(f"{path} does not exist: the day is not reconciled yet",
                          hint=f"recon match --date {day.isoformat()}")
    rows = our_rows(path)
    closed_today = released_items(engine, zone, day, set())
    # Also every item dated like today's rows or like the rows released today: a transaction is
    # released only when *all* of its discrepancies are closed.
    dates = set(rows["period"].unique().to_list()) | {i.business_date for i in closed_today}
    items = released_items(engine, zone, day, dates)
    by_key = {(i.channel, i.account, i.business_date, i.key): i for i in items}  # an item's identity
    by_base: dict[tuple, list[_Item]] = defaultdict(list)
    for i in items:
        by_base[(i.channel, i.account, i.business_date, i.key.split("#", 1)[0])].append(i)
    carried = rows.filter(pl.col("carried") & pl.col("settled"))
    firsts = _first_presented(rows, items, day)
    out: dict[str, Presented] = {}  # the few taken besides the first presentations
    notes: list[str] = []

    late = carried.join(firsts.select("txn_id"), on="txn_id", how="anti", maintain_order="left")
    for r in _records(late):  # late matches: held on their original day, matched by a later bill today
        if r.txn.txn_id in out:  # a carried transaction on two lines is released once
            continue
        earlier = [i for i in by_base.get(r.item[1:], []) if i.closed_on < day]
        if earlier:
            notes.append(f"{r.txn.txn_id}: matched on {day} but already released on {earlier[0].closed_on}; skipped")
            continue
        out[r.txn.txn_id] = _as(r.txn, State.RELEASED, f"{r.outcome} on {day} (carried from {r.txn.original_date})")

    releasing = sorted((i for i in items if i.closed_on == day and i.business_date < day),
                       key=lambda i: (i.business_date, i.key))
    cache: dict[dt.date, list[_Row]] = {}
    for item in releasing:
        if item.business_date not in cache:
            earlier_path = results_dir(item.business_date) / "layer1.parquet"
            idents = {(i.channel, i.account, i.business_date, i.key) for i in releasing
                      if i.business_date == item.business_date}
            cache[item.business_date] = _release_rows(earlier_path, idents) if earlier_path.exists() else []
        day_rows = cache[item.business_date]
        ident = (item.channel, item.account, item.business_date, item.key)
        candidates = sorted({r.txn.txn_id for r in day_rows if r.item[1:] == ident})
        first = set(firsts.filter(pl.col("txn_id").is_in(candidates))["txn_id"].to_list())
        for txn_id in candidates:
            if txn_id in out or txn_id in first:
                continue
            unsettled = [r for r in day_rows if r.txn.txn_id == txn_id and not r.settled]
            closed = [by_key.get(r.item[1:]) for r in unsettled]
            # all rows settled on their own day (a corrected bill re-run there): cleared there, not held
            if unsettled and all(i is not None for i in closed) and max(i.closed_on for i in closed) == day:
                out[txn_id] = _as(unsettled[0].txn, State.RELEASED,
                                  "; ".join(f"{i.kind} {i.status} on {day}" for i in closed))
        if not candidates:
            notes.append(f"queue item {item.kind} {item.key} of {item.business_date} resolved on {day}: "
                         "no transaction of ours in that day's results; nothing to release")
    return pl.concat([firsts, presented_frame(list(out.values()))]), notes


def _release_rows(path: Path, idents: set[tuple]) -> list[_Row]:
    """The rows not carried of an earlier day's transactions that have a row under one of `idents`
    (the items a release looks at), as records: only those can be released by them."""
    rows = _texts(our_rows(path).filter(~pl.col("carried")))
    keys = pl.DataFrame(sorted(idents), schema={c: _ITEMS[c] for c in ("channel", "account", "period", "key")},
                        orient="row")
    hit = rows.join(keys, on=["channel", "account", "period", "key"], how="semi")["txn_id"].unique()
    return _records(rows.filter(pl.col("txn_id").is_in(hit.implode())))


ORDER = ("merchant_id", "currency", "original_date", "txn_id")  # of the presented transactions, and of each detail file
PRESENTED_SCHEMA = {"txn_id": pl.String, "merchant_id": pl.String, "channel": pl.String, "record_type": pl.String,
                    "currency": pl.String, "amount": MONEY, "trade_time": pl.Datetime("us", "UTC"),
                    "original_date": pl.Date, "state": pl.String, "note": pl.String}


def presented_frame(presented: list[Presented]) -> pl.DataFrame:
    """Records as a frame of `PRESENTED_SCHEMA`, in their order."""
    return pl.DataFrame([(p.txn_id, p.merchant_id, p.channel, p.record_type, p.currency, p.amount, p.trade_time,
                          p.original_date, p.state.value, p.note) for p in presented],
                        schema=PRESENTED_SCHEMA, orient="row")


def records(presented: pl.DataFrame) -> list[Presented]:
    """A frame of `PRESENTED_SCHEMA` as records, in its order."""
    return [Presented(t, m, ch, rt, cur, a, tt, od, State(st), note)
            for t, m, ch, rt, cur, a, tt, od, st, note in presented.iter_rows()]


def _as(txn: Presented, state: State, note: str) -> Presented:
    return Presented(txn.txn_id, txn.merchant_id, txn.channel, txn.record_type, txn.currency, txn.amount,
                     txn.trade_time, txn.original_date, state, note)
