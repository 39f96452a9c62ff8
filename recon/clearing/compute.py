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

The day is computed column-wise: every figure is an integer of the currency's minor unit (Int128,
exact), fees and splits come from one DuckDB statement each (`fees_sql`, `splits_sql`), and only
the sums (settlements, bookings) become Decimals. Rules are looked up once per distinct scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from recon.clearing import fees_sql, splits_sql
from recon.clearing.fee_rules import ClearingRules
from recon.clearing.fees import MonthVolume, exact_fee, round_fees
from recon.clearing.holdback import ORDER, PRESENTED_SCHEMA, Presented, State, records
from recon.clearing.splits import split_net
from recon.errors import InvariantBroken, StageFailed
from recon.money import MONEY_SCALE, MoneyError, Rounding, currency_code, exponent, quantize
from recon.schema import MONEY

ZERO = Decimal(0)
UNITS = pl.Int128  # a figure in whole minor units of its currency
SCOPE = ["merchant_id", "channel", "currency", "record_type"]
FIGURES = ("gross", "fee", "splits", "net_payable", "held")


@dataclass(frozen=True, slots=True)
class Line:
    """One transaction's clearing as a record (`DayClearing.lines`)."""

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
    """`frame`: one row per presented transaction in their order (`PRESENTED_SCHEMA`, plus `row`,
    `exp`, `pow10`, the amount as `units`, `fee_rule` and `FIGURES` in minor units); `shares`: each other party's share
    (`row`, `pos` in rule order, `party`, `units`, `exp`, `pow10`)."""

    date: dt.date
    frame: pl.DataFrame
    shares: pl.DataFrame
    settlements: tuple[Settlement, ...]

    @property
    def lines(self) -> tuple[Line, ...]:
        shares: dict[int, list[tuple[str, Decimal]]] = {}
        for row, party, units, exp in self.shares.sort("row", "pos").select("row", "party", "units", "exp").iter_rows():
            shares.setdefault(row, []).append((party, _decimal(units, exp)))
        out = []
        for txn, (row, exp, fee_rule, *figures) in zip(
                records(self.frame.select(*PRESENTED_SCHEMA)),
                self.frame.select("row", "exp", "fee_rule", *FIGURES).iter_rows(), strict=True):
            gross, fee, _, net, held = (_decimal(u, exp) for u in figures)
            out.append(Line(txn, gross, fee, fee_rule, tuple(shares.get(row, ())), net, held))
        return tuple(out)


def _decimal(units: int, exp: int) -> Decimal:
    return Decimal(units).scaleb(-exp)


def _whole(p: Presented) -> Decimal:
    currency_code(p.currency)
    if p.amount != quantize(p.amount, p.currency, Rounding.DOWN):
        raise StageFailed(f"transaction {p.txn_id}: amount {p.amount} is finer than the minor unit of {p.currency}")
    return p.amount


def _currencies(presented: pl.DataFrame) -> pl.DataFrame:
    """Each currency's exponent, and `cut` (10^(6 - exponent): micro-units per minor unit); null for a
    code that is not a currency (refused, in clearing order, by `_refuse_first`)."""
    rows: list[tuple] = []
    for currency in presented["currency"].unique().to_list():
        try:
            exp = exponent(currency)
        except MoneyError:
            exp = None
        rows.append((currency, None, None, None) if exp is None else
                    (currency, exp, 10 ** exp, 10 ** (MONEY_SCALE - exp)))
    return pl.DataFrame(rows, schema={"currency": pl.String, "exp": pl.Int64, "pow10": pl.Int64, "cut": UNITS},
                        orient="row")


def _scopes(taken: pl.DataFrame, rules: ClearingRules) -> pl.DataFrame:
    """The fee and split rule of each distinct scope (null fee rule: none applies, refused in order)."""
    rows = []
    for merchant, channel, currency, record_type in taken.select(SCOPE).unique().iter_rows():
        try:
            fee = rules.fee_rule(merchant, channel, currency, record_type)[0]
        except StageFailed:
            fee = None
        split = rules.split_rule(merchant, channel, currency, record_type)
        rows.append((merchant, channel, currency, record_type, fee, None if split is None else split[0]))
    return pl.DataFrame(rows, orient="row", schema={**{c: pl.String for c in SCOPE}, "fee_rule": pl.String,
                                                    "split_rule": pl.String})


def _refuse_first(bad: pl.DataFrame, rules: ClearingRules | None) -> None:
    """Raise what the definition raises for the first of `bad`: no fee rule (taken rows only), a
    code that is not a currency, or an amount finer than the minor unit."""
    if bad.height:
        (p,) = records(bad.head(1).select(*PRESENTED_SCHEMA))
        if rules is not None:
            rules.fee_rule(p.merchant_id, p.channel, p.currency, p.record_type)
        _whole(p)
        raise InvariantBroken(f"clearing: {p.txn_id} refused without a reason")  # _whole raises for every bad row


_HELD = pl.col("state") == State.HELD.value
# Tiers advance in clearing order: trade time, then txn id (a transaction without a time last).
CLEARING_ORDER = (pl.col("trade_time").is_null(), "trade_time", "txn_id")


def _in_units(presented: pl.DataFrame) -> pl.DataFrame:
    """Each amount in whole minor units (`units`, with its currency's `exp`, `pow10`, `cut`), and
    `whole` (`_is_whole`)."""
    currencies = _currencies(presented)
    return (presented.with_columns(**{c: _looked_up(currencies, c) for c in ("exp", "pow10", "cut")})
            .with_columns(units=_MICRO // pl.col("cut"), whole=_is_whole(pl.col("cut"))))


def _looked_up(currencies: pl.DataFrame, column: str) -> pl.Expr:
    """A column of `_currencies` for each row's currency: looked up, not joined (a join copies every row)."""
    return pl.col("currency").replace_strict(currencies["currency"], currencies[column], default=None,
                                             return_dtype=currencies.schema[column])


_MICRO = (pl.col("amount").cast(MONEY) * 10 ** MONEY_SCALE).cast(UNITS)


def _is_whole(cut: pl.Expr) -> pl.Expr:
    """False where an amount is finer than its currency's minor unit (or the code is no currency)."""
    return (_MICRO % cut == 0).fill_null(False)


def _with_rules(taken: pl.DataFrame, rules: ClearingRules) -> pl.DataFrame:
    return taken.join(_scopes(taken.select(SCOPE).unique(), rules), on=SCOPE, how="left", nulls_equal=True,
                      maintain_order="left")


def _refuse(p: pl.DataFrame, rules: ClearingRules) -> None:
    """Every taken transaction has a fee rule and a whole-unit amount (`p.whole`), checked in
    clearing order; then the held ones, in holdback's order (`ORDER`, total: a txn id is presented
    once). Only the refused rows are ever copied."""
    taken = ~_HELD
    scopes = _scopes(p.lazy().filter(taken).select(SCOPE).unique().collect(), rules)
    no_rule = scopes.filter(pl.col("fee_rule").is_null()).select(SCOPE)
    bad = p.filter(taken & ~pl.col("whole"))
    if no_rule.height:
        bad = pl.concat([bad, p.filter(taken).join(no_rule, on=SCOPE, how="semi", nulls_equal=True)])
    _refuse_first(bad.sort(*CLEARING_ORDER), rules)
    _refuse_first(p.filter(_HELD & ~pl.col("whole")).sort(list(ORDER)), None)


def check_day(presented: pl.DataFrame, rules: ClearingRules) -> None:
    """`compute_frame`'s refusals over a whole day before any batch of it is computed: a day is
    refused whole, for the transaction `compute_frame` of the whole day would name."""
    _refuse(presented.with_columns(whole=_is_whole(_looked_up(_currencies(presented), "cut"))), rules)


def merchant_batches(presented: pl.DataFrame, rows: int) -> Iterator[pl.DataFrame]:
    """`presented` in holdback's order (`holdback.ORDER`: merchant first), in batches of whole
    merchants, about `rows` rows each: a merchant's day is never split (its fees, tiers, rounded
    totals and settlements are its own), and no figure of one merchant depends on another's, so
    each batch is computed alone (`compute_frame`). Only the order is worked out for the whole day
    and each batch is gathered by it: the day is never copied whole."""
    order = presented.select(pl.arg_sort_by(list(ORDER))).to_series()
    sizes = presented.group_by("merchant_id").len().sort("merchant_id")["len"].to_list()
    start = size = 0
    for length in sizes:
        if size and size + length > rows:
            yield presented[order.slice(start, size)]
            start, size = start + size, 0
        size += length
    yield presented[order.slice(start, size)]


def compute_frame(day: dt.date, presented: pl.DataFrame, rules: ClearingRules,
                  prior_volume: dict[tuple[str, str], Decimal]) -> DayClearing:
    """Fees, splits and the settlement of one day, or of some of its merchants (`merchant_batches`),
    from what holdback presented (`PRESENTED_SCHEMA`)."""
    p = _in_units(presented.with_row_index("row"))
    _refuse(p, rules)
    taken = _with_rules(p.filter(~_HELD), rules).sort(*CLEARING_ORDER).with_row_index("seq")

    fees = fees_sql.fee_units(taken, rules, prior_volume)
    if fees is None:  # beyond what the statement computes exactly: one transaction at a time
        fees = fees_per_row(records(taken.select(*PRESENTED_SCHEMA)), rules, prior_volume)
        fees = pl.Series([_units(fees[t][1], e) for t, e in taken.select("txn_id", "exp").iter_rows()], dtype=UNITS)
    taken = taken.with_columns(fee=fees, net=pl.col("units") - fees)
    shares = day_shares(taken, rules).join(taken.select("seq", "row", "exp", "pow10"), on="seq")
    per_seq = shares.group_by("seq").agg(merchant=pl.col("units").filter(pl.col("pos") == 0).first(),
                                         splits=pl.col("units").filter(pl.col("pos") > 0).sum())
    # no split rule: the whole net is the merchant's; else the merchant's share (pos 0)
    taken = (taken.join(per_seq, on="seq", how="left", maintain_order="left")
             .select("row", "fee_rule", "fee", splits=pl.col("splits").fill_null(0),
                     net_payable=pl.coalesce("merchant", "net")))
    released = pl.col("state") == State.RELEASED.value
    zero = pl.lit(0, UNITS)
    frame = (p.join(taken, on="row", how="left", maintain_order="left")
             .with_columns(gross=pl.when(released).then(zero).otherwise("units"),
                           fee=pl.col("fee").fill_null(zero), fee_rule=pl.col("fee_rule").fill_null(""),
                           splits=pl.col("splits").fill_null(zero), net_payable=pl.col("net_payable").fill_null(zero),
                           held=pl.when(_HELD).then("units").when(released).then(zero - pl.col("units"))
                           .otherwise(zero))
             .select("row", *PRESENTED_SCHEMA, "exp", "pow10", "units", "fee_rule", *FIGURES))
    broken = frame.filter(pl.col("gross") != pl.col("net_payable") + pl.col("fee") + pl.col("splits") + pl.col("held"))
    if broken.height:  # the balance equation, checked on every line before anything is written
        raise InvariantBroken(f"clearing {day}: {broken['txn_id'][0]} does not balance: {broken.row(0, named=True)}")
    others = shares.filter(pl.col("pos") > 0).select("row", "pos", "party", "units", "exp", "pow10")
    return DayClearing(day, frame, others, settle(frame))


def _units(amount: Decimal, exp: int) -> int:
    return int(amount.scaleb(exp))  # whole minor units: checked before any fee or share is computed


def day_shares(taken: pl.DataFrame, rules: ClearingRules) -> pl.DataFrame:
    """Each party's share of the net (amount - fee) of the taken transactions a split rule covers
    (`seq`, `pos`: 0 the merchant, then the rule's parties in order, `party`, `units`): all at once
    (splits_sql), or line by line where the statement cannot be exact."""
    covered = taken.filter(pl.col("split_rule").is_not_null()).select(
        "seq", "net", "currency", "exp", name="split_rule")
    shares = splits_sql.split_units(covered, rules.splits)
    if shares is None:
        rows = [(seq, pos, party, _units(amount, exp))
                for seq, net, currency, exp, name in covered.iter_rows()
                for pos, (party, amount) in enumerate(split_net(rules.splits[name], _decimal(net, exp), currency))]
        shares = pl.DataFrame(rows, schema=splits_sql.SHARES, orient="row")
    return shares


def fees_per_row(taken: list[Presented], rules: ClearingRules,
                 prior_volume: dict[tuple[str, str], Decimal]) -> dict[str, tuple[str, Decimal]]:
    """The definition of a day's fees (fees_sql computes the same at once): txn_id ->
    (rule name, whole-unit fee), `taken` in clearing order."""
    volume = MonthVolume(prior_volume)
    groups: dict[tuple[str, str, str], list[tuple[Presented, Decimal]]] = {}
    for p in taken:
        name, rule = rules.fee_rule(p.merchant_id, p.channel, p.currency, p.record_type)
        after = volume.after(p.merchant_id, p.currency, p.record_type, _whole(p))
        groups.setdefault((p.merchant_id, p.currency, name), []).append((p, exact_fee(rule, p.amount, after)))
    fees: dict[str, tuple[str, Decimal]] = {}
    for (_, currency, name), members in groups.items():
        rounded = round_fees(rules.fees[name], currency, [f for _, f in members])
        fees.update({p.txn_id: (name, f) for (p, _), f in zip(members, rounded, strict=True)})
    return fees


def settle(frame: pl.DataFrame) -> tuple[Settlement, ...]:
    """Per merchant and currency, sorted by both."""
    refund = pl.col("record_type") == "REFUND"
    sums = (frame.group_by("merchant_id", "currency")
            .agg(pl.col("exp").first(), pl.col("gross").sum(), refunds=pl.col("gross").filter(refund).sum(),
                 fees=pl.col("fee").sum(), splits=pl.col("splits").sum(), held=pl.col("held").sum(),
                 net_payable=pl.col("net_payable").sum())
            .sort("merchant_id", "currency"))
    return tuple(Settlement(m, c, *(_decimal(u, exp) for u in figures))
                 for m, c, exp, *figures in sums.iter_rows())


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
    key = ["merchant_id", "currency", "channel"]
    booked = clearing.frame.filter(pl.col("state") != State.HELD.value)
    sums = booked.group_by(key).agg(pl.col("exp").first(), pl.col("net_payable").sum(), fees=pl.col("fee").sum())
    parties = (clearing.shares.join(booked.select("row", *key), on="row")
               .group_by(*key, "party").agg(pl.col("units").sum()))
    shares: dict[tuple, list[tuple[str, int]]] = {}
    for *k, party, units in parties.sort(*key, "party").iter_rows():
        shares.setdefault(tuple(k), []).append((party, units))
    return tuple(Booking(m, c, ch, _decimal(net, exp), _decimal(fees, exp),
                         tuple((party, _decimal(u, exp)) for party, u in shares.get((m, c, ch), ())))
                 for m, c, ch, exp, net, fees in sums.sort(key).iter_rows())
