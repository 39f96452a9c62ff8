"""Layer 2, bill level (账单对账): our day's totals against the channel's, before any money moves.

Layer 1 pairs rows one by one; it can pass every pair and still miss that the channel's bill adds up
to something else: a fee line charged twice, a row only the totals show, a record type we do not
book at all. Here both sides are summarised per channel, account, currency and record type (count,
amount, fee, net) and compared as totals. Each group yields BILL_OK or one row per figure that
differs: BILL_COUNT_MISMATCH, BILL_AMOUNT_MISMATCH, BILL_FEE_MISMATCH, each naming both figures.

Our side is the internal frame (recon/internal.py columns) the caller loaded for the day; it has no
channel account, so its rows are labelled with the channel's configured account, or with the
bill's only account when none is configured.
"""

from __future__ import annotations

import datetime as dt
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


def summarise(internal: pl.DataFrame, bill: pl.DataFrame, channel: str, account: str) -> pl.DataFrame:
    """Both sides' totals per (channel, account, currency, record_type), one row per group."""
    ours = _our_rows(internal if internal.height else pl.DataFrame(schema=INTERNAL_COLUMNS), channel, account)
    theirs = bill.filter(pl.col("channel") == channel)
    return query("bill_summary", our_rows=ours, their_rows=theirs)


def _row(date: dt.date, g: dict, kind: str, ours: Decimal, theirs: Decimal, reason: str) -> ResultRow:
    return ResultRow(
        business_date=date, layer=LAYER, section=SECTION, channel=g["channel"], account=g["account"],
        currency=g["currency"], kind=kind, key=f"{g['record_type']}:{g['currency']}", our_amount=ours, their_amount=theirs,
        reason=reason, our_count=g["our_count"], their_count=g["their_count"],
        period_start=date, period_end=date,
    )


def compare_bills(date: dt.date, internal: pl.DataFrame, bill: pl.DataFrame, channel: str,
                  account: str, tolerance: Decimal = Decimal("0")) -> list[ResultRow]:
    """Layer-2 bill rows for one channel and day."""
    rows: list[ResultRow] = []
    for g in summarise(internal, bill, channel, account).iter_rows(named=True):
        cur, rtype = g["currency"], g["record_type"]
        what = f"{rtype} {cur} on {date}"
        found = False
        if g["our_count"] != g["their_count"]:
            found = True
            rows.append(_row(date, g, "BILL_COUNT_MISMATCH", g["our_amount"], g["their_amount"],
                             f"{what}: we have {g['our_count']} rows, the channel's bill has {g['their_count']}"))
        if abs(g["their_amount"] - g["our_amount"]) > tolerance:
            found = True
            rows.append(_row(date, g, "BILL_AMOUNT_MISMATCH", g["our_amount"], g["their_amount"],
                             f"{what}: our total is {money_text(g['our_amount'], cur)}, "
                             f"the channel's is {money_text(g['their_amount'], cur)}"))
        if abs(g["their_fee"] - g["our_fee"]) > tolerance:
            found = True
            rows.append(_row(date, g, "BILL_FEE_MISMATCH", g["our_fee"], g["their_fee"],
                             f"{what}: we expect fees of {money_text(g['our_fee'], cur)}, "
                             f"the channel charged {money_text(g['their_fee'], cur)}"))
        if not found:
            rows.append(_row(date, g, "BILL_OK", g["our_net"], g["their_net"],
                             f"{what}: {g['our_count']} rows, net {money_text(g['our_net'], cur)} on both sides"))
    return rows
