"""Layer 1 across currencies: a pair booked in two currencies, compared through a stated rate.

Layer 1's outcome CASE calls every pair whose currencies differ CURRENCY_MISMATCH. Where the
workspace configures `[fx]` (recon.config.fx) for the channel, those pairs are looked at again here:

1. the rate: the one the channel's statement states on the line (its `fx_rate`, converting
   `fx_from` into the line's currency), else the rates file's rate for the pair of currencies,
   dated the business day or the latest day before it. No rate: the pair stays CURRENCY_MISMATCH
   and its reason says no rate was found, and where it was looked for.
2. our amount x rate, rounded once to the channel currency's unit with the configured rounding
   (recon.money.quantize), against the channel's amount, within the tolerance of the line's
   account or channel (minor units or percent of the converted amount, the larger wins; none
   configured: exact). Beyond it: FX_MISMATCH, the reason naming both figures, the converted one
   and the rate with its source. Within it, the other compared fields decide as for any pair,
   else MATCHED, the reason naming the rate and its source. A fee is compared converted the same
   way, but only where we booked one: a channel charges its fee in its own currency, which our
   side usually does not know (layer 2's bill totals still compare the fees).

A pair is rarely in two currencies, so this runs in Python over those few rows only, on whichever
engine ran the day (the rows come from and go back to table `res` by SQL).
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from pathlib import Path

import polars as pl

from recon.config.fx import FxSettings, FxTolerance
from recon.errors import ConfigError
from recon.matching import engine
from recon.matching.explain import money
from recon.money import PRECISION, MoneyError, Rounding, currency_code, from_minor, parse_amount, quantize

FX_MISMATCH = "FX_MISMATCH"
RATE_COLUMNS = ("date", "from", "to", "rate")


@dataclass(frozen=True, slots=True)
class Rate:
    value: Decimal
    source: str  # words for a reason: "stated on adyen.csv:17", "rates.csv line 4, 2024-03-04"


@dataclass(frozen=True, slots=True)
class RateTable:
    """A rates file: per (from, to), the days and rates in date order."""

    name: str
    rows: dict[tuple[str, str], list[tuple[dt.date, Decimal, int]]] = field(default_factory=dict)

    def on(self, source: str, target: str, day: dt.date) -> Rate | None:
        """The rate dated `day`, or the latest before it; None when the file has none."""
        found = self.rows.get((source, target), [])
        i = bisect.bisect_right([d for d, _, _ in found], day)
        if i == 0:
            return None
        date, value, line = found[i - 1]
        return Rate(value, f"{self.name} line {line}, {date}")


def load_rates(path: Path) -> RateTable:
    """A rates CSV (date,from,to,rate; rates as exact decimal text), refused whole on any bad line."""
    if not path.exists():
        raise ConfigError(f"{path}: the [fx] rates_file does not exist")
    rows: dict[tuple[str, str], dict[dt.date, tuple[Decimal, int]]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not set(RATE_COLUMNS) <= set(reader.fieldnames or ()):
            raise ConfigError(f"{path}: a rates file has the columns {', '.join(RATE_COLUMNS)}")
        for line, rec in enumerate(reader, start=2):
            try:
                day = dt.date.fromisoformat(rec["date"].strip())
                pair = currency_code(rec["from"].strip()), currency_code(rec["to"].strip())
                rate = parse_amount(rec["rate"])
            except (ValueError, MoneyError, AttributeError) as exc:
                raise ConfigError(f"{path}:{line}: {exc}") from None
            if rate <= 0:
                raise ConfigError(f"{path}:{line}: rate {rec['rate']!r} is not positive")
            seen = rows.setdefault(pair, {})
            if day in seen and seen[day][0] != rate:
                raise ConfigError(f"{path}:{line}: a second rate {pair[0]}->{pair[1]} for {day} "
                                  f"(line {seen[day][1]} says {seen[day][0]})")
            seen.setdefault(day, (rate, line))
    return RateTable(path.name, {pair: sorted((d, r, n) for d, (r, n) in days.items())
                                 for pair, days in rows.items()})


@dataclass(frozen=True, slots=True)
class FxPolicy:
    """A channel's [fx] settings with its rates file read."""

    settings: FxSettings
    rates: RateTable | None = None

    def tolerance(self, account: str | None) -> FxTolerance:
        own = self.settings.accounts.get(account or "")
        return own if own is not None else self.settings


def policy_for(ws, channel: str) -> FxPolicy | None:  # ws: recon.workspace.Workspace
    """The channel's FX policy, or None when neither [fx] nor its channel table configures one."""
    base, own = ws.settings.fx, ws.settings.channel(channel).fx
    if own is None and "fx" not in ws.settings.model_fields_set:
        return None
    settings = own.over(base) if own is not None else base
    rates = None
    if settings.rates_file:
        path = Path(settings.rates_file)
        rates = load_rates(path if path.is_absolute() else ws.root / path)
    return FxPolicy(settings, rates)


def convert(amount: Decimal, rate: Decimal, currency: str, rounding: Rounding) -> Decimal:
    """amount x rate in `currency`, rounded once to its unit (exact product: 60 digits)."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return quantize(amount * rate, currency, rounding)


def allowance(tol: FxTolerance, converted: Decimal, currency: str) -> Decimal:
    """The tolerance in `currency`: the larger of minor units and percent of the converted amount."""
    parts = [Decimal(0)]
    if tol.tolerance_minor is not None:
        parts.append(from_minor(tol.tolerance_minor, currency))
    if tol.tolerance_percent is not None:
        with localcontext() as ctx:
            ctx.prec = PRECISION
            parts.append(abs(converted) * tol.tolerance_percent / Decimal(100))
    return max(parts)


def within(converted: Decimal, theirs: Decimal, tol: FxTolerance, currency: str) -> bool:
    return abs(theirs - converted) <= allowance(tol, converted, currency)


def rate_for(row: dict, policy: FxPolicy, date: dt.date) -> Rate | None:
    ours, theirs = row["our_currency"], row["their_currency"]
    stated = row.get("fx_rate")
    if policy.settings.statement_rate and stated and row.get("fx_from") == ours:
        try:
            value = parse_amount(stated)
        except MoneyError:
            value = None
        if value is not None and value > 0:
            return Rate(value, f"stated on {row['their_file']}:{row['their_line']}")
    return policy.rates.on(ours, theirs, date) if policy.rates is not None else None


def _tol_words(tol: FxTolerance, converted: Decimal, currency: str) -> str:
    if tol.tolerance_minor is None and tol.tolerance_percent is None:
        return "no tolerance configured: exact"
    return f"tolerance {money(allowance(tol, converted, currency), currency)} {currency}"


def decide(row: dict, policy: FxPolicy, date: dt.date, compare: tuple[str, ...]) -> tuple[str, str]:
    """(outcome, reason) of one pair whose currencies differ."""
    ours, theirs = row["our_currency"], row["their_currency"]
    rate = rate_for(row, policy, date)
    if rate is None:
        where = ["the statement states none" if policy.settings.statement_rate else "statement rates are off"]
        where.append(f"{policy.rates.name} has none on or before {date}" if policy.rates else "no rates_file is set")
        return "CURRENCY_MISMATCH", (f"currency {ours} here, {theirs} at the channel; no exchange rate "
                                     f"{ours}->{theirs}: {', '.join(where)}")
    rounding = policy.settings.rounding
    tol = policy.tolerance(row.get("account"))
    converted = convert(row["our_amount"], rate.value, theirs, rounding)
    at = f"at {rate.value} {ours}->{theirs} ({rate.source})"
    said = (f"{money(row['our_amount'], ours)} {ours} here {at} is {money(converted, theirs)} {theirs}, "
            f"the channel has {money(row['their_amount'], theirs)} {theirs}")
    if not within(converted, row["their_amount"], tol, theirs):
        off = money(row["their_amount"] - converted, theirs)
        return FX_MISMATCH, f"{said}: off by {off} {theirs}, beyond the {_tol_words(tol, converted, theirs)}"
    if "status" in compare and row["our_status"] != row["their_status"]:
        return "STATUS_MISMATCH", f"status {row['our_status']} here, {row['their_status']} at the channel; {said}"
    if "fee" in compare and row["their_fee"] is not None and row["our_fee"]:
        fee = convert(row["our_fee"], rate.value, theirs, rounding)
        if not within(fee, row["their_fee"], tol, theirs):
            return "FEE_MISMATCH", (f"fee {money(row['our_fee'], ours)} {ours} here {at} is {money(fee, theirs)} "
                                    f"{theirs}, the channel has {money(row['their_fee'], theirs)} {theirs}; {said}")
    outcome = "AUTO_RESOLVED" if row.get("carried_from") is not None else "MATCHED"
    return outcome, f"matched across currencies: {said}, within the {_tol_words(tol, converted, theirs)}"


def settle(con, policy: FxPolicy | None, date: dt.date, compare: tuple[str, ...]) -> None:
    """Re-decide the CURRENCY_MISMATCH pairs of table `res` through rates (see the docstring)."""
    if policy is None:
        return
    rows = list(con.sql(engine.sql("fx_pairs")).pl().iter_rows(named=True))
    if not rows:
        return
    decided = [(r["x_side"], r["x_key"], *decide(r, policy, date, compare)) for r in rows]
    frame = pl.DataFrame(decided, schema={"x_side": pl.String, "x_key": pl.Int64, "outcome": pl.String,
                                          "reason": pl.String}, orient="row")
    con.register("fx_frame", frame)
    con.execute("UPDATE res SET outcome = x.outcome, reason = x.reason FROM fx_frame x "
                "WHERE res.x_side = x.x_side AND res.x_key = x.x_key")
    con.unregister("fx_frame")
