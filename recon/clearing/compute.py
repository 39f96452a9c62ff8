"""The day's settlement: per transaction and per merchant, gross = net_payable + fees + splits + held.

Sign convention (also written at the top of every `merchant-<id>.csv`):
- `gross` is what the day brings in for the merchant, signed like the standardized bill: payments
  positive, refunds negative. A transaction counts in the gross of the day it is first presented
  (its business date), whether it is cleared or held that day;
- `refunds` is the part of `gross` that is refunds (<= 0), shown apart; it is already in `gross`;
- `fees` is what the merchant pays us (> 0), a returned fee is negative;
- `splits` is what other parties get from the transactions' net (a refund takes it back: < 0);
- `held` is the movement of money held back: + the amount of a transaction held today, - the
  amount of an earlier-held transaction released today (its gross was counted on its own day);
- `net_payable` is what becomes payable to the merchant today.
So for every transaction, merchant and currency: gross = net_payable + fees + splits + held, and
summed over days `held` is what is still held. Sums are only ever taken within one currency.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from recon.clearing import fees_sql, splits_sql
from recon.clearing.fee_rules import MERCHANT, ClearingRules
from recon.clearing.fees import MonthVolume, exact_fee, round_fees
from recon.clearing.holdback import Presented, State
from recon.clearing.splits import split_net
from recon.errors import InvariantBroken, StageFailed
from recon.money import Rounding, currency_code, quantize

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Line:
    """One transaction's clearing: the detail row of `merchant-<id>.csv`."""

    txn: Presented
    gross: Decimal
    fee: Decimal
    fee_rule: str
    shares: tuple[tuple[str, Decimal], ...]  # other parties only
    net_payable: Decimal
    held: Decimal

    @property
    def splits(self) -> Decimal:
        return sum((a for _, a in self.shares), ZERO)


@dataclass(frozen=True, slots=True)
class Settlement:
    """One row of `settlements.csv` (DESIGN.md columns)."""

    merchant_id: str
    currency: str
    gross: Decimal
    refunds: Decimal
    fees: Decimal
    splits: Decimal
    held: Decimal
    net_payable: Decimal


@dataclass(frozen=True, slots=True)
class DayClearing:
    date: dt.date
    lines: tuple[Line, ...]
    settlements: tuple[Settlement, ...]


def _cached(lookup):
    """A rule lookup remembered per (merchant, channel, currency, record type) for one day."""
    return functools.lru_cache(maxsize=None)(lookup)


def _whole(p: Presented) -> Decimal:
    currency_code(p.currency)
    if p.amount != quantize(p.amount, p.currency, Rounding.DOWN):
        raise StageFailed(f"transaction {p.txn_id}: amount {p.amount} is finer than the minor unit of {p.currency}")
    return p.amount


def compute_day(day: dt.date, presented: list[Presented], rules: ClearingRules,
                prior_volume: dict[tuple[str, str], Decimal]) -> DayClearing:
    """Fees, splits and the settlement of one day, from what holdback presented."""
    # Tiers advance in clearing order: trade time, then txn id (a transaction without a time last).
    taken = sorted((p for p in presented if p.state != State.HELD),
                   key=lambda p: (p.trade_time is None, p.trade_time or dt.datetime.min, p.txn_id))
    fee_rule, split_rule = _cached(rules.fee_rule), _cached(rules.split_rule)  # one lookup per scope, not per row
    names = []
    for p in taken:  # every taken transaction has a fee rule and whole-unit amount, checked in order
        names.append(fee_rule(p.merchant_id, p.channel, p.currency, p.record_type)[0])
        _whole(p)
    fees = fees_sql.day_fees(taken, names, rules, prior_volume)
    if fees is None:  # beyond what the statement computes exactly: one transaction at a time
        fees = fees_per_row(taken, rules, prior_volume)

    shares_of = day_shares(taken, fees, split_rule)
    lines = []
    for p in presented:
        if p.state == State.HELD:
            amount = _whole(p)
            lines.append(Line(p, amount, ZERO, "", (), ZERO, amount))
            continue
        amount = p.amount  # whole units: checked with the fee rules above
        name, fee = fees[p.txn_id]
        shares = shares_of.get(p.txn_id)
        # no split rule: the whole net is the merchant's; else the merchant's share comes first
        merchant, others = (amount - fee, ()) if shares is None else (shares[0][1], shares[1:])
        gross, held = (amount, ZERO) if p.state == State.CLEARED else (ZERO, -amount)
        lines.append(Line(p, gross, fee, name, others, merchant, held))
    for line in lines:  # the balance equation, checked on every line before anything is written
        if line.gross != line.net_payable + line.fee + line.splits + line.held:
            raise InvariantBroken(f"clearing {day}: {line.txn.txn_id} does not balance: {line}")
    return DayClearing(day, tuple(lines), settle(lines))


def day_shares(taken: list[Presented], fees: dict[str, tuple[str, Decimal]], split_rule) -> dict[str, tuple]:
    """txn_id -> each party's share of the net (amount - fee) for the taken transactions a split
    rule covers: all at once (splits_sql), or line by line where the statement cannot be exact."""
    covered = [(p, found[1]) for p in taken
               if (found := split_rule(p.merchant_id, p.channel, p.currency, p.record_type)) is not None]
    lines = [(rule, p.amount - fees[p.txn_id][1], p.currency) for p, rule in covered]
    shares = splits_sql.day_splits(lines)
    if shares is None:
        shares = [split_net(rule, net, currency) for rule, net, currency in lines]
    return {p.txn_id: s for (p, _), s in zip(covered, shares, strict=True)}


def fees_per_row(taken: list[Presented], rules: ClearingRules,
                 prior_volume: dict[tuple[str, str], Decimal]) -> dict[str, tuple[str, Decimal]]:
    """The definition of a day's fees (fees_sql.day_fees computes the same at once): txn_id ->
    (rule name, whole-unit fee), `taken` in clearing order."""
    volume = MonthVolume(prior_volume)
    groups: dict[tuple[str, str, str], list[tuple[Presented, Decimal]]] = defaultdict(list)
    for p in taken:
        name, rule = rules.fee_rule(p.merchant_id, p.channel, p.currency, p.record_type)
        after = volume.after(p.merchant_id, p.currency, p.record_type, _whole(p))
        groups[(p.merchant_id, p.currency, name)].append((p, exact_fee(rule, p.amount, after)))
    fees: dict[str, tuple[str, Decimal]] = {}
    for (_, currency, name), members in groups.items():
        rounded = round_fees(rules.fees[name], currency, [f for _, f in members])
        fees.update({p.txn_id: (name, f) for (p, _), f in zip(members, rounded, strict=True)})
    return fees


def settle(lines: list[Line]) -> tuple[Settlement, ...]:
    """Per merchant and currency, sorted by both."""
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO] * 6)
    for line in lines:
        s = sums[(line.txn.merchant_id, line.txn.currency)]
        refund = line.gross if line.txn.record_type == "REFUND" else ZERO
        for i, v in enumerate((line.gross, refund, line.fee, line.splits, line.held, line.net_payable)):
            s[i] += v
    return tuple(Settlement(m, c, *v) for (m, c), v in sorted(sums.items()))


@dataclass(frozen=True, slots=True)
class Booking:
    """What one journal entry books: a merchant's cleared money in one currency through one channel."""

    merchant_id: str
    currency: str
    channel: str
    net_payable: Decimal
    fees: Decimal
    shares: tuple[tuple[str, Decimal], ...]  # per party, sorted


def bookings(clearing: DayClearing) -> tuple[Booking, ...]:
    """Held lines book nothing: their money stays owed to the merchant until released."""
    acc: dict[tuple[str, str, str], list] = {}
    for line in clearing.lines:
        if line.txn.state == State.HELD:
            continue
        key = (line.txn.merchant_id, line.txn.currency, line.txn.channel)
        a = acc.setdefault(key, [ZERO, ZERO, defaultdict(Decimal)])
        a[0] += line.net_payable
        a[1] += line.fee
        for party, amount in line.shares:
            a[2][party] += amount
    return tuple(Booking(m, c, ch, n, f, tuple(sorted(s.items()))) for (m, c, ch), (n, f, s) in sorted(acc.items()))
