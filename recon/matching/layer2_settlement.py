"""Layer 2, settlement (结算对账): what the channel owes us for a period against what it paid out.

A channel owes us the net (amount - fee) of the trade days a settlement period covers, and reports
paying it in PAYOUT lines. The two rarely line up one to one: a period of 1,000,000 may be paid as
980,000 + 20,000, one payout may cover several days, a payout may come a day late. So:

1. Where the channel names the payout on its trade lines (Stripe's payout id, Adyen's batch), the
   trade lines carrying an id are owed through that payout and compared with it directly.
2. Every other trade line is owed through its period (recon.matching.settlement_cycle). Payouts
   without a usable id are allocated to periods in due-date order, inside each period's window
   (period end .. close): first a single payout equal to what is owed, then the payouts that add
   up to it exactly, then partial payments; a payout left over is paid too much (OVER), into the
   latest period whose window holds it, or on its own.

Outcomes: SETTLED; SETTLEMENT_PENDING (not all paid yet, the window still open: not a
discrepancy); after the window closes SETTLEMENT_SHORT or SETTLEMENT_MISSING; SETTLEMENT_OVER.
A period is reported from its due date until it is final, so each verdict lands on one day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from recon.matching.day_inputs import query
from recon.matching.layer23_results import ResultRow, money_text
from recon.matching.settlement_cycle import Period, SettlementCycle

LAYER, SECTION = 2, "settlement"


@dataclass(frozen=True, slots=True)
class Payout:
    """A payout line as the channel reported it; `settled` is what it took off the balance."""

    channel: str
    account: str
    currency: str
    ref: str
    payout_id: str | None
    pay_date: dt.date
    arrival_date: dt.date
    settled: Decimal
    to_bank: Decimal
    source_file: str
    source_line: int


@dataclass(slots=True)
class Batch:
    """Money owed through one period (or one named payout) in one account and currency."""

    account: str
    currency: str
    key: str
    start: dt.date
    end: dt.date
    due: dt.date
    close: dt.date
    owed: Decimal
    count: int
    by_id: str | None = None
    paid: list[Payout] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((p.settled for p in self.paid), Decimal("0"))


def read_payouts(lines: pl.DataFrame) -> list[Payout]:
    """The payouts of `lines` (sql/payout_lines.sql over the days in question)."""
    frame = query("payouts", payout_rows=lines)
    cols = Payout.__slots__  # type: ignore[attr-defined]
    return [Payout(**{c: r[c] for c in cols}) for r in frame.iter_rows(named=True)]


def build_batches(trades: pl.DataFrame, payouts: list[Payout], periods: list[Period],
                  cycle: SettlementCycle) -> list[Batch]:
    """Group what is owed into batches: by payout id where the trade lines name one, else by period.

    `trades`: the days' trade lines summed per day (sql/daily_trades.sql)."""
    ids = pl.DataFrame({"payout_id": sorted({p.payout_id for p in payouts if p.payout_id})}, schema={"payout_id": pl.String})
    daily = query("daily_net", trades=trades, paid_ids=ids)
    period_of = {day: period for period in periods for day in period.days}
    batches: dict[tuple, Batch] = {}
    for r in daily.iter_rows(named=True):
        day, pid = r["bill_date"], r["payout_id"]
        if pid is not None:
            key = (r["account"], r["currency"], f"payout:{pid}")
            due = cycle.due_date(day)
            start, end, close = day, day, cycle.close_date(due)
        elif day in period_of:
            per = period_of[day]
            key = (r["account"], r["currency"], f"period:{per.start}..{per.end}:{r['currency']}")
            start, end, due, close = per.start, per.end, per.due, per.close
        else:
            continue  # a day of a period that is closed already or not yet complete
        batch = batches.get(key)
        if batch is None:
            batches[key] = Batch(key[0], key[1], key[2], start, end, due, close, r["net"], r["n"], pid)
        else:
            batch.owed += r["net"]
            batch.count += r["n"]
            batch.start, batch.end = min(batch.start, day), max(batch.end, day)
            if pid is not None and batch.due < due:  # a payout is due when its last trade day is
                batch.due, batch.close = due, cycle.close_date(due)
    return sorted(batches.values(), key=lambda b: (b.due, b.account, b.currency, b.key))


def allocate(batches: list[Batch], payouts: list[Payout], tolerance: Decimal) -> list[Payout]:
    """Attach payouts to batches (see the module docstring); returns the payouts left unclaimed."""
    by_id = {b.by_id: b for b in batches if b.by_id}
    pool: list[Payout] = []
    for p in payouts:
        (by_id[p.payout_id].paid.append(p) if p.payout_id in by_id else pool.append(p))
    periods = [b for b in batches if not b.by_id]

    def fits(b: Batch, p: Payout) -> bool:
        return (p.account, p.currency) == (b.account, b.currency) and b.end <= p.pay_date <= b.close

    def settled(b: Batch) -> bool:
        return abs(b.total - b.owed) <= tolerance

    def claim(take: Callable[[Batch, list[Payout]], list[Payout]]) -> None:
        for b in periods:
            if b.paid and settled(b):
                continue
            for p in take(b, [p for p in pool if fits(b, p)]):
                pool.remove(p)
                b.paid.append(p)

    def single(b: Batch, cands: list[Payout]) -> list[Payout]:
        return next(([p] for p in cands if not b.paid and abs(p.settled - b.owed) <= tolerance), [])

    def greedy(b: Batch, cands: list[Payout], exact_only: bool) -> list[Payout]:
        taken, running = [], b.total
        for p in cands:
            if running + p.settled <= b.owed + tolerance:
                taken.append(p)
                running += p.settled
        return taken if (taken and (not exact_only or abs(running - b.owed) <= tolerance)) else []

    claim(single)
    claim(lambda b, c: greedy(b, c, True))
    claim(lambda b, c: greedy(b, c, False))
    left = []
    for p in list(pool):  # paid too much: into the latest period whose window holds the payout
        home = [b for b in periods if fits(b, p)]
        (home[-1].paid.append(p) if home else left.append(p))
    return left


def verdict(b: Batch, as_of: dt.date, tolerance: Decimal) -> str:
    diff = b.total - b.owed
    if abs(diff) <= tolerance or (b.owed <= 0 and not b.paid):
        # Nothing owed (refunds ate the period): the channel carries the net, it pays nothing.
        return "SETTLED"
    if diff > 0:
        return "SETTLEMENT_OVER"
    if as_of < b.close:
        return "SETTLEMENT_PENDING"
    return "SETTLEMENT_SHORT" if b.paid else "SETTLEMENT_MISSING"


def _reason(b: Batch, kind: str, missing: list[dt.date]) -> str:
    cur = b.currency
    what = (f"payout {b.by_id}" if b.by_id else f"settlement of {b.start}..{b.end}") + f" (due {b.due})"
    paid = ", ".join(f"{money_text(p.settled, cur)} on {p.pay_date}" for p in b.paid) or "nothing"
    owed = f"owed {money_text(b.owed, cur)} for {b.count} lines, paid {paid}"
    tail = {"SETTLED": "", "SETTLEMENT_OVER": f"; over by {money_text(b.total - b.owed, cur)}",
            "SETTLEMENT_PENDING": f"; still open until {b.close}",
            "SETTLEMENT_SHORT": f"; short by {money_text(b.owed - b.total, cur)}",
            "SETTLEMENT_MISSING": f"; no payout by {b.close}"}[kind]
    gaps = [d for d in missing if b.start <= d <= b.end]
    note = f" (no bill for {', '.join(map(str, gaps))}: counted as empty)" if gaps else ""
    # which link made the payouts this batch's: the id the trade lines carry, or amount and date
    how = ("; linked by payout id on the trade lines" if b.by_id else
           "; linked by amount and date (the trade lines name no payout)" if b.paid else "")
    return f"{what}: {owed}{tail}{note}{how}"


def settlement_rows(date: dt.date, channel: str, batches: list[Batch], left: list[Payout],
                    tolerance: Decimal, missing: list[dt.date]) -> list[ResultRow]:
    """The rows to report on `date`: each batch from its due date until its verdict is final."""
    rows = []
    for b in batches:
        kind = verdict(b, date, tolerance)
        last_paid = max((p.pay_date for p in b.paid), default=b.due)
        final_before = kind == "SETTLED" and max(last_paid, b.due) < date
        if not (b.due <= date <= b.close) or final_before:
            continue
        rows.append(ResultRow(
            business_date=date, layer=LAYER, section=SECTION, channel=channel, account=b.account,
            currency=b.currency, kind=kind, key=b.key, our_amount=b.owed, their_amount=b.total,
            reason=_reason(b, kind, missing), our_count=b.count, their_count=len(b.paid),
            period_start=b.start, period_end=b.end, due_date=b.due,
            payout_ids=",".join(sorted(p.ref for p in b.paid)) or None))
    for p in left:
        if p.pay_date == date:
            rows.append(ResultRow(
                business_date=date, layer=LAYER, section=SECTION, channel=channel, account=p.account,
                currency=p.currency, kind="SETTLEMENT_OVER", key=f"payout:{p.ref}",
                our_amount=Decimal("0"), their_amount=p.settled, their_count=1, payout_ids=p.ref,
                reason=f"payout {p.ref} of {money_text(p.settled, p.currency)} on {p.pay_date} "
                       f"matches nothing the channel owes us in an open settlement period"))
    return rows
