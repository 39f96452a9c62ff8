"""Internal reconciliation (内部对账, layer 0): every transaction has exactly the entries it demands.

Before our books are matched against a channel's bill, they must agree with themselves (seeds/000
section 3.4: "保证账务和交易信息配对; 一条交易信息有多条账务信息"). For each payment and refund
whose trade_time falls in the business day, the accounting rules say which events it must have
posted (a paid payment: PAY and FEE; a successful refund: REFUND) and for how much; the ledger says
what was posted, net of reversals. Any disagreement is a difference, returned as a value:

- LEDGER_MISSING          the transaction succeeded but the ledger has nothing for the event;
- LEDGER_AMOUNT_MISMATCH  both exist and the sums differ;
- LEDGER_ORPHAN           the ledger holds an entry for a transaction that did not succeed.

`our_amount` is what the transaction demands, `their_amount` what the ledger holds, `diff` their -
our. The discrepancy queue ingests these from `results/<D>/layer0.parquet` (`write_layer0`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from recon.clock import window_utc
from recon.core.accounting import AccountingRules, postings_for
from recon.core.machine import MACHINES
from recon.core.orders import booking_event, load
from recon.files import atomic_path
from recon.schema import MONEY
from recon.store.tables.core import entries, postings, txns

LAYER0_COLUMNS: dict[str, pl.DataType] = {
    "business_date": pl.Date(), "channel": pl.String(), "kind": pl.String(), "key": pl.String(),
    "our_amount": MONEY, "their_amount": MONEY, "diff": MONEY, "reason": pl.String(), "currency": pl.String(),
}


@dataclass(frozen=True, slots=True)
class LedgerDifference:
    kind: str
    key: str  # <txn_id>:<event>
    channel: str
    business_date: dt.date
    currency: str
    our_amount: Decimal
    their_amount: Decimal
    reason: str

    @property
    def diff(self) -> Decimal:
        return self.their_amount - self.our_amount

    def as_dict(self) -> dict[str, object]:
        return {"business_date": self.business_date, "channel": self.channel, "kind": self.kind, "key": self.key,
                "our_amount": self.our_amount, "their_amount": self.their_amount, "diff": self.diff,
                "reason": self.reason, "currency": self.currency}


@dataclass(frozen=True, slots=True)
class CheckResult:
    business_date: dt.date
    transactions: int
    differences: tuple[LedgerDifference, ...]

    @property
    def ok(self) -> bool:
        return not self.differences

    def frame(self) -> pl.DataFrame:
        rows = [d.as_dict() for d in self.differences]
        return pl.DataFrame(rows, schema=LAYER0_COLUMNS, orient="row") if rows else pl.DataFrame(schema=LAYER0_COLUMNS)


def check_day(engine: Engine, date: dt.date, zone: ZoneInfo | str,
              accounting: AccountingRules) -> CheckResult:
    rules = accounting
    start, end = window_utc(date, ZoneInfo(zone) if isinstance(zone, str) else zone)
    with engine.connect() as conn:
        day = [load(conn, txns.c.txn_id == t) for t in conn.execute(
            sa.select(txns.c.txn_id).where(txns.c.trade_time >= start, txns.c.trade_time < end)
            .order_by(txns.c.txn_id)).scalars()]
        ledger = _ledger(conn, [t.txn_id for t in day if t is not None])
    out = []
    for txn in day:
        assert txn is not None
        success = MACHINES[txn.record_type].status_of(txn.state) == "SUCCESS"
        demanded = rules.demanded(txn.record_type)
        events = sorted(set(demanded) | {e for (t, e) in ledger if t == txn.txn_id})
        for event in events:
            ours = Decimal(0)
            if success and event in demanded:
                ours = sum((p.amount for p in postings_for(rules, booking_event(event, txn))), Decimal(0))
            theirs = ledger.get((txn.txn_id, event), Decimal(0))
            if ours == theirs:
                continue
            if not success:
                kind, reason = "LEDGER_ORPHAN", f"{txn.record_type.lower()} is {txn.state} but {event} is posted"
            elif theirs == 0:
                kind, reason = "LEDGER_MISSING", f"{txn.record_type.lower()} is {txn.state}; no {event} entry"
            else:
                kind, reason = "LEDGER_AMOUNT_MISMATCH", f"{event} entry posts {theirs}, the transaction demands {ours}"
            out.append(LedgerDifference(kind, f"{txn.txn_id}:{event}", txn.channel, date, txn.currency,
                                        ours, theirs, reason))
    out.sort(key=lambda d: (d.channel, d.kind, d.key))
    return CheckResult(date, len(day), tuple(out))


def _ledger(conn, txn_ids: list[str]) -> dict[tuple[str, str], Decimal]:
    """Net posted amount per (txn_id, event): entries minus their reversals."""
    net: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for i in range(0, len(txn_ids), 2000):
        rows = conn.execute(
            sa.select(entries.c.txn_id, entries.c.event, entries.c.reverses, postings.c.amount)
            .join(postings, postings.c.entry_key == entries.c.entry_key)
            .where(entries.c.txn_id.in_(txn_ids[i:i + 2000])))
        for txn_id, event, reverses, amount in rows:
            net[(txn_id, event)] += -amount if reverses else amount
    return net


def write_layer0(result: CheckResult, results_dir: Path) -> Path:
    """`results/<D>/layer0.parquet`, sorted, replaced whole (atomic)."""
    target = results_dir / "layer0.parquet"
    with atomic_path(target) as tmp:
        result.frame().write_parquet(tmp)
    return target
