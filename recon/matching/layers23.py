"""Layers 2 and 3 of a business day: bills, settlements, and account vs cash.

Layer 1 can match every transaction while the money is still wrong. `run_layers23` runs the two
checks above it for a day and writes `results/<D>/layer2.parquet` and `layer3.parquet` (schema in
recon.matching.layer23_results), each replaced whole and atomically:

* layer 2, per settlement channel: the day's bill totals against ours (layer2_bills) and each due
  settlement period against the payouts the channel reports (layer2_settlement);
* layer 3: book positions against bank closing balances, and reported payouts against bank
  credits (layer3_cash). Bank channels are those whose format carries balances.

Our side comes from the caller: the internal frame (or a function channel -> frame) and the book
positions (a mapping {account: (currency, amount)}, a frame, or the CSV named in settlement.toml).
A run for one channel keeps the other channels' rows of the day's files.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

from recon.matching import layer2_bills, layer2_settlement, layer3_cash
from recon.matching.day_inputs import (
    Parts,
    days_between,
    empty_balances,
    empty_part,
    load_balances,
    load_bill,
    load_parts,
    query,
)
from recon.matching.internal_source import load_internal
from recon.matching.layer23_results import (
    OK_KINDS,
    RESULT_COLUMNS,
    WAITING_KINDS,
    ResultRow,
    sort_rows,
    to_frame,
    write_results,
)
from recon.matching.policy import LayerSettings, bank_channels, payout_only_channels
from recon.matching.settlement_cycle import SettlementCycle
from recon.workspace import Workspace

__all__ = ["Layers23Summary", "OK_KINDS", "WAITING_KINDS", "run_layers23"]

InternalSource = pl.DataFrame | Callable[[str], pl.DataFrame] | None


@dataclass(frozen=True, slots=True)
class Layers23Summary:
    """What a run wrote and found; `notes` say which checks had nothing to compare, and why."""

    date: dt.date
    layer2_path: str
    layer3_path: str
    kinds: tuple[tuple[int, str, int], ...]  # (layer, kind, rows)
    discrepancies: int
    notes: tuple[str, ...]


def _internal_for(source: InternalSource, ws: Workspace, channel: str, date: dt.date) -> pl.DataFrame | None:
    if isinstance(source, pl.DataFrame):
        return source.filter(pl.col("channel") == channel)
    if callable(source):
        return source(channel)
    return load_internal(ws, channel, date)  # the configured source, as layer 1 reads it


def _bill_rows(ws: Workspace, date: dt.date, channel: str, internal: InternalSource, tolerance: Decimal,
               notes: list[str]) -> list[ResultRow]:
    # every line of today's bill, in the columns the totals use; let go before the look-back range
    today = load_bill(ws, channel, date, layer2_bills.BILL_TOTALS_COLUMNS)
    if today is None:
        notes.append(f"{channel}: no bill for {date}; bill totals not compared")
        return []
    ours = _internal_for(internal, ws, channel, date)
    if ours is None:
        notes.append(f"{channel}: no internal side given; bill totals not compared")
        return []
    account = layer2_bills.our_account(ws.settings.channel(channel).account, today)
    layer1 = ws.results_dir(date) / "layer1.parquet"  # written before layers 2 and 3 run
    moved = layer2_bills.crossday(pl.scan_parquet(layer1), today, channel) if layer1.exists() else None
    return layer2_bills.compare_bills(date, ours, today, channel, account, tolerance, moved)


def _layer2(ws: Workspace, cfg: LayerSettings, date: dt.date, channel: str, internal: InternalSource,
            notes: list[str], read: Parts, *,
            bills_too: bool = True) -> tuple[list[ResultRow], list[layer2_settlement.Payout]]:
    fmt = ws.settings.channel(channel).format
    policy, rows = cfg.policy(channel, fmt), []
    cycle = SettlementCycle(policy, cfg.calendar)
    if bills_too:
        rows += _bill_rows(ws, date, channel, internal, policy.tolerance, notes)

    if not policy.payout_channel and not policy.payouts_reported:
        # Nothing can ever say this channel paid: a check would raise a "missing" every period.
        why = (f"{channel}: no payout source (its {fmt} bills carry no payouts and no payout_channel "
               "is set in settlement.toml): settlement not checked")
        notes.append(why)
        rows.append(ResultRow(business_date=date, layer=2, section="settlement", channel=channel,
                              account=ws.settings.channel(channel).account or "", currency="",
                              kind="SETTLEMENT_NOT_CHECKED", key="settlement", our_amount=None,
                              their_amount=None, reason=why))
        return rows, []
    # Layer 3 follows payouts until their landing window closes: read back far enough for both.
    landing_back = date - dt.timedelta(days=3 * policy.landing_days + 7)
    # The payouts read back that far paid periods whose window has closed since: those periods claim
    # them again (and are not reported, settlement_rows), else each would be an open period's OVER.
    periods = cycle.open_periods(date, closed_since=landing_back)
    start = min([p.start for p in periods] + [landing_back])
    days = days_between(start, date)
    trades, missing = load_parts(ws, channel, "daily_trades", days, read)
    payouts = layer2_settlement.read_payouts(
        load_parts(ws, policy.payout_channel or channel, "payout_lines", days, read)[0])
    batches = layer2_settlement.build_batches(trades, payouts, periods, cycle)
    left = layer2_settlement.allocate(batches, payouts, policy.tolerance)
    rows += layer2_settlement.settlement_rows(date, channel, batches, left, policy.tolerance, missing)
    # Payout lines carry the trade channel's name for the report, whichever bill reported them.
    return rows, [_renamed(p, channel) for p in payouts]


def _renamed(p: layer2_settlement.Payout, channel: str) -> layer2_settlement.Payout:
    fields = {s: getattr(p, s) for s in layer2_settlement.Payout.__slots__}  # type: ignore[attr-defined]
    return layer2_settlement.Payout(**{**fields, "channel": channel})


def _layer3(ws: Workspace, cfg: LayerSettings, date: dt.date, banks: list[str],
            payouts: list[layer2_settlement.Payout], positions: layer3_cash.Positions | None,
            notes: list[str], read: Parts) -> list[ResultRow]:
    rows: list[ResultRow] = []
    business_day = cfg.calendar.is_business_day(date)
    statements = [b for b in (load_balances(ws, bank, date) for bank in banks) if b is not None]
    closing = query("closing_balance", {"date": date},
                    balances=pl.concat(statements) if statements else empty_balances())
    if positions is None and cfg.books_path:
        positions = layer3_cash.load_positions_csv(cfg.books_path, ws.root, date)
    if positions is None:
        notes.append("no book positions given; positions not compared with bank balances")
    else:
        rows += layer3_cash.compare_positions(date, layer3_cash.positions_frame(positions), closing, business_day)
    if not statements and not business_day:
        notes.append(f"{date} is not a business day: no bank statement expected")

    policy_of = {c: cfg.policy(c, ws.settings.channel(c).format) for c in ws.settings.channels}
    back = max([p.landing_days for p in policy_of.values()] + [0])
    credit_days = days_between(date - dt.timedelta(days=3 * back + 7), date)
    lines = [load_parts(ws, bank, "credit_lines", credit_days, read)[0] for bank in banks]
    credits = query("bank_credits", credit_rows=pl.concat(lines) if lines else empty_part("credit_lines"))

    def close_of(p: layer2_settlement.Payout) -> dt.date:
        pol = policy_of[p.channel]
        return cfg.calendar.add_days(p.arrival_date, pol.landing_days, business=pol.business_days)

    if not banks:  # nothing could ever show a payout landing: following them would raise a ghost each
        if payouts:
            notes.append("no bank statement channel: payouts are not followed to the bank")
        return rows
    rows += layer3_cash.match_payouts(date, payouts, credits, close_of,
                                      lambda bank: bank not in policy_of or policy_of[bank].flag_unexpected_credits)
    return rows


def _merge(frame: pl.DataFrame, target: Path, channel: str | None) -> pl.DataFrame:
    """A one-channel run replaces that channel's rows only; the other channels' rows stay."""
    if channel is None or not target.exists():
        return frame
    kept = pl.read_parquet(target).filter(pl.col("channel") != channel)
    return sort_rows(pl.concat([kept.select(list(RESULT_COLUMNS)).cast(RESULT_COLUMNS), frame]))


def run_layers23(ws: Workspace, date: dt.date, channel: str | None = None, *,
                 internal: InternalSource = None, positions: layer3_cash.Positions | None = None,
                 settings: LayerSettings | None = None) -> Layers23Summary:
    """Run layers 2 and 3 for `date` (one channel or all) and write their result files."""
    cfg = settings or LayerSettings.of(ws)
    if channel is not None:
        ws.settings.channel(channel)  # an unknown channel is a ConfigError naming the known ones
    banks = bank_channels(ws)
    # A fund-flow channel that reports another channel's payouts is read through that channel.
    payout_only = payout_only_channels(ws, cfg)
    notes: list[str] = []
    rows2: list[ResultRow] = []
    payouts: list[layer2_settlement.Payout] = []
    read: Parts = {}  # each day's parts are small: kept for the run (a shared payout channel is read once)
    for name in sorted(set(ws.settings.channels) - set(banks) - payout_only):
        # Every channel's payouts are needed to tell a bank's unexpected credits from payouts.
        selected = channel in (None, name)
        found, paid = _layer2(ws, cfg, date, name, internal if selected else None, notes, read, bills_too=selected)
        payouts += paid
        rows2 += found if selected else []
    rows3 = _layer3(ws, cfg, date, banks, payouts, positions, notes, read)
    if channel is not None:
        rows3 = [r for r in rows3 if r.channel == channel]
    out = ws.results_dir(date)
    frames = {2: _merge(to_frame(rows2), out / "layer2.parquet", channel),
              3: _merge(to_frame(rows3), out / "layer3.parquet", channel)}
    for layer, frame in frames.items():
        write_results(frame, out / f"layer{layer}.parquet")
    kinds = Counter((layer, k) for layer, f in frames.items() for k in f["kind"].to_list())
    bad = sum(int(f["is_discrepancy"].sum()) for f in frames.values())
    return Layers23Summary(date, str(out / "layer2.parquet"), str(out / "layer3.parquet"),
                           tuple((layer, k, n) for (layer, k), n in sorted(kinds.items())), bad, tuple(notes))
