"""Test helpers: a workspace, hand-written layer-1 rows (CONTRIBUTING.md columns, money as MONEY),
a person's resolution of a queue item at a chosen time, and the clearing functions over records
(the pipeline works on frames; tests build and compare days as `Presented` records)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Engine, select, update

from jobs.catalog import open_workspace
from recon.clearing.compute import DayClearing, compute_frame
from recon.clearing.fee_rules import ClearingRules, SplitRule
from recon.clearing.fees_sql import AMOUNT_SCALE, fee_units
from recon.clearing.holdback import ORDER, Presented, classify_frame, presented_frame, records
from recon.clearing.splits_sql import split_units
from recon.money import exponent
from recon.schema import MONEY, UTC_TIME
from recon.workspace import Workspace

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
    "diff_amount": MONEY, "diff_fee": MONEY,
}


# A workspace that states its whole fee schedule retires the built-in catch-alls by name.
BUILTIN_FEES_OFF = ('[fees.standard-payments]\nenabled = false\n[fees.standard-refunds]\nenabled = false\n'
                    '[fees.other-records]\nenabled = false\n')


def make_ws(root: Path, rules: str | None = None) -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    (root / "recon.toml").write_text(
        '[store]\nurl = "sqlite:///recon.db"\n\n[defaults]\ntimezone = "Asia/Shanghai"\n\n'
        '[channels.wechat]\nformat = "wechatpay.trade"\naccount = "1900000109"\n', encoding="utf-8")
    if rules is not None:
        (root / "rules").mkdir(exist_ok=True)
        (root / "rules" / "clearing.toml").write_text(BUILTIN_FEES_OFF + rules, encoding="utf-8")
    return open_workspace(root)


def txn(txn_id: str, merchant: str, amount: str, *, day: dt.date, outcome: str = "MATCHED",
        currency: str = "CNY", record_type: str = "PAYMENT", minute: int = 0, **extra) -> dict:
    """One layer-1 row with our side (and the channel's, same figures)."""
    row = {name: None for name in LAYER1_SCHEMA}
    when = dt.datetime.combine(day, dt.time(2, 0), dt.UTC) + dt.timedelta(minutes=minute)
    row.update(business_date=day, channel="wechat", account="1900000109", outcome=outcome, match_key=txn_id,
               reason="" if outcome == "MATCHED" else outcome.lower(), our_txn_id=txn_id, our_merchant_id=merchant,
               our_merchant_txn_id=f"S{txn_id}", our_record_type=record_type, our_currency=currency,
               our_amount=Decimal(amount), our_fee=Decimal(0), our_status="SUCCESS", our_trade_time=when,
               our_source_file="internal.csv", our_source_line=1)
    if outcome != "LOCAL_ONLY":
        row.update(their_channel_txn_id=f"C{txn_id}", their_merchant_txn_id=f"S{txn_id}", their_currency=currency,
                   their_amount=Decimal(amount), their_fee=Decimal(0), their_status="SUCCESS",
                   their_record_type=record_type, their_trade_time=when, their_source_file="bill.csv",
                   their_source_line=1, diff_amount=Decimal(0), diff_fee=Decimal(0))
    row.update(extra)
    return row


def write_layer1(ws: Workspace, day: dt.date, rows: list[dict]) -> Path:
    frame = pl.DataFrame(rows, schema=LAYER1_SCHEMA, orient="row") if rows else pl.DataFrame(schema=LAYER1_SCHEMA)
    frame = frame.sort("channel", "outcome", "match_key", "our_txn_id", "their_channel_txn_id",
                       "their_source_line", nulls_last=True)
    path = ws.results_dir(day) / "layer1.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    from recon.queue.sync import sync_results  # what matching does after writing results

    sync_results(ws, day)
    return path


def resolve(ws: Workspace, key: str, at: dt.datetime) -> None:
    """A person accepts our figures for the item keyed `key`, at `at` (the queue's clock is wall time)."""
    from recon.queue import actions
    from recon.queue.store import queue_engine
    from recon.store.tables.queue import queue_items

    engine = queue_engine(ws)
    with engine.begin() as conn:
        item_id = conn.execute(select(queue_items.c.id).where(queue_items.c.key == key)).scalar_one()
        actions.accept_ours(conn, item_id, actor="analyst", note="checked with the channel")
        conn.execute(update(queue_items).where(queue_items.c.id == item_id).values(closed_at=at))


def settlements(ws: Workspace, day: dt.date) -> list[dict[str, str]]:
    import csv

    with open(ws.clearing_dir(day) / "settlements.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def detail(ws: Workspace, day: dt.date, merchant: str) -> dict[str, dict[str, str]]:
    import csv

    text = (ws.clearing_dir(day) / f"merchant-{merchant}.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(ln for ln in text.splitlines() if not ln.startswith("#"))
    return {r["txn_id"]: r for r in rows}


# --- the clearing functions over records -------------------------------------------------------
def classify(results_dir, engine: Engine, zone: ZoneInfo, day: dt.date) -> tuple[list[Presented], list[str]]:
    """`holdback.classify_frame` as records, in holdback's order."""
    presented, notes = classify_frame(results_dir, engine, zone, day)
    return records(presented.sort(list(ORDER))), notes


def compute_day(day: dt.date, presented: list[Presented], rules: ClearingRules,
                prior_volume: dict[tuple[str, str], Decimal]) -> DayClearing:
    """`compute.compute_frame` of records."""
    return compute_frame(day, presented_frame(presented), rules, prior_volume)


def day_fees(taken: list[Presented], names: list[str], rules: ClearingRules,
             prior_volume: dict[tuple[str, str], Decimal]) -> dict[str, tuple[str, Decimal]] | None:
    """`fees_sql.fee_units` of records: txn_id -> (fee rule name, whole-unit fee) for the taken
    transactions (in clearing order), `names` their fee rules' names; None where the statement could
    not be exact (here also an amount finer than a MONEY column holds)."""
    if any(p.amount != p.amount.quantize(Decimal(1).scaleb(-AMOUNT_SCALE)) for p in taken):
        return None
    tx = pl.DataFrame({"seq": range(len(taken)), "merchant_id": [p.merchant_id for p in taken],
                       "currency": [p.currency for p in taken], "record_type": [p.record_type for p in taken],
                       "fee_rule": names, "amount": [p.amount for p in taken]},
                      schema={"seq": pl.UInt32, "merchant_id": pl.String, "currency": pl.String,
                              "record_type": pl.String, "fee_rule": pl.String, "amount": MONEY})
    fees = fee_units(tx, rules, prior_volume)
    if fees is None:
        return None
    return {p.txn_id: (name, Decimal(units).scaleb(-exponent(p.currency)))
            for p, name, units in zip(taken, names, fees.to_list(), strict=True)}


def day_splits(lines: list[tuple[SplitRule, Decimal, str]]) -> list[tuple[tuple[str, Decimal], ...]] | None:
    """`splits_sql.split_units` of records: each line's shares as `split_net(rule, net, currency)`
    gives them (merchant first, then the rule's parties in order), for lines of (rule, net,
    currency); None where not exact (here also a net finer than its currency's minor unit)."""
    names: dict[int, str] = {}
    rules: dict[str, SplitRule] = {}
    for rule, _, _ in lines:
        if id(rule) not in names:
            names[id(rule)] = f"r{len(names)}"
            rules[names[id(rule)]] = rule
    exps = [exponent(c) for _, _, c in lines]
    scaled = [net.scaleb(e) for (_, net, _), e in zip(lines, exps, strict=True)]
    if any(n != n.to_integral_value() for n in scaled):
        return None
    frame = pl.DataFrame({"seq": range(len(lines)), "net": [int(n) for n in scaled],
                          "currency": [c for _, _, c in lines], "exp": exps,
                          "name": [names[id(r)] for r, _, _ in lines]},
                         schema={"seq": pl.UInt32, "net": pl.Int128, "currency": pl.String, "exp": pl.Int64,
                                 "name": pl.String})
    out = split_units(frame, rules)
    if out is None:
        return None
    shares: list[list[tuple[str, Decimal]]] = [[] for _ in lines]
    for seq, _, party, units in out.iter_rows():
        shares[seq].append((party, Decimal(units).scaleb(-exps[seq])))
    return [tuple(s) for s in shares]
