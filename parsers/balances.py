"""Bank statements as records: balances, entries, and the check that ties them together.

Layer 3 (account vs cash) compares our books with the bank's own word on the cash, so a bank
format yields two frames: the standardized bill (one row per booked line) and a balances frame
(`BALANCE_COLUMNS`: opening, closing, available... per account, currency and statement). All four
bank parsers (MT940/942, camt.05x, BAI2, OFX) build the same frozen records here, so the sign
convention, the record-type mapping and the balance check are written once:

    opening + sum(booked entries) == closing      (per statement and currency, exact Decimal)

A statement that fails it is rejected whole (`StatementRejected`, naming the statement id and the
three figures); the caller quarantines it. Entries carry signed amounts: credits > 0, debits < 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import polars as pl

from recon.errors import StatementRejected
from recon.money import context, normalize_zero
from recon.schema import BALANCE_COLUMNS, BILL_COLUMNS, OPTIONAL_COLUMNS, conform

UTC = dt.timezone.utc


class BalanceType(StrEnum):
    OPENING = "OPENING"  # MT940 :60F:, camt OPBD/PRCD, BAI2 010
    CLOSING = "CLOSING"  # MT940 :62F:, camt CLBD, BAI2 015, OFX LEDGERBAL
    AVAILABLE = "AVAILABLE"  # MT940 :64:, camt CLAV, BAI2 045, OFX AVAILBAL
    OPENING_AVAILABLE = "OPENING_AVAILABLE"  # camt OPAV, BAI2 040
    FORWARD_AVAILABLE = "FORWARD_AVAILABLE"  # MT940 :65:, camt FWAV
    INTERIM = "INTERIM"  # MT940 :60M:/:62M: (page breaks), camt ITBD
    INTERIM_AVAILABLE = "INTERIM_AVAILABLE"  # camt ITAV
    INFO = "INFO"  # camt INFO and anything else the bank reports




@dataclass(frozen=True, slots=True)
class Balance:
    account: str
    currency: str
    statement_id: str
    balance_date: dt.date
    balance_type: BalanceType
    amount: Decimal  # signed: a debit (overdrawn) balance is negative
    source_line: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One booked (or pending) statement line, already signed and classified."""

    statement_id: str
    account: str
    currency: str
    booking_date: dt.date
    amount: Decimal  # credit > 0, debit < 0
    record_type: str
    channel_txn_id: str
    source_line: int
    merchant_txn_id: str | None = None
    booked: bool = True  # pending / information-only entries do not move the booked balance
    status: str = "SUCCESS"
    raw_status: str | None = None
    value_date: dt.date | None = None
    trade_time: dt.datetime | None = None  # when the bank gives a time; else booking date 00:00 UTC
    fee: Decimal = Decimal(0)
    counterparty: str | None = None
    memo: str | None = None
    bank_code: str | None = None  # the bank's transaction code as written (NTRF, PMNT/RCDT/ESCT, 195...)
    # The bank's own reference of the entry (camt `Ntry/AcctSvcrRef`, else `NtryRef`), kept even when a
    # transaction's own reference became channel_txn_id, and every other reference the line states as
    # "path=value" pairs: a reference the file states is never dropped (#19).
    entry_ref: str | None = None
    references: str | None = None


# Bank transaction codes that name the line's nature better than its direction does. Keys are
# upper-case fragments of the code (SWIFT :61: type, ISO BkTxCd family/sub-family, OFX TRNTYPE);
# BAI2 has numeric ranges in parsers/bai2.py. Anything not listed: credit PAYMENT, debit PAYOUT.
CODE_RECORD_TYPES: dict[str, str] = {
    "CHG": "FEE", "COM": "FEE", "CHRG": "FEE", "COMM": "FEE", "FEES": "FEE", "SRVCHG": "FEE", "FEE": "FEE",
    "RTI": "CHARGEBACK", "CHBK": "CHARGEBACK", "UPDD": "CHARGEBACK", "RRTN": "CHARGEBACK", "RPCR": "CHARGEBACK",
    "INT": "ADJUSTMENT", "INTR": "ADJUSTMENT",
}


def classify(amount: Decimal, codes: tuple[str | None, ...] = (), *, reversal: bool = False) -> str:
    """Record type of a bank line: reversals are corrections (ADJUSTMENT), then the code, then the sign."""
    if reversal:
        return "ADJUSTMENT"
    for code in codes:
        if code and code.upper() in CODE_RECORD_TYPES:
            return CODE_RECORD_TYPES[code.upper()]
    return "PAYMENT" if amount >= 0 else "PAYOUT"


def check_balance(file: str, line: int | None, statement_id: str, currency: str,
                  opening: Decimal, movements: Decimal, closing: Decimal, what: str = "closing") -> str:
    """opening + movements == closing, exactly; the check's text for ParsedStatement.checks."""
    ctx = context()
    expected = normalize_zero(ctx.add(opening, movements))
    if expected != closing:
        raise StatementRejected(
            file, line,
            f"statement {statement_id} {currency}: opening {opening} + entries {movements} = {expected}, "
            f"but the bank's {what} balance is {closing} (off by {ctx.subtract(closing, expected)})",
            code="balance_mismatch",
        )
    return f"statement {statement_id} {currency}: opening {opening} + entries {movements} = {what} {closing}"


def entries_sum(entries: list[Entry] | tuple[Entry, ...]) -> Decimal:
    ctx = context()
    total = Decimal(0)
    for e in entries:
        if e.booked:  # the booked movement is the net: charges inside the booked amount are its fee
            total = ctx.add(total, ctx.subtract(e.amount, e.fee))
    return total


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


_BANK_EXTRAS: dict[str, pl.DataType] = {"value_date": pl.Date(), "bank_code": pl.String(), "statement_id": pl.String(),
                                        "entry_ref": pl.String(), "references": pl.String()}


def bill_frame(entries: list[Entry], *, channel: str, source_file: str,
               bill_date: dt.date | None, statement_dates: dict[str, dt.date]) -> pl.DataFrame:
    """The standardized bill of a bank statement. `statement_dates` gives each statement's date
    (closing balance date, else last booking date) for when the caller did not fix `bill_date`."""
    cols: dict[str, list] = {name: [] for name in (*BILL_COLUMNS, *OPTIONAL_COLUMNS, *_BANK_EXTRAS)}
    for e in entries:
        cols["channel"].append(channel)
        cols["account"].append(e.account)
        cols["bill_date"].append(bill_date or statement_dates.get(e.statement_id, e.booking_date))
        cols["record_type"].append(e.record_type)
        cols["channel_txn_id"].append(e.channel_txn_id)
        cols["merchant_txn_id"].append(e.merchant_txn_id)
        cols["channel_refund_id"].append(None)
        cols["merchant_refund_id"].append(None)
        cols["trade_time"].append(e.trade_time or _midnight(e.booking_date))
        cols["currency"].append(e.currency)
        cols["amount"].append(e.amount)
        cols["fee"].append(e.fee)
        cols["net_amount"].append(normalize_zero(context().subtract(e.amount, e.fee)))
        cols["status"].append(e.status)
        cols["source_file"].append(source_file)
        cols["source_line"].append(e.source_line)
        cols["raw_status"].append(e.raw_status)
        cols["settle_date"].append(e.value_date)
        cols["payout_id"].append(None)
        cols["counterparty"].append(e.counterparty)
        cols["memo"].append(e.memo)
        cols["value_date"].append(e.value_date)
        cols["bank_code"].append(e.bank_code)
        cols["statement_id"].append(e.statement_id)
        cols["entry_ref"].append(e.entry_ref)
        cols["references"].append(e.references)
    schema = {**BILL_COLUMNS, **OPTIONAL_COLUMNS, **_BANK_EXTRAS}
    return conform(pl.DataFrame(cols, schema=schema))


def concat_bills(frames: list[pl.DataFrame], *, channel: str, source_file: str) -> pl.DataFrame:
    """One bill from per-statement frames: building each statement's frame as soon as it closes
    keeps at most one statement's Python row objects alive, however long the file."""
    if not frames:
        return bill_frame([], channel=channel, source_file=source_file, bill_date=None, statement_dates={})
    return pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]


def balances_frame(balances: list[Balance], *, channel: str, source_file: str) -> pl.DataFrame:
    """The balances frame (`BALANCE_COLUMNS`), validated: no nulls where a balance needs a value."""
    frame = pl.DataFrame(
        {
            "channel": [channel] * len(balances),
            "account": [b.account for b in balances],
            "currency": [b.currency for b in balances],
            "statement_id": [b.statement_id for b in balances],
            "balance_date": [b.balance_date for b in balances],
            "balance_type": [str(b.balance_type) for b in balances],
            "amount": [b.amount for b in balances],
            "source_file": [source_file] * len(balances),
            "source_line": [b.source_line for b in balances],
        },
        schema=BALANCE_COLUMNS,
    )
    return validate_balances(frame, source_file)


def validate_balances(frame: pl.DataFrame, file: str) -> pl.DataFrame:
    """Schema and null checks for a balances frame (written beside the bill as Parquet)."""
    if dict(frame.schema) != BALANCE_COLUMNS:
        raise StatementRejected(file, None, f"balances frame has schema {dict(frame.schema)}", code="schema")
    for name in ("account", "currency", "statement_id", "balance_date", "balance_type", "amount"):
        nulls = frame[name].null_count()
        if nulls:
            raise StatementRejected(file, None, f"balances column {name!r} has {nulls} null value(s)", code="schema")
    bad = frame.filter(~pl.col("balance_type").is_in([str(t) for t in BalanceType]))
    if bad.height:
        raise StatementRejected(file, int(bad["source_line"][0]), f"unknown balance type {bad['balance_type'][0]!r}", code="schema")
    return frame
