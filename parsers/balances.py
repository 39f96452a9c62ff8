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
from recon.schema import BALANCE_COLUMNS, BILL_COLUMNS, MONEY, OPTIONAL_COLUMNS, UTC_TIME, conform

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


_MIDNIGHTS: dict[dt.date, dt.datetime] = {}


def _midnight(day: dt.date) -> dt.datetime:
    found = _MIDNIGHTS.get(day)
    if found is None:
        found = _MIDNIGHTS[day] = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
    return found


_BANK_EXTRAS: dict[str, pl.DataType] = {"value_date": pl.Date(), "bank_code": pl.String(), "statement_id": pl.String(),
                                        "entry_ref": pl.String(), "references": pl.String()}
ENTRY_FIELDS = ("statement_id", "account", "currency", "booking_date", "amount", "fee", "record_type",
                "channel_txn_id", "merchant_txn_id", "status", "raw_status", "value_date", "trade_time", "counterparty",
                "memo", "bank_code", "source_line", "entry_ref", "references")


class BillColumns:
    """A bank bill's rows as columns, one list per `Entry` field. A parser that reads a row's values
    appends them here directly (#24: no `Entry` object per row on the fast paths); `add` takes an
    `Entry` for the rows read the long way. `frame` is the standardized bill of those rows."""

    __slots__ = ENTRY_FIELDS

    def __init__(self) -> None:
        for name in ENTRY_FIELDS:
            setattr(self, name, [])

    def __len__(self) -> int:
        return len(self.amount)

    def add(self, e: Entry) -> None:
        for name in ENTRY_FIELDS:
            getattr(self, name).append(getattr(e, name))

    def extend_rows(self, rows: list[tuple]) -> None:
        """Rows of values in `ENTRY_FIELDS` order."""
        for name, values in zip(ENTRY_FIELDS, zip(*rows)):
            getattr(self, name).extend(values)

    def frame(self, *, channel: str, source_file: str, bill_date: dt.date | None,
              statement_dates: dict[str, dt.date]) -> pl.DataFrame:
        n, ctx = len(self), context()
        cols: dict[str, list] = {
            "channel": [channel] * n, "account": self.account,
            "bill_date": [bill_date or statement_dates.get(s, b) for s, b in zip(self.statement_id, self.booking_date)],
            "record_type": self.record_type, "channel_txn_id": self.channel_txn_id,
            "merchant_txn_id": self.merchant_txn_id,
            "channel_refund_id": [None] * n, "merchant_refund_id": [None] * n,
            "currency": self.currency, "amount": self.amount, "fee": self.fee,
            "status": self.status, "source_file": [source_file] * n, "source_line": self.source_line,
            "raw_status": self.raw_status, "settle_date": self.value_date, "payout_id": [None] * n,
            "counterparty": self.counterparty, "memo": self.memo, "value_date": self.value_date,
            "bank_code": self.bank_code,
            "statement_id": self.statement_id, "entry_ref": self.entry_ref, "references": self.references,
        }
        schema = {**BILL_COLUMNS, **OPTIONAL_COLUMNS, **_BANK_EXTRAS}
        # Some columns are worked out in the frame when they can be, for speed (Python datetimes and
        # Decimals convert slowly): with no bank time on any row, each row's time is its booking
        # day's midnight UTC; with no fee on any row, the fee is zero and the net is the amount.
        types, derived = dict(schema), []
        if any(self.trade_time):
            cols["trade_time"] = [t or _midnight(b) for t, b in zip(self.trade_time, self.booking_date)]
        else:
            cols["trade_time"], types["trade_time"] = self.booking_date, pl.Date()
            derived.append(pl.col("trade_time").cast(UTC_TIME))
        if any(self.fee):
            cols["net_amount"] = [normalize_zero(ctx.subtract(a, f)) for a, f in zip(self.amount, self.fee)]
        else:
            del types["net_amount"], types["fee"]
            derived += [pl.lit(0).cast(MONEY).alias("fee"), pl.col("amount").alias("net_amount")]
        frame = pl.DataFrame({name: cols[name] for name in types}, schema=types)
        return conform(frame.with_columns(derived) if derived else frame)


def bill_frame(entries: list[Entry], *, channel: str, source_file: str,
               bill_date: dt.date | None, statement_dates: dict[str, dt.date]) -> pl.DataFrame:
    """The standardized bill of a bank statement. `statement_dates` gives each statement's date
    (closing balance date, else last booking date) for when the caller did not fix `bill_date`."""
    cols = BillColumns()
    for e in entries:
        cols.add(e)
    return cols.frame(channel=channel, source_file=source_file, bill_date=bill_date, statement_dates=statement_dates)


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
