"""Layer 2, bill level (账单对账): our day's totals against the channel's, before any money moves.

Layer 1 pairs rows one by one; it can pass every pair and still miss that the channel's bill adds up
to something else: a fee line charged twice, a row only the totals show, a record type we do not
book at all. Here both sides are summarised per channel, account, currency and record type (count,
amount, fee, net) and compared as totals. Each group yields BILL_OK or one row for its difference, carrying counts and amounts
together: BILL_AMOUNT_MISMATCH when the amounts differ, else BILL_COUNT_MISMATCH, else
BILL_FEE_MISMATCH (its figures are then the fees); the reason names every figure that differs.

A payment near midnight is in our day and in the channel's next bill. Layer 1 has already explained
it (PENDING today, matched across days tomorrow), so the totals are compared as if each cross-day
row were booked on the day the channel bills it: today's rows still pending leave their side's
totals, and rows carried in from an earlier day that matched today join the side that booked them
earlier. A combined payment (a 1:N group) counts once. The reason names the rows so counted.
`crossday(...)` reads them from layer 1's results.

Our side is the internal frame (recon/internal.py columns) the caller loaded for the day; it has no
channel account, so its rows are labelled with the channel's configured account, or with the
bill's only account when none is configured.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from recon.internal import INTERNAL_COLUMNS
from recon.matching.day_inputs import query
from recon.matching.layer23_results import ResultRow, money_text
from recon.schema import MONEY

LAYER = 2
SECTION = "bill"


def our_account(configured: str, bill: pl.DataFrame) -> str:
    """The account our rows belong to: the configured one, else the bill's only account."""
    if configured:
        return configured
    accounts = sorted(set(bill["account"].drop_nulls().to_list()))
    return accounts[0] if len(accounts) == 1 else ""


def _our_rows(internal: pl.DataFrame, channel: str, account: str) -> pl.DataFrame:
    missing = [c for c in ("channel", "currency", "record_type", "amount", "status") if c not in internal.columns]
    if missing:
        raise ValueError(f"internal frame lacks column(s) {missing}")
    frame = internal if "fee" in internal.columns else internal.with_columns(pl.lit(0).cast(MONEY).alias("fee"))
    return frame.filter(pl.col("channel") == channel).select(
        pl.col("channel"),
        pl.lit(account, pl.String).alias("account"),
        "currency", "record_type",
        pl.col("amount").cast(MONEY), pl.col("fee").cast(MONEY), "status",
    )


# The bill's columns bill_summary.sql reads: only these travel into DuckDB, not the whole bill.
SUMMED = ("channel", "account", "currency", "record_type", "status", "amount", "fee", "net_amount")
# What `compare_bills` reads of today's bill: the totals' columns, and each line's place for `crossday`.
BILL_TOTALS_COLUMNS = (*SUMMED, "source_file", "source_line")


def summarise(internal: pl.DataFrame, bill: pl.DataFrame, channel: str, account: str) -> pl.DataFrame:
    """Both sides' totals per (channel, account, currency, record_type), one row per group."""
    ours = _our_rows(internal if internal.height else pl.DataFrame(schema=INTERNAL_COLUMNS), channel, account)
    theirs = bill.filter(pl.col("channel") == channel).select(*SUMMED)
    return query("bill_summary", our_rows=ours, their_rows=theirs)


@dataclass
class Moved:
    """Layer-1 rows of one (currency, record type) moved between days for the comparison."""

    our: list = field(default_factory=lambda: [0, Decimal(0), Decimal(0)])  # count, amount, fee
    their: list = field(default_factory=lambda: [0, Decimal(0), Decimal(0)])
    ids: list[str] = field(default_factory=list)
    groups: set[str] = field(default_factory=set)  # combined payments: several lines, one of ours


# The layer-1 columns `crossday` reads: a day's results file is ~47 columns wide and only the few
# cross-day and grouped rows matter, so it is scanned for them instead of read whole.
CROSSDAY_COLUMNS = ("channel", "outcome", "carried_from", "match_key", "our_txn_id", "their_channel_txn_id",
                    "group_id", "group_size",
                    *(f"{side}_{c}" for side in ("our", "their")
                      for c in ("source_file", "source_line", "status", "currency", "record_type", "amount", "fee")))


def crossday(layer1: pl.DataFrame | pl.LazyFrame, bill: pl.DataFrame, channel: str) -> dict[tuple[str, str], Moved]:
    """(currency, record type) -> the adjustment of each side for rows layer 1 found across midnight.

    `layer1`: the day's layer-1 results, a frame or a scan (`pl.scan_parquet`) read for its
    cross-day and grouped rows only."""
    layer1 = layer1.lazy().select(CROSSDAY_COLUMNS).filter(pl.col("channel") == channel)
    moved: dict[tuple[str, str], Moved] = {}
    rows = layer1.filter(
        ((pl.col("outcome") == "PENDING") & pl.col("carried_from").is_null())
        | (pl.col("outcome").is_in(["MATCHED", "AUTO_RESOLVED"]) & pl.col("carried_from").is_not_null())
    ).collect()
    # a carried row whose channel line is in today's bill: joined, not a set of every line of the day
    today_lines = (bill.lazy().select(their_source_file="source_file", their_source_line="source_line").unique()
                   .with_columns(theirs_today=pl.lit(True)))
    rows = (rows.lazy().join(today_lines, on=["their_source_file", "their_source_line"], how="left",
                             maintain_order="left", nulls_equal=False)
            .with_columns(pl.col("theirs_today").fill_null(False)).collect())
    for r in rows.iter_rows(named=True):
        if r["outcome"] == "PENDING":  # today's row the other side books later: out of today's totals
            side, sign = ("our" if r["our_source_file"] is not None else "their"), -1
        else:  # carried in: the side whose row is not in today's input booked it on an earlier day
            side, sign = ("our" if r["theirs_today"] else "their"), 1
        if r[f"{side}_status"] != "SUCCESS":  # the totals count only rows that moved money
            continue
        m = moved.setdefault((r[f"{side}_currency"], r[f"{side}_record_type"]), Moved())
        fig = getattr(m, side)
        fig[0] += sign
        fig[1] += sign * r[f"{side}_amount"]
        fig[2] += sign * (r[f"{side}_fee"] or Decimal(0))
        m.ids.append(r["match_key"] or r["our_txn_id"] or r["their_channel_txn_id"] or "?")
    # A combined payment is one row of ours and several channel lines: its extra lines are not a
    # difference in the count (its amount is compared line by line in layer 1 already). An N:M
    # group's extra members on either side (the rows whose other side is absent) are the same.
    grouped = layer1.filter(pl.col("group_id").is_not_null() & (pl.col("group_size") > 1)).collect()
    for side, alone in (("their", pl.col("our_amount").is_null()), ("our", pl.col("their_source_file").is_null())):
        extra = grouped.filter(alone & pl.col(f"{side}_source_file").is_not_null()
                               & (pl.col(f"{side}_status") == "SUCCESS"))
        for r in extra.iter_rows(named=True):
            m = moved.setdefault((r[f"{side}_currency"], r[f"{side}_record_type"]), Moved())
            getattr(m, side)[0] -= 1
            m.groups.add(r["group_id"])
    return moved


def _row(date: dt.date, g: dict, kind: str, ours: Decimal, theirs: Decimal, reason: str) -> ResultRow:
    return ResultRow(
        business_date=date, layer=LAYER, section=SECTION, channel=g["channel"], account=g["account"],
        currency=g["currency"], kind=kind, key=f"{g['record_type']}:{g['currency']}", our_amount=ours, their_amount=theirs,
        reason=reason, our_count=g["our_count"], their_count=g["their_count"],
        period_start=date, period_end=date,
    )


def _adjusted(g: dict, m: Moved | None) -> dict:
    if m is None:
        return g
    g = dict(g)
    for side in ("our", "their"):
        n, amount, fee = getattr(m, side)
        g[f"{side}_count"] += n
        g[f"{side}_amount"] += amount
        g[f"{side}_fee"] += fee
        g[f"{side}_net"] += amount - fee
    return g


def compare_bills(date: dt.date, internal: pl.DataFrame, bill: pl.DataFrame, channel: str,
                  account: str, tolerance: Decimal = Decimal("0"),
                  moved: dict[tuple[str, str], Moved] | None = None) -> list[ResultRow]:
    """Layer-2 bill rows for one channel and day: one per group, BILL_OK or its one difference."""
    rows: list[ResultRow] = []
    for raw in summarise(internal, bill, channel, account).iter_rows(named=True):
        cur, rtype = raw["currency"], raw["record_type"]
        m = (moved or {}).get((cur, rtype))
        g = _adjusted(raw, m)
        what = f"{rtype} {cur} on {date}"
        money = lambda v: money_text(v, cur)  # noqa: E731
        facts = []
        if g["our_count"] != g["their_count"]:
            facts.append(f"we have {g['our_count']} rows, the channel's bill has {g['their_count']}")
        amounts = abs(g["their_amount"] - g["our_amount"]) > tolerance
        if amounts:
            facts.append(f"our total is {money(g['our_amount'])}, the channel's is {money(g['their_amount'])}")
        fees = abs(g["their_fee"] - g["our_fee"]) > tolerance
        if fees:
            facts.append(f"we expect fees of {money(g['our_fee'])}, the channel charged {money(g['their_fee'])}")
        notes = []
        if m is not None and m.ids:
            notes.append(f"counting {len(m.ids)} row(s) layer 1 found across midnight on the day the channel "
                         f"bills them: {', '.join(sorted(m.ids)[:5])}{', ...' if len(m.ids) > 5 else ''}")
        if m is not None and m.groups:
            notes.append(f"{len(m.groups)} combined payment(s) counted once: {', '.join(sorted(m.groups)[:5])}")
        note = f" ({'; '.join(notes)})" if notes else ""
        if not facts:
            rows.append(_row(date, g, "BILL_OK", g["our_net"], g["their_net"],
                             f"{what}: {g['our_count']} rows, net {money(g['our_net'])} on both sides{note}"))
        elif amounts or not fees:
            kind = "BILL_AMOUNT_MISMATCH" if amounts else "BILL_COUNT_MISMATCH"
            rows.append(_row(date, g, kind, g["our_amount"], g["their_amount"], f"{what}: {'; '.join(facts)}{note}"))
        else:
            rows.append(_row(date, g, "BILL_FEE_MISMATCH", g["our_fee"], g["their_fee"],
                             f"{what}: {'; '.join(facts)}{note}"))
    return rows
