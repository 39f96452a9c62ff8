"""Stripe Reporting API CSVs: balance change / payout reconciliation reports, itemized.

Stripe's report runs (`balance_change_from_activity.itemized.*`, `payout_reconciliation.itemized.*`,
`...by_id.itemized.*`) are CSVs whose columns depend on what was requested, so they are read by
header name. Unlike the API, the CSV amounts `gross`, `fee`, `net` are in MAJOR units of the
row's currency (yen for JPY, which therefore has no decimals; three for KWD); `gross` is signed
(money to the merchant > 0), `fee` is positive, `net = gross - fee`. Currencies may be lower-case.

A Stripe report has no footer, so what can be verified is per row: `net` equals `gross - fee`
exactly, and no amount is finer than its currency allows. The checks say "no control totals" so
nobody mistakes a Stripe bill for one that was balanced against the channel's own sums.
Times: `created_utc` when requested, else `created`, which is in the report's `timezone`
parameter; Stripe's default for that parameter is UTC, which is what we assume (and say).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar

import polars as pl

from parsers.base import ParseContext, ParsedStatement, Sample
from parsers.table import Rule, Verdict, amount, currency_exponents, minor_unit, required, scientific_id, time
from parsers.csv_common import LINE, Layout, header_has, read_records
from recon.errors import Problem, StatementRejected
from recon.schema import MONEY, UTC_TIME

LAYOUT = Layout(
    required=("balance_transaction_id", "currency", "gross", "fee", "net", "reporting_category"),
    optional=(
        "created_utc", "created", "available_on_utc", "available_on", "charge_id", "payment_intent_id",
        "source_id", "automatic_payout_id", "description", "connected_account", "customer_facing_currency",
    ),
)
ID_COLUMNS = ("balance_transaction_id", "charge_id", "payment_intent_id", "source_id", "automatic_payout_id")
# The columns the bill is made from; the others are declared only so that they are recognised.
USED = (*LAYOUT.required, "created_utc", "created", "charge_id", "payment_intent_id", "source_id",
        "automatic_payout_id", "description", "connected_account")

# reporting_category -> record type (Stripe's category list, docs "Reporting categories").
# A category not listed here is OTHER and a warning, never silently a payment.
CATEGORIES: dict[str, str] = {
    "charge": "PAYMENT", "payment": "PAYMENT", "charge_failure": "PAYMENT", "payment_failure": "PAYMENT",
    "refund": "REFUND", "refund_failure": "REFUND", "payment_reversal": "REFUND",
    "partial_capture_reversal": "ADJUSTMENT",
    "dispute": "CHARGEBACK", "dispute_reversal": "CHARGEBACK",
    "payout": "PAYOUT", "payout_reversal": "PAYOUT",
    "fee": "FEE", "tax": "FEE", "platform_earning": "FEE", "platform_earning_refund": "FEE",
    "adjustment": "ADJUSTMENT", "other_adjustment": "ADJUSTMENT", "transfer": "ADJUSTMENT",
    "transfer_reversal": "ADJUSTMENT", "topup": "ADJUSTMENT", "topup_reversal": "ADJUSTMENT",
    "connect_reserved_funds": "ADJUSTMENT", "risk_reserved_funds": "ADJUSTMENT",
    "anticipation_repayment": "ADJUSTMENT", "climate_order_purchase": "FEE", "climate_order_refund": "FEE",
}


class StripeBalanceParser:
    kind = "channel"
    rule_family = "stripe"
    format_id: ClassVar[str] = "stripe.balance"
    description: ClassVar[str] = "Stripe Reporting API itemized balance / payout reconciliation CSV"

    def identify(self, sample: Sample) -> bool:
        return header_has(sample, ("balance_transaction_id", "reporting_category", "gross", "fee", "net", "currency"))

    def parse(self, path: Path, ctx: ParseContext) -> ParsedStatement:
        file = ctx.source_name or str(path)

        def has_time(cols: dict[str, str]) -> None:
            if "created_utc" not in cols and "created" not in cols:
                raise StatementRejected(file, 1, "unknown column layout: neither created_utc nor created", code="layout")

        cols, frame = read_records(path, file, LAYOUT, USED, check_columns=has_time)
        return _standardize(frame, cols, ctx, file)


def _standardize(frame: pl.DataFrame, cols: dict[str, str], ctx: ParseContext, file: str) -> ParsedStatement:
    time_col = "created_utc" if "created_utc" in cols else "created"
    # In the order a reader would look: presence, ids, currencies, amounts, then the arithmetic.
    first = [*required(("balance_transaction_id", "currency", "gross", "fee", "net", "reporting_category", time_col)),
             *(scientific_id(c, c) for c in ID_COLUMNS if c in cols)]
    frame = frame.with_columns(pl.col("currency").str.to_uppercase())
    exps = currency_exponents(frame, "currency", file, ctx.rules.exponent_override, before=first, line=LINE)
    amounts = {c: amount(c, c, None, blank="null") for c in ("gross", "fee", "net")}
    Verdict(frame, [*first, *(r for c, (_, rule) in amounts.items() for r in (rule, minor_unit(c, "currency", exps)))],
            file, line=LINE).refuse()
    local, local_rule = time(time_col, time_col)  # the toolkit's grammar first: no signed years
    frame = frame.with_columns(*(value.alias(c) for c, (value, _) in amounts.items()), local.alias("_time"))
    Verdict(frame, [
        Rule(pl.col("net") != pl.col("gross") - pl.col("fee"),
             lambda r: f"net {r['net']} != gross {r['gross']} - fee {r['fee']}", "row_total"),
        local_rule,
    ], file, line=LINE).refuse()
    frame = frame.with_columns(trade_time=pl.col("_time").dt.replace_time_zone("UTC").cast(UTC_TIME))

    warnings = []
    unknown = frame.filter(~pl.col("reporting_category").is_in(list(CATEGORIES))).group_by("reporting_category").agg(pl.col(LINE).min())
    for cat, line in unknown.sort(LINE).iter_rows():
        warnings.append(Problem(file, line, f"unknown reporting_category {cat!r}: record type OTHER", code="unknown_code"))

    refund = pl.col("reporting_category").is_in(["refund", "refund_failure", "payment_reversal"])
    # The id our side knows a payment by is the charge (or intent), not Stripe's ledger entry `txn_`;
    # a refund row names the refunded charge and, in source_id, the refund itself (`re_`).
    ids = [pl.col(c) for c in ("charge_id", "payment_intent_id", "source_id") if c in cols]
    payment_ids = [pl.col(c) for c in ("charge_id", "payment_intent_id") if c in cols]
    txn_id = pl.coalesce([*ids, pl.col("balance_transaction_id")])
    refund_txn = pl.coalesce([*payment_ids, pl.col("balance_transaction_id")])
    refund_id = pl.col("source_id") if "source_id" in cols else pl.lit(None, pl.String)
    bill_date = ctx.bill_date or _derived_date(frame, ctx)
    account = pl.col("connected_account").fill_null(ctx.account or "") if "connected_account" in cols else pl.lit(ctx.account or "")
    bill = frame.select(
        pl.lit(ctx.channel).alias("channel"),
        account.alias("account"),
        pl.lit(bill_date, pl.Date).alias("bill_date"),
        pl.col("reporting_category").replace_strict(CATEGORIES, default="OTHER", return_dtype=pl.String).alias("record_type"),
        pl.when(refund).then(refund_txn).otherwise(txn_id).alias("channel_txn_id"),
        pl.lit(None, pl.String).alias("merchant_txn_id"),
        pl.when(refund).then(refund_id).alias("channel_refund_id"),
        pl.lit(None, pl.String).alias("merchant_refund_id"),
        "trade_time",
        "currency",
        pl.col("gross").alias("amount"),
        pl.col("fee"),
        pl.col("net").alias("net_amount"),
        pl.col("reporting_category").map_batches(
            lambda s: s.replace_strict({c: ctx.rules.status_of("reporting_category", c) for c in s.unique().to_list()}),
            return_dtype=pl.String,
        ).alias("status"),
        pl.lit(file).alias("source_file"),
        pl.col(LINE).alias("source_line"),
        pl.col("reporting_category").alias("raw_status"),
        (pl.col("automatic_payout_id") if "automatic_payout_id" in cols else pl.lit(None, pl.String)).alias("payout_id"),
        (pl.col("description") if "description" in cols else pl.lit(None, pl.String)).alias("memo"),
        pl.col("balance_transaction_id"),
    ).with_columns(pl.col(c).cast(MONEY) for c in ("amount", "fee", "net_amount"))
    checks = (
        f"{bill.height} rows: net = gross - fee on every row",
        f"amounts within currency exponents ({', '.join(f'{c}:{e}' for c, e in sorted(exps.items()))})",
        f"times from {time_col}" + ("" if time_col == "created_utc" else " read as UTC (Stripe's default report timezone)"),
        "no control totals: Stripe reports carry no footer to check against",
    )
    return ParsedStatement(bill=bill, checks=checks, warnings=tuple(warnings))


def _derived_date(frame: pl.DataFrame, ctx: ParseContext) -> dt.date | None:
    """Without a fetch date: the business day of the latest row (report intervals end on it)."""
    if frame.is_empty():
        return None  # no rows carry it
    return frame["trade_time"].max().astimezone(ctx.zone).date()  # type: ignore[union-attr]
