"""PayPal Settlement Report (STL, `STL-yyyymmdd.<seq>.<ver>.CSV`) from PayPal's SFTP reports.

Every line starts with a row type: RH report header, FH file header, SH section header, CH column
names for the SB body rows that follow, SF per-currency section footer, SC section count, RF/RC the
same for the report, FF file footer. SB rows are mapped by the CH names, never by position.
Amounts are unsigned integers x100 for EVERY currency (PayPal: "100,00 yen and $100.00 USD are both
10000"), so the exponent is PayPal's 2, not ISO's; a JPY amount that is not whole yen then has more
decimals than JPY allows and is rejected. Direction comes from separate CR/DR columns for the gross
and for the fee. Times are `YYYY/MM/DD HH:MM:SS -0800`.

Checks before anything is emitted: the row-type grammar (RH first or a later file of a split
report, FF last), each section's SC count and SF totals (gross CR/DR, fee CR/DR, count) against its
SB rows, RC/RF the same over the report, FF against the file. Reports above 1M records are split
into sequenced files (FH `02`...): RH only in the first file, RF/RC only in the last; such a file
is parsed on its own and its sequence number is stated in the checks.
SF/RF field order (currency, gross CR, gross DR, fee CR, fee DR, balance pairs, count) is inferred
from samples (FORMATS.md §13); the balance pairs are not checked.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import ClassVar

import polars as pl

from parsers.base import ParseContext, ParsedStatement, Sample
from parsers.csv_common import LINE, Layout, norm, physical_lines, read_text, records, reject_first, require_values, sample_text
from parsers.paypal_structure import Structure, check_footers, read_structure
from recon.errors import Problem, StatementRejected
from recon.money import exponent
from recon.schema import MONEY, UTC_TIME

# PayPal writes every currency x100 (its spec, not ISO 4217); rules may still override one currency.
PAYPAL_EXPONENT = 2
# T-code -> record type. The event group (first three characters) is enough for most codes
# (PayPal: "the event group portion is sufficient for report parsing"); T11xx and T12xx mix
# refunds, reversals, holds and chargebacks, so those are listed code by code. A code in neither
# table is OTHER with a warning: never silently a payment.
CODES: dict[str, str] = {
    "T1105": "ADJUSTMENT", "T1106": "CHARGEBACK", "T1107": "REFUND", "T1108": "FEE", "T1110": "ADJUSTMENT",
    "T1111": "ADJUSTMENT", "T1201": "CHARGEBACK", "T1202": "CHARGEBACK", "T1203": "ADJUSTMENT",
    "T1204": "ADJUSTMENT", "T1207": "CHARGEBACK",
}
GROUPS: dict[str, str] = {
    "T00": "PAYMENT", "T01": "FEE", "T02": "ADJUSTMENT", "T03": "ADJUSTMENT", "T04": "PAYOUT",
    "T15": "ADJUSTMENT", "T19": "ADJUSTMENT", "T21": "ADJUSTMENT",
}
_TIME_FORMAT = "%Y/%m/%d %H:%M:%S %z"

LAYOUT = Layout(
    required=(
        "Transaction ID", "Invoice ID", "PayPal Reference ID", "PayPal Reference ID Type", "Transaction Event Code",
        "Transaction Initiation Date", "Transaction Completion Date", "Transaction Debit or Credit",
        "Gross Transaction Amount", "Gross Transaction Currency", "Fee Debit or Credit", "Fee Amount", "Fee Currency",
    ),
    optional=("Custom Field", "Consumer ID", "Payment Tracking ID", "Store ID", "Bank Reference ID"),
)
_STL_MARKERS = {norm(c) for c in ("Transaction Event Code", "Gross Transaction Amount", "Fee Debit or Credit")}
# The Transaction Detail Report (TRR) shares the row grammar but lists non-settling events too.
_TRR_MARKER = norm("Transactional Status")


class PayPalStlParser:
    format_id: ClassVar[str] = "paypal.stl"
    description: ClassVar[str] = "PayPal Settlement Report (STL) CSV, SFTP reports v8/v9"

    def identify(self, sample: Sample) -> bool:
        text = sample_text(sample, utf16=True)
        if not text:
            return False
        first = text.lstrip().split("\n", 1)[0]
        if _row_type(first) not in {"RH", "FH", "SH", "CH"}:
            return False
        for line in text.split("\n")[:12]:
            if _row_type(line) == "CH":
                names = {norm(c) for c in _cells(line)}
                return _STL_MARKERS <= names and _TRR_MARKER not in names
        return False

    def parse(self, path: Path, ctx: ParseContext) -> ParsedStatement:
        file = ctx.source_name or str(path)
        lines = physical_lines(read_text(path, file, utf16=True))
        typed = lines.with_columns(
            pl.col("text").str.extract(r'^"?([A-Z]{2})"?(?:,|$)', 1).alias("row_type"),
            (pl.col("text").str.extract(r'^"?([A-Z]{2})"?(?:,|$)', 1) == "SH").cum_sum().alias("section"),
        ).filter(pl.col("text").str.strip_chars() != "")
        struct = read_structure(typed.filter(pl.col("row_type") != "SB"), file)
        if _TRR_MARKER in {norm(c) for c in struct.columns}:
            raise StatementRejected(file, struct.ch_line, "a Transaction Detail Report (TRR), not a Settlement Report", code="layout")
        cols = LAYOUT.resolve(struct.columns, file, struct.ch_line)
        body = typed.filter(pl.col("row_type") == "SB")
        before_ch = body.filter(pl.col(LINE) < struct.ch_line).head(1)
        if before_ch.height:
            raise StatementRejected(file, before_ch[LINE][0], "SB row before the CH column header", code="structure")
        frame = records(body.select("text", LINE), ["_row_type", *struct.columns], file)
        frame = frame.rename({v: k for k, v in cols.items()}).select([*cols, LINE]).join(
            body.select(LINE, "section"), on=LINE, how="left"
        )
        bill, warnings = _standardize(frame, struct, ctx, file)
        checks = check_footers(bill, struct, file)
        internal = [c for c in bill.columns if c.startswith("_")] + ["section"]
        return ParsedStatement(bill=bill.drop(internal), checks=checks, warnings=warnings)


def _row_type(line: str) -> str | None:
    head = line.lstrip("\ufeff")[:5].replace('"', "")
    code = head.split(",", 1)[0]
    return code if len(code) == 2 and code.isalpha() and code.isupper() else None


def _cells(line: str) -> list[str]:
    return next(csv.reader(io.StringIO(line)), [])


def _standardize(frame: pl.DataFrame, st: Structure, ctx: ParseContext, file: str) -> tuple[pl.DataFrame, tuple[Problem, ...]]:
    gross, fee = "Gross Transaction Amount", "Fee Amount"
    require_values(frame, ("Transaction ID", "Transaction Event Code", "Transaction Initiation Date",
                           "Transaction Debit or Credit", gross, "Gross Transaction Currency"), file)
    reject_first(frame, ~pl.col("Transaction Debit or Credit").is_in(["CR", "DR"]), file,
                 lambda r: f"Transaction Debit or Credit {r['Transaction Debit or Credit']!r} is not CR or DR", "direction")
    reject_first(frame, pl.col(fee).is_not_null() & ~pl.col("Fee Debit or Credit").is_in(["CR", "DR"]), file,
                 lambda r: f"Fee Debit or Credit {r['Fee Debit or Credit']!r} is not CR or DR", "direction")
    reject_first(frame, pl.col(fee).is_null() & pl.col("Fee Debit or Credit").is_not_null(), file,
                 lambda r: "fee direction given without a fee amount", "direction")
    for col in (gross, fee):
        reject_first(frame, pl.col(col).is_not_null() & ~pl.col(col).str.contains(r"^\d+$"), file,
                     lambda r, c=col: f"{c} {r[c]!r} is not an unsigned integer of minor units", "amount")
    reject_first(frame, pl.col(fee).is_not_null() & (pl.col("Fee Currency") != pl.col("Gross Transaction Currency")), file,
                 lambda r: f"fee currency {r['Fee Currency']} differs from gross currency {r['Gross Transaction Currency']}", "currency")

    exps: dict[str, int] = {}
    for cur in frame["Gross Transaction Currency"].unique().to_list():
        override = ctx.rules.exponent_override(cur)
        exps[cur] = override if override is not None else PAYPAL_EXPONENT
        # x100 for JPY is a convention, not precision: a JPY amount must still be whole yen.
        excess = exps[cur] - exponent(cur)
        if excess > 0:
            unit = 10**excess
            reject_first(frame, (pl.col("Gross Transaction Currency") == cur) & (
                (pl.col(gross).cast(pl.Int64) % unit != 0) | (pl.col(fee).cast(pl.Int64).fill_null(0) % unit != 0)), file,
                lambda r, c=cur: f"amount has more decimals than {c} allows", "amount_scale")

    def major(col: str) -> pl.Expr:
        # recon.money.from_minor, column-wise: pad, then put the point `e` digits from the right.
        out = pl.lit(None, MONEY)
        for cur, e in exps.items():
            digits = pl.col(col).str.zfill(e + 1)
            text = digits.str.head(-e) + "." + digits.str.tail(e) if e else digits
            out = pl.when(pl.col("Gross Transaction Currency") == cur).then(text.cast(MONEY)).otherwise(out)
        return out

    times = pl.col("Transaction Initiation Date").str.strptime(pl.Datetime("us", "UTC"), _TIME_FORMAT, strict=False)
    reject_first(frame, times.is_null(), file,
                 lambda r: f"Transaction Initiation Date {r['Transaction Initiation Date']!r} is not YYYY/MM/DD HH:MM:SS +hhmm", "time")
    code = pl.col("Transaction Event Code")
    known = code.is_in(list(CODES)) | code.str.head(3).is_in(list(GROUPS))
    warnings = tuple(
        Problem(file, line, f"unknown PayPal event code {c!r}: record type OTHER", code="unknown_code")
        for c, line in frame.filter(~known).group_by("Transaction Event Code").agg(pl.col(LINE).min()).sort(LINE).iter_rows()
    )
    rtype = code.replace_strict(CODES, default=code.str.head(3).replace_strict(GROUPS, default="OTHER"), return_dtype=pl.String)
    sections = pl.DataFrame(
        {"section": [s.index for s in st.sections],
         "_account": [s.account or st.account or ctx.account or "" for s in st.sections],
         "_date": [ctx.bill_date or dt.datetime.strptime(s.start[:10], "%Y/%m/%d").date() for s in st.sections]},
        schema={"section": pl.UInt32, "_account": pl.String, "_date": pl.Date},
    )
    frame = frame.with_columns(
        major(gross).alias("_gross"), major(fee).fill_null(0).cast(MONEY).alias("_fee"), rtype.alias("record_type"),
        times.alias("trade_time"),
    ).join(sections, on="section", how="left")
    amount = pl.when(pl.col("Transaction Debit or Credit") == "CR").then(pl.col("_gross")).otherwise(-pl.col("_gross"))
    fee_signed = pl.when(pl.col("Fee Debit or Credit") == "CR").then(-pl.col("_fee")).otherwise(pl.col("_fee"))
    # A refund or chargeback is its own transaction whose Reference ID names the original payment.
    on_original = pl.col("record_type").is_in(["REFUND", "CHARGEBACK"]) & (pl.col("PayPal Reference ID Type") == "TXN")
    opt = lambda c: pl.col(c) if c in frame.columns else pl.lit(None, pl.String)  # noqa: E731
    bill = frame.select(
        pl.lit(ctx.channel).alias("channel"),
        pl.col("_account").alias("account"),
        pl.col("_date").alias("bill_date"),
        "record_type",
        pl.when(on_original).then(pl.col("PayPal Reference ID")).otherwise(pl.col("Transaction ID")).alias("channel_txn_id"),
        pl.col("Invoice ID").alias("merchant_txn_id"),
        pl.when(pl.col("record_type") == "REFUND").then(pl.col("Transaction ID")).alias("channel_refund_id"),
        pl.lit(None, pl.String).alias("merchant_refund_id"),
        pl.col("trade_time").cast(UTC_TIME),
        pl.col("Gross Transaction Currency").alias("currency"),
        amount.cast(MONEY).alias("amount"),
        fee_signed.cast(MONEY).alias("fee"),
        (amount - fee_signed).cast(MONEY).alias("net_amount"),
        # status per distinct group, mapped column-wise (no Python call per row)
        code.str.head(3).replace_strict(
            {g: ctx.rules.status_of("event_group", g) for g in frame["Transaction Event Code"].str.head(3).unique().to_list()},
            return_dtype=pl.String).alias("status"),
        pl.lit(file).alias("source_file"),
        pl.col(LINE).alias("source_line"),
        code.alias("raw_status"),
        pl.when(pl.col("record_type") == "PAYOUT").then(pl.col("Transaction ID")).alias("payout_id"),
        opt("Consumer ID").alias("counterparty"),
        opt("Custom Field").alias("memo"),
        pl.col("Transaction ID").alias("event_txn_id"),
        "section",
        pl.col(gross).cast(pl.Int64).alias("_gross_minor"),
        pl.col("Transaction Debit or Credit").alias("_gross_dc"),
        pl.col("Gross Transaction Currency").alias("_gross_currency"),
        pl.col(fee).cast(pl.Int64).fill_null(0).alias("_fee_minor"),
        pl.col("Fee Debit or Credit").alias("_fee_dc"),
        pl.col("Fee Currency").alias("_fee_currency"),
    )
    return bill, warnings
