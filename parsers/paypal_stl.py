"""PayPal Settlement Report (STL, `STL-yyyymmdd.<seq>.<ver>.CSV`) from PayPal's SFTP reports.

Every line starts with a row type: RH report header, FH file header, SH section header, CH column
names for the SB body rows that follow, SF per-currency section footer, SC section count, RF/RC the
same for the report, FF file footer. SB rows are mapped by the CH names, never by position.
Amounts are unsigned integers x100 for EVERY currency (PayPal: "100,00 yen and $100.00 USD are both
10000"), so the exponent is PayPal's 2, not ISO's; a JPY amount that is not whole yen then has more
decimals than JPY allows and is rejected. An amount cell is checked by the toolkit's one amount
grammar (parsers/table.py `amount`, no sign, no decimals): ASCII digits, at most 18 of them (a
longer or full-width number is refused naming its cell, where it used to stop polars' cast with an
error), a bare trailing point (`100.`) being the same whole number. Direction comes from separate CR/DR columns for the gross
and for the fee. Times are `YYYY/MM/DD HH:MM:SS -0800`.

Checks before anything is emitted: the row-type grammar (RH first or a later file of a split
report, FF last), each section's SC count and SF totals (gross CR/DR, fee CR/DR, count) against its
SB rows, RC/RF the same over the report, FF against the file. Reports above 1M records are split
into sequenced files (FH `02`...): RH only in the first file, RF/RC only in the last; such a file
is parsed on its own and its sequence number is stated in the checks.
SF/RF field order (currency, gross CR, gross DR, fee CR, fee DR, balance pairs, count) is inferred
from samples (FORMATS.md §13); the balance pairs are not checked.

A 1M-row report is read natively (see `parsers.csv_common`): the lines are classified by row type
in one polars pass, the body is read by `polars.read_csv` from the CH line on, and the SB rows are
trusted only when their bytes prove the reading exact; otherwise (and for UTF-16, after decoding)
the exact line-by-line reader decides, with the same rejections.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import polars as pl

from parsers.base import ParseContext, ParsedStatement, Sample
from parsers.csv_common import (
    BOM,
    LINE,
    Layout,
    native_blank_to_null,
    byte_facts,
    native_rows,
    norm,
    physical_lines,
    read_text,
    read_utf8,
    records,
    sample_text,
    value_bytes,
)
from parsers.table import Rule, Verdict, amount, local_time, quoted, required
from parsers.paypal_structure import ROW_TYPE, Structure, check_footers, read_structure, typed_lines
from recon.errors import Problem, StatementRejected
from recon.money import MAX_INTEGER_DIGITS, MONEY_SCALE, MoneyError, exponent
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
# What the bill is made from (Completion Date, Payment Tracking ID, Store ID, Bank Reference ID are not).
USED = ("Transaction ID", "Invoice ID", "PayPal Reference ID", "PayPal Reference ID Type", "Transaction Event Code",
        "Transaction Initiation Date", "Transaction Debit or Credit", "Gross Transaction Amount",
        "Gross Transaction Currency", "Fee Debit or Credit", "Fee Amount", "Fee Currency", "Custom Field", "Consumer ID")
_STL_MARKERS = {norm(c) for c in ("Transaction Event Code", "Gross Transaction Amount", "Fee Debit or Credit")}
# The Transaction Detail Report (TRR) shares the row grammar but lists non-settling events too.
_TRR_MARKER = norm("Transactional Status")


class PayPalStlParser:
    kind = "channel"
    rule_family = "paypal"
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
        native = _read_native(read_utf8(path, file, utf16=True), file)
        struct, frame = native if native is not None else _read_exact(path, file)
        bill, warnings = _standardize(frame, struct, ctx, file)
        checks = check_footers(bill, struct, file)
        internal = [c for c in bill.columns if c.startswith("_")] + ["section"]
        return ParsedStatement(bill=bill.drop(internal), checks=checks, warnings=warnings)


def _columns(struct: Structure, file: str) -> dict[str, str]:
    if _TRR_MARKER in {norm(c) for c in struct.columns}:
        raise StatementRejected(file, struct.ch_line, "a Transaction Detail Report (TRR), not a Settlement Report", code="layout")
    return LAYOUT.resolve(struct.columns, file, struct.ch_line)


def _read_native(data: bytes, file: str) -> tuple[Structure, pl.DataFrame] | None:
    """Skeleton and SB rows (declared columns, `_line`, `section`), or None for the exact reader.

    The bytes must first be whole UTF-8 text, so that no rejection below can overtake an encoding
    one. The SB rows are then proven like a one-table CSV, over SB lines only: their bytes, less
    their values' bytes, less their quotes (all quotes less those of the other lines), are
    rows x (width - 1) exactly when every SB row has the CH row's width and plain values.
    """
    facts = byte_facts(data, len(BOM) if data.startswith(BOM) else 0)
    lines = None if facts is None else typed_lines(data)
    if lines is None:
        return None
    struct = read_structure(lines.filter(pl.col("row_type").is_not_null()).select("row_type", "text", LINE), file)
    cols = _columns(struct, file)
    first_sb = lines.filter(pl.col("sb")).head(1)
    if first_sb.height and first_sb[LINE][0] < struct.ch_line:
        raise StatementRejected(file, first_sb[LINE][0], "SB row before the CH column header", code="structure")
    width = 1 + len(struct.columns)
    region = lines.slice(struct.ch_line - 1)
    # A CR inside an SB line may be dropped before a comma: the byte count could not tell.
    table = None if region.select(pl.col("cr").filter(pl.col("sb")).any()).item() else \
        native_rows(data, skip=struct.ch_line - 1, width=width)
    if table is None or table.height != region.height:
        return None
    sb = region["sb"]
    rows = int(sb.sum())
    # Sums over the SB rows: the whole table less its few other rows (no per-row join needed).
    others = lines.filter(~pl.col("sb"))
    chars = int(lines["n"].sum()) - int(others["n"].sum())
    quotes = facts.quotes - sum(t.count('"') for t in others["text"].to_list())
    value = value_bytes(table) - value_bytes(table[(~sb).arg_true()])
    if chars - value - quotes != rows * (width - 1):
        return None
    keep = [k for k in cols if k in USED]
    body = table.select(*(pl.col(f"_{1 + struct.columns.index(cols[k])}").alias(k) for k in keep), pl.col(LINE).cast(pl.Int64))
    first = int(sb.arg_true()[0]) if rows else 0
    # A one-section file has its SB rows in one block: a slice shares the columns, a gather copies.
    body = body.slice(first, rows) if sb.slice(first, rows).all() else body[sb.arg_true()]
    sh = lines.filter(pl.col("row_type") == "SH")[LINE]
    body = native_blank_to_null(body, keep, facts).with_columns(
        pl.lit(sh).search_sorted(pl.col(LINE), side="right").cast(pl.UInt32).alias("section"))
    return struct, body


def _read_exact(path: Path, file: str) -> tuple[Structure, pl.DataFrame]:
    lines = physical_lines(read_text(path, file, utf16=True))
    typed = lines.with_columns(
        pl.col("text").str.extract(ROW_TYPE, 1).alias("row_type"),
        (pl.col("text").str.extract(ROW_TYPE, 1) == "SH").cum_sum().alias("section"),
    ).filter(pl.col("text").str.strip_chars() != "")
    # A line without a row type (null) is neither structure nor body: `!=` keeps no null.
    struct = read_structure(typed.filter(pl.col("row_type") != "SB"), file)
    cols = _columns(struct, file)
    body = typed.filter(pl.col("row_type") == "SB")
    before_ch = body.filter(pl.col(LINE) < struct.ch_line).head(1)
    if before_ch.height:
        raise StatementRejected(file, before_ch[LINE][0], "SB row before the CH column header", code="structure")
    frame = records(body.select("text", LINE), ["_row_type", *struct.columns], file)
    frame = frame.rename({v: k for k, v in cols.items()}).select(*(k for k in cols if k in USED), LINE)
    return struct, frame.join(body.select(LINE, "section"), on=LINE, how="left")


def _row_type(line: str) -> str | None:
    head = line.lstrip("\ufeff")[:5].replace('"', "")
    code = head.split(",", 1)[0]
    return code if len(code) == 2 and code.isalpha() and code.isupper() else None


def _cells(line: str) -> list[str]:
    return next(csv.reader(io.StringIO(line)), [])


def _standardize(frame: pl.DataFrame, st: Structure, ctx: ParseContext, file: str) -> tuple[pl.DataFrame, tuple[Problem, ...]]:
    gross, fee = "Gross Transaction Amount", "Fee Amount"
    dc, fee_dc, cur_col = pl.col("Transaction Debit or Credit"), pl.col("Fee Debit or Credit"), pl.col("Gross Transaction Currency")
    # The offset (%z) keeps polars off its fast path; a day's report repeats each second many times.
    frame = frame.with_columns(_by_value(frame, "Transaction Initiation Date", lambda c: local_time(c, _TIME_FORMAT)).alias("_time"))
    # The toolkit's amount grammar with no decimals and no sign (PayPal states every amount as an
    # unsigned integer of minor units, x100): at most 18 digits, so each fits Int64; ASCII digits
    # only (a regex \d would pass a full-width digit that no cast then reads).
    minor = {c: _minor_units(c) for c in (gross, fee)}
    checks = [
        *required(("Transaction ID", "Transaction Event Code", "Transaction Initiation Date",
                   "Transaction Debit or Credit", gross, "Gross Transaction Currency")),
        Rule(~dc.is_in(["CR", "DR"]), lambda r: f"Transaction Debit or Credit {r['Transaction Debit or Credit']!r} is not CR or DR",
              "direction"),
        Rule(pl.col(fee).is_not_null() & ~fee_dc.is_in(["CR", "DR"]),
              lambda r: f"Fee Debit or Credit {r['Fee Debit or Credit']!r} is not CR or DR", "direction"),
        Rule(pl.col(fee).is_null() & fee_dc.is_not_null(), lambda r: "fee direction given without a fee amount", "direction"),
        *(rule for _, rule in minor.values()),
        Rule(pl.col(fee).is_not_null() & (pl.col("Fee Currency") != cur_col),
              lambda r: f"fee currency {r['Fee Currency']} differs from gross currency {r['Gross Transaction Currency']}", "currency"),
    ]
    exps: dict[str, int] = {}
    for cur in frame["Gross Transaction Currency"].drop_nulls().unique(maintain_order=True).to_list():
        override = ctx.rules.exponent_override(cur)
        exps[cur] = override if override is not None else PAYPAL_EXPONENT
        try:
            excess = exps[cur] - exponent(cur)
        except MoneyError:
            Verdict(frame, checks, file, line=LINE).refuse()  # what a reader would have rejected before reaching this code
            raise
        if excess > 0:
            # x100 for JPY is a convention, not precision: a JPY amount must still be whole yen.
            unit = 10**excess
            # null where the cell is not minor units: that is the minor-units rule's to refuse
            checks.append(Rule((cur_col == cur) & ((minor[gross][0] % unit != 0) | (minor[fee][0].fill_null(0) % unit != 0)),
                               f"amount has more decimals than {cur} allows", "amount_scale"))
    checks.append(Rule(pl.col("_time").is_null(), lambda r: (
        f"Transaction Initiation Date {r['Transaction Initiation Date']!r} is not YYYY/MM/DD HH:MM:SS +hhmm"), "bad_time"))
    Verdict(frame, checks, file, line=LINE).refuse()

    def major(kind: str) -> pl.Expr:
        # recon.money.from_minor, column-wise: minor units x 10^-e, exact in decimal arithmetic
        # while 10^-e fits MONEY's scale; else pad the digits and put the point in the text.
        if all(0 <= e <= MONEY_SCALE for e in exps.values()):
            unit = cur_col.replace_strict({c: Decimal(1).scaleb(-e) for c, e in exps.items()}, default=None, return_dtype=MONEY)
            return (pl.col(f"_{kind}_minor").cast(pl.Decimal(38, 0)) * unit).cast(MONEY)
        out = pl.lit(None, MONEY)
        for c, e in exps.items():
            digits = pl.col(f"_{kind}_minor").cast(pl.String).str.zfill(e + 1)
            text = digits.str.head(-e) + "." + digits.str.tail(e) if e else digits
            out = pl.when(cur_col == c).then(text.cast(MONEY)).otherwise(out)
        return out

    code = pl.col("Transaction Event Code")
    # Few distinct codes: map each once in Python, then look every row up (no per-row Python).
    codes = frame["Transaction Event Code"].unique(maintain_order=True).to_list()
    kinds = {c: CODES.get(c, GROUPS.get(c[:3], "OTHER")) for c in codes}
    unknown = [c for c in codes if c not in CODES and c[:3] not in GROUPS]
    warnings = tuple(
        Problem(file, line, f"unknown PayPal event code {c!r}: record type OTHER", code="unknown_code")
        for c, line in frame.filter(code.is_in(unknown)).group_by("Transaction Event Code").agg(pl.col(LINE).min()).sort(LINE).iter_rows()
    )
    rtype = code.replace_strict(kinds, return_dtype=pl.String)
    accounts = {s.index: s.account or st.account or ctx.account or "" for s in st.sections}
    dates = {s.index: ctx.bill_date or dt.datetime.strptime(s.start[:10], "%Y/%m/%d").date() for s in st.sections}
    frame = frame.with_columns(minor[gross][0].alias("_gross_minor"), minor[fee][0].fill_null(0).alias("_fee_minor"))
    frame = frame.with_columns(
        major("gross").alias("_gross"), major("fee").fill_null(0).cast(MONEY).alias("_fee"), rtype.alias("record_type"),
        pl.col("_time").alias("trade_time"),
        # per section, as a left join on it would give (null for a row outside every section)
        pl.col("section").replace_strict(accounts, default=None, return_dtype=pl.String).alias("_account"),
        pl.col("section").replace_strict(dates, default=None, return_dtype=pl.Date).alias("_date"),
    )
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
        code.replace_strict({c: ctx.rules.status_of("event_group", c[:3]) for c in codes}, return_dtype=pl.String).alias("status"),
        pl.lit(file).alias("source_file"),
        pl.col(LINE).alias("source_line"),
        code.alias("raw_status"),
        pl.when(pl.col("record_type") == "PAYOUT").then(pl.col("Transaction ID")).alias("payout_id"),
        opt("Consumer ID").alias("counterparty"),
        opt("Custom Field").alias("memo"),
        pl.col("Transaction ID").alias("event_txn_id"),
        "section",
        "_gross_minor",
        pl.col("Transaction Debit or Credit").alias("_gross_dc"),
        pl.col("Gross Transaction Currency").alias("_gross_currency"),
        "_fee_minor",
        pl.col("Fee Debit or Credit").alias("_fee_dc"),
        pl.col("Fee Currency").alias("_fee_currency"),
    )
    return bill, warnings


def _minor_units(cell: str) -> tuple[pl.Expr, Rule]:
    """The cell as Int64 minor units (null when blank or refused), and the toolkit's amount rule
    for it, worded for minor units."""
    value, rule = amount(cell, cell, 0, signed=False, blank="null", code="amount")
    why = quoted(cell, f"is not an unsigned integer of minor units (at most {MAX_INTEGER_DIGITS} digits)")
    return value.cast(pl.Int64), replace(rule, reason=why)


def _by_value(frame: pl.DataFrame, col: str, convert) -> pl.Series:
    """`convert(col)` computed once per distinct value and spread back over the rows, in order: for
    a costly parse of a column that repeats itself (times to the second, in a day's report)."""
    cells = frame.select(col)
    done = cells.unique().with_columns(convert(pl.col(col)).alias("_converted"))
    return cells.join(done, on=col, how="left", maintain_order="left", nulls_equal=True)["_converted"]
