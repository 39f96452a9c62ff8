"""Adyen Settlement Details Report (`settlement_detail_report_batch_<N>.csv`).

One CSV per settlement batch, columns by header name: the set differs by account configuration
and report version (30 columns in 2016-2022 files, 32 with Booking Date, 49 in the 2025 layout),
and columns may be reordered. Amounts are unsigned major-unit decimals in separate Debit/Credit
columns: Gross in the transaction currency (GC), Net and the fees (Commission, Markup, Scheme Fees,
Interchange) in the settlement currency (NC). The bill row is in NC: `net_amount` = Net Credit -
Net Debit, `fee` = the four fee columns, `amount` = net + fee (the gross as converted by Adyen).
`Creation Date` is local time in the row's own `TimeZone` abbreviation (CET, PDT...).

Checks: per row, when GC = NC at rate 1, amount equals the gross exactly (otherwise within one NC
minor unit of gross x rate, Adyen's rounding being unpublished); per batch and currency, the
rows' net (excluding the payout) equals the MerchantPayout when the batch has one. Ids and
references in scientific notation (`ARN 1.2302025304E+022`, Excel damage) reject the file.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import polars as pl

from parsers.base import ParseContext, ParsedStatement, Sample
from parsers.table import Rule, Verdict, amount, currency_exponents, minor_unit, required, scientific_id, time
from parsers.csv_common import LINE, Layout, header_has, read_records
from recon.errors import Problem, StatementRejected
from recon.money import exponent
from recon.schema import MONEY, UTC_TIME

FEES = ("Commission (NC)", "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)")
LAYOUT = Layout(
    required=(
        "Merchant Account", "Psp Reference", "Merchant Reference", "Creation Date", "TimeZone", "Type",
        "Modification Reference", "Gross Currency", "Gross Debit (GC)", "Gross Credit (GC)", "Exchange Rate",
        "Net Currency", "Net Debit (NC)", "Net Credit (NC)", "Batch Number",
    ),
    optional=(*FEES, "Company Account", "Payment Method", "Modification Merchant Reference", "ARN",
              "Merchant Order Reference", "Dispute Reference"),
)
ID_COLUMNS = ("Psp Reference", "Merchant Reference", "Modification Reference", "Modification Merchant Reference",
              "ARN", "Merchant Order Reference", "Dispute Reference")
TYPES: dict[str, str] = {
    "Settled": "PAYMENT", "SettledBulk": "PAYMENT", "SettledInInstallments": "PAYMENT",
    "Refunded": "REFUND", "RefundedBulk": "REFUND", "RefundedReversed": "REFUND", "RefundedInInstallments": "REFUND",
    "Chargeback": "CHARGEBACK", "SecondChargeback": "CHARGEBACK", "ChargebackReversed": "CHARGEBACK",
    "ChargebackReversedCorrection": "CHARGEBACK", "ChargebackCorrection": "CHARGEBACK",
    "Fee": "FEE", "PaidOut": "PAYOUT", "MerchantPayout": "PAYOUT",
    "Balancetransfer": "ADJUSTMENT", "DepositCorrection": "ADJUSTMENT", "InvoiceDeduction": "ADJUSTMENT",
    "MiscCosts": "ADJUSTMENT", "ReserveAdjustment": "ADJUSTMENT", "ManualCorrected": "ADJUSTMENT",
    "MerchantPayin": "ADJUSTMENT", "CashOutFunding": "ADJUSTMENT",
}
# Abbreviation -> UTC offset in minutes. Only unambiguous ones: "CST" (US Central or China?) and
# "IST" are refused rather than guessed.
ZONES: dict[str, int] = {
    "UTC": 0, "GMT": 0, "WET": 0, "WEST": 60, "CET": 60, "CEST": 120, "EET": 120, "EEST": 180,
    "EST": -300, "EDT": -240, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    "AKST": -540, "AKDT": -480, "HST": -600, "BRT": -180, "SGT": 480, "HKT": 480, "JST": 540,
    "AEST": 600, "AEDT": 660,
}
_REFS_NOT_IDS = ("<auto>",)
# The columns the bill and its checks are made from (Company Account and Payment Method are not).
USED = (*LAYOUT.required, *FEES, *ID_COLUMNS)


class AdyenSettlementParser:
    kind = "channel"
    rule_family = "adyen"
    format_id: ClassVar[str] = "adyen.settlement"
    description: ClassVar[str] = "Adyen Settlement Details Report CSV (one settlement batch)"

    def identify(self, sample: Sample) -> bool:
        return header_has(sample, ("Merchant Account", "Psp Reference", "Type", "Net Currency", "Net Debit (NC)",
                                   "Batch Number"))

    def parse(self, path: Path, ctx: ParseContext) -> ParsedStatement:
        file = ctx.source_name or str(path)
        cols, frame = read_records(path, file, LAYOUT, USED)
        frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in FEES if c not in cols)
        return _standardize(frame, cols, ctx, file)


def _standardize(frame: pl.DataFrame, cols: dict[str, str], ctx: ParseContext, file: str) -> ParsedStatement:
    first = [*required(("Merchant Account", "Creation Date", "TimeZone", "Type", "Net Currency", "Batch Number")),
             *(scientific_id(c, c) for c in ID_COLUMNS if c in frame.columns)]
    net_exps = currency_exponents(frame, "Net Currency", file, ctx.rules.exponent_override, before=first, line=LINE)
    gross_exps = currency_exponents(frame, "Gross Currency", file, ctx.rules.exponent_override, before=first, line=LINE)
    nc, gc = ("Net Debit (NC)", "Net Credit (NC)", *FEES), ("Gross Debit (GC)", "Gross Credit (GC)")
    amounts = {c: amount(c, c, None, blank="null") for c in (*nc, *gc)}
    rate_text = pl.col("Exchange Rate")
    Verdict(frame, [
        *first,
        *(r for c in nc for r in (amounts[c][1], minor_unit(c, "Net Currency", net_exps))),
        *(r for c in gc for r in (amounts[c][1], minor_unit(c, "Gross Currency", gross_exps))),
        Rule(rate_text.is_not_null() & ~rate_text.str.contains(r"^\d+(?:\.\d+)?$"),
             lambda r: f"Exchange Rate {r['Exchange Rate']!r} is not a decimal", "amount"),
    ], file, line=LINE).refuse()
    local, local_rule = time("Creation Date", "Creation Date")  # the toolkit's grammar first: no signed years
    frame = frame.with_columns(*(amounts[c][0].fill_null(0).alias(c) for c in nc), *(amounts[c][0].alias(c) for c in gc)).with_columns(
        (pl.col("Net Credit (NC)") - pl.col("Net Debit (NC)")).cast(MONEY).alias("_net"),
        pl.sum_horizontal(*FEES).cast(MONEY).alias("_fee"),
        (pl.col("Gross Credit (GC)").fill_null(0) - pl.col("Gross Debit (GC)").fill_null(0)).cast(MONEY).alias("_gross"),
        pl.col("TimeZone").replace_strict(ZONES, default=None, return_dtype=pl.Int64).alias("_zone"),
        local.alias("_local"),
    ).with_columns((pl.col("_net") + pl.col("_fee")).cast(MONEY).alias("_amount"))
    Verdict(frame, [
        Rule((pl.col("Net Credit (NC)") != 0) & (pl.col("Net Debit (NC)") != 0), "both Net Debit and Net Credit are filled", "direction"),
        *_row_checks(frame),
        Rule(pl.col("_zone").is_null(), lambda r: f"unknown or ambiguous TimeZone {r['TimeZone']!r}", "bad_time"),
        local_rule,
    ], file, line=LINE).refuse()
    frame = frame.with_columns(
        (pl.col("_local") - pl.duration(minutes=pl.col("_zone"))).dt.replace_time_zone("UTC").cast(UTC_TIME).alias("trade_time"),
        pl.col("Type").replace_strict(TYPES, default="OTHER", return_dtype=pl.String).alias("record_type"),
    )
    checks = [*_check_batches(frame, file)]
    warnings = tuple(
        Problem(file, line, f"unknown Adyen record Type {t!r}: record type OTHER", code="unknown_code")
        for t, line in frame.filter(pl.col("record_type") == "OTHER").group_by("Type").agg(pl.col(LINE).min()).sort(LINE).iter_rows()
    )
    bill_date = ctx.bill_date or (local_max.date() if (local_max := frame["_local"].max()) else None)
    ref = lambda c: pl.when(~pl.col(c).is_in(_REFS_NOT_IDS)).then(pl.col(c)) if c in frame.columns else pl.lit(None, pl.String)  # noqa: E731
    is_refund = pl.col("record_type") == "REFUND"
    _crossed = (pl.col("Gross Currency") != pl.col("Net Currency")) & pl.col("Exchange Rate").is_not_null()
    bill = frame.select(
        pl.lit(ctx.channel).alias("channel"),
        pl.col("Merchant Account").alias("account"),
        pl.lit(bill_date, pl.Date).alias("bill_date"),
        "record_type",
        # Batch-level rows (Fee, MerchantPayout...) have no PSP reference; their own reference text
        # is the only id Adyen gives them.
        pl.coalesce("Psp Reference", "Modification Reference", pl.format("batch {} line {}", "Batch Number", LINE)).alias("channel_txn_id"),
        ref("Merchant Reference").alias("merchant_txn_id"),
        pl.when(is_refund).then(pl.col("Modification Reference")).alias("channel_refund_id"),
        pl.when(is_refund).then(ref("Modification Merchant Reference")).alias("merchant_refund_id"),
        "trade_time",
        pl.col("Net Currency").alias("currency"),
        pl.col("_amount").alias("amount"),
        pl.col("_fee").alias("fee"),
        pl.col("_net").alias("net_amount"),
        pl.col("Type").replace_strict({t: ctx.rules.status_of("type", t) for t in frame["Type"].unique().to_list()},
                                      return_dtype=pl.String).alias("status"),
        pl.lit(file).alias("source_file"),
        pl.col(LINE).alias("source_line"),
        pl.col("Type").alias("raw_status"),
        pl.col("Batch Number").alias("payout_id"),
        pl.col("Modification Reference").alias("memo"),
        pl.col("Gross Currency").alias("gross_currency"),
        pl.when(pl.col("Gross Currency").is_not_null()).then(pl.col("_gross")).alias("gross_amount"),
        # The rate Adyen booked (gross x rate = net + fees, checked above), for layer 1's FX
        # comparison (recon.matching.fx): written as the statement wrote it, only across currencies.
        pl.when(_crossed).then(pl.col("Exchange Rate")).alias("fx_rate"),
        pl.when(_crossed).then(pl.col("Gross Currency")).alias("fx_from"),
    )
    checks.append(f"{bill.height} rows: net = credit - debit, fee = commission + markup + scheme fees + interchange")
    return ParsedStatement(bill=bill, checks=tuple(checks), warnings=warnings)


def _row_checks(frame: pl.DataFrame) -> list[Rule]:
    """amount (NC) against gross (GC): exact in one currency at rate 1, else within one NC unit."""
    has_gross = pl.col("Gross Debit (GC)").is_not_null() | pl.col("Gross Credit (GC)").is_not_null()
    rate = pl.col("Exchange Rate").cast(pl.Decimal(38, 18), strict=False)
    same = (pl.col("Gross Currency") == pl.col("Net Currency")) & (rate == 1)
    converted = (pl.col("_gross").cast(pl.Decimal(38, 18)) * rate).cast(pl.Decimal(38, 18), strict=False)
    units = {c: Decimal(1).scaleb(-exponent(c)) for c in frame["Net Currency"].unique().to_list()}
    unit = pl.col("Net Currency").replace_strict(units, return_dtype=pl.Decimal(38, 6))
    return [
        Rule(has_gross & same & (pl.col("_amount") != pl.col("_gross")),
              lambda r: f"net {r['_net']} + fees {r['_fee']} != gross {r['_gross']} {r['Gross Currency']}", "row_total"),
        Rule(has_gross & ~same & rate.is_not_null() & ((converted - pl.col("_amount")).abs() >= unit),
              lambda r: f"net {r['_net']} + fees {r['_fee']} is not gross {r['_gross']} x rate {r['Exchange Rate']}", "row_total"),
    ]


def _check_batches(frame: pl.DataFrame, file: str) -> list[str]:
    """Per batch and currency: the rows' net (payout excluded) equals what the MerchantPayout paid."""
    payout = pl.col("Type") == "MerchantPayout"
    sums = frame.select("Batch Number", "Net Currency", "Type", "_net", LINE).group_by("Batch Number", "Net Currency").agg(
        pl.col("_net").filter(~payout).sum().alias("rows"),
        (-pl.col("_net").filter(payout)).sum().alias("paid"),
        payout.any().alias("has_payout"),
        pl.col(LINE).filter(payout).min().alias("line"),
    ).sort("Batch Number", "Net Currency")
    checks = []
    for batch, cur, rows, paid, has_payout, line in sums.iter_rows():
        if has_payout and rows != paid:
            raise StatementRejected(file, line, f"batch {batch} {cur}: rows net {rows} != MerchantPayout {paid}", code="batch_total")
        checks.append(f"batch {batch} {cur}: rows net {rows} = MerchantPayout {paid}" if has_payout
                      else f"batch {batch} {cur}: no MerchantPayout (balance {rows} carried); nothing to check it against")
    return checks


__all__ = ["AdyenSettlementParser"]
