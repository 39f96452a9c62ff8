"""BAI2 (Cash Management Balance Reporting Specification v2) -> standardized bill + balances.

A file nests groups (02/98) of accounts (03/49) between a file header and trailer (01/99). `16` is
one transaction, `03` the account's summary (type code, amount, item count, funds type repeated),
and `88` continues the previous record anywhere, even in the middle of a summary group (moj#50);
some banks continue on a new line without the `88` (moov PR #104). Records end with `/`, except the
text of a `16`, which runs to the end of the record and may hold commas and slashes.

Amounts are integers in the currency's minor units (implied decimals: `recon.money.from_minor`),
possibly signed, blank meaning zero. A `16` amount is unsigned: its type code gives the direction
(100-399 credit, 400-699 debit); any other detail code has no defined direction and is rejected.
How many fields follow a funds type depends on it (`S` three amounts, `V` a date and time, `D` a
count then pairs), which is why fields are read by walking, never by position.

Checks (a mismatch rejects the file): 49, 98 and 99 control totals (the algebraic sum of every
amount written in the 03 and 16 records beneath them) and record counts (88s included), 98's
account count and 99's group count; and opening ledger (010) + entries = closing ledger (015)
where an account reports both.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Iterator

from parsers.balances import (
    Balance,
    BalanceType,
    Entry,
    balances_frame,
    bill_frame,
    check_balance,
    classify,
    entries_sum,
)
from parsers.base import ParseContext, ParsedStatement, Sample
from parsers.registry import read_payload
from parsers.text import decode_strict
from recon.errors import StatementRejected
from recon.money import MoneyError, from_minor

_BALANCE_CODES = {
    "010": BalanceType.OPENING, "015": BalanceType.CLOSING, "040": BalanceType.OPENING_AVAILABLE,
    "045": BalanceType.AVAILABLE, "030": BalanceType.INTERIM, "060": BalanceType.INTERIM_AVAILABLE,
}
# Detail codes whose nature is not their direction (BAI2 code list): fees and returned deposits.
_CODE_TYPES = {"661": "FEE", "698": "FEE", "555": "CHARGEBACK"}


@dataclass(slots=True)
class Rec:
    code: str
    text: str  # the logical record, continuations joined, without the record code
    line: int
    physical: int = 1  # records counted by the trailers: the record and its 88s


def records(text: str) -> Iterator[Rec]:
    current: Rec | None = None
    for number, raw in _physical(text):
        line = raw.rstrip()  # lines padded to 80 columns (moj#14), trailing spaces after '/'
        if not line:
            continue
        m = re.match(r"^(\d{2}),", line)
        if m and m.group(1) == "88" and current is not None:
            current.text = _join(current, line[3:])
            current.physical += 1
        elif m:
            if current:
                yield current
            current = Rec(m.group(1), line[3:], number)
        elif current is not None:  # continuation on a new line without "88" (moov PR #104)
            current.text = _join(current, line)
        else:
            raise StatementRejected("", number, f"not a BAI2 record: {line[:40]!r}", code="syntax")
    if current:
        yield current


# Some exports run records together on one line ("...,2/   02,1031...,2/"): a '/' then spaces then
# a record code starts a new record.
_RUN_ON = re.compile(r"(?<=/)\s+(?=(?:0[123]|16|49|88|98|99),)")


def _physical(text: str) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        for piece in _RUN_ON.split(raw):
            yield number, piece


def _join(rec: Rec, more: str) -> str:
    if rec.code == "16":
        return rec.text + " " + more  # continued free text
    return rec.text.rstrip().removesuffix("/") + "," + more


def _fields(text: str) -> list[str]:
    return text.rstrip().removesuffix("/").split(",")


@dataclass(slots=True)
class _Totals:
    total: int = 0  # control totals add the integers as written, across currencies
    physical: int = 0
    children: int = 0


@dataclass(slots=True)
class _Account:
    number: str
    currency: str
    line: int
    balances: list[Balance] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    totals: _Totals = field(default_factory=_Totals)


class Bai2Parser:
    kind = "bank"
    rule_family = "bank"
    format_id = "bai2"
    description = "BAI2 cash management balance report (prior-day / intraday)"

    def identify(self, sample: Sample) -> bool:
        return re.match(rb"\A\s*01,[^,\r\n]*,[^,\r\n]*,\d{6},\d{2}:?\d{2}(?::\d{2})?,[^\r\n]*?,2/", sample.head) is not None \
            and re.search(rb"(?:^|/\s*)02,", sample.head, re.M) is not None

    def parse(self, path: Path, ctx: ParseContext) -> ParsedStatement:
        name = ctx.source_name or str(path)
        text = decode_strict(read_payload(path), "utf-8", name)
        return _Reader(name, ctx).read(text)


# Fields a record needs before its optional parts: 02 receiver..as-of date, 03 account and currency.
_MIN_FIELDS = {"02": 4, "03": 2}


class _Reader:
    def __init__(self, file: str, ctx: ParseContext) -> None:
        self.file, self.ctx = file, ctx
        self.entries: list[Entry] = []
        self.balances: list[Balance] = []
        self.checks: list[str] = []
        self.dates: dict[str, dt.date] = {}

    def fail(self, line: int | None, reason: str, code: str = "control_total") -> StatementRejected:
        return StatementRejected(self.file, line, reason, code=code)

    def minor(self, text: str, currency: str, line: int) -> Decimal:
        text = text.strip()
        try:
            return from_minor(text, currency, exp=self.ctx.rules.exponent_override(currency)) if text else Decimal(0)
        except MoneyError as exc:
            raise self.fail(line, str(exc), "amount") from None

    def read(self, text: str) -> ParsedStatement:
        file_tot, group_tot = _Totals(), _Totals()
        account: _Account | None = None
        group_ccy, as_of, seen_99 = "USD", dt.date.min, False
        for rec in records(text):
            f = _fields(rec.text)
            if len(f) < _MIN_FIELDS.get(rec.code, 0):  # a record cut short (truncated file) names its line
                raise self.fail(rec.line, f"record {rec.code} has {len(f)} fields, at least {_MIN_FIELDS[rec.code]} expected", "truncated")
            file_tot.physical += rec.physical
            group_tot.physical += rec.physical
            if account is not None:
                account.totals.physical += rec.physical
            if rec.code == "01":
                file_tot = _Totals(physical=rec.physical)
            elif rec.code == "02":
                group_tot = _Totals(physical=rec.physical)
                as_of = _date(f[3], rec.line, self)
                group_ccy = (f[5] if len(f) > 5 and f[5] else "USD").strip()  # the spec's default
            elif rec.code == "03":
                account = _Account(f[0].strip(), (f[1] or group_ccy).strip(), rec.line, totals=_Totals(physical=rec.physical))
                self._summary(account, f[2:], as_of, rec.line)
            elif rec.code == "16":
                if account is None:
                    raise self.fail(rec.line, "16 transaction outside an account (no 03 before it)", "structure")
                self._detail(account, rec, as_of)
            elif rec.code == "49":
                if account is None:
                    raise self.fail(rec.line, "49 account trailer without an 03", "structure")
                self._trailer(rec, f, "49", f"account {account.number}", account.totals, None)
                self._close_account(account, as_of)
                group_tot.total += account.totals.total
                group_tot.children += 1
                account = None
            elif rec.code == "98":
                self._trailer(rec, f, "98", "group", group_tot, group_tot.children)
                file_tot.total += group_tot.total
                file_tot.children += 1
            elif rec.code == "99":
                self._trailer(rec, f, "99", "file", file_tot, file_tot.children)
                seen_99 = True
            elif rec.code != "88":
                raise self.fail(rec.line, f"unknown BAI2 record type {rec.code}", "syntax")
        if not seen_99:
            raise self.fail(None, "no 99 file trailer (truncated file)", "truncated")
        bill = bill_frame(self.entries, channel=self.ctx.channel, source_file=self.file, bill_date=self.ctx.bill_date, statement_dates=self.dates)
        return ParsedStatement(bill, balances_frame(self.balances, channel=self.ctx.channel, source_file=self.file), tuple(self.checks))

    def _summary(self, account: _Account, f: list[str], as_of: dt.date, line: int) -> None:
        i = 0
        while i + 1 < len(f):
            if not f[i].strip():
                i += 1  # an empty field where a type code belongs: the ambiguous ",/" ending (moj#37)
                continue
            code, amount = f[i].strip(), self.minor(f[i + 1], account.currency, line)
            account.totals.total += _raw(f[i + 1], line, self)
            funds = f[i + 3].strip() if i + 3 < len(f) else ""
            i += 4 + _funds_extra(funds, f, i + 4)
            if code in _BALANCE_CODES:
                account.balances.append(Balance(account.number, account.currency, f"{account.number}@{as_of}", as_of, _BALANCE_CODES[code], amount, line))

    def _detail(self, account: _Account, rec: Rec, as_of: dt.date) -> None:
        head = rec.text.split(",", 3)
        code, funds = head[0].strip(), head[2].strip() if len(head) > 2 else ""
        rest = rec.text.split(",")
        extra = _funds_extra(funds, rest, 3)
        parts = rec.text.split(",", 3 + extra + 2)
        if len(parts) < 3 + extra + 2:
            raise self.fail(rec.line, f"16 record has too few fields: {rec.text[:60]!r}", "syntax")
        written = self.minor(parts[1], account.currency, rec.line)
        account.totals.total += _raw(parts[1], rec.line, self)
        if not re.fullmatch(r"[1-6]\d\d", code):
            raise self.fail(rec.line, f"16 type code {code!r} has no defined direction (credits 100-399, debits 400-699)", "type_code")
        amount = abs(written) if code < "400" else -abs(written)
        value_date = _date(parts[3], rec.line, self) if funds.upper() == "V" and parts[3].strip() else None
        text = parts[3 + extra + 2] if len(parts) > 3 + extra + 2 else ""
        n = len(account.entries) + 1
        statement_id = f"{account.number}@{as_of}"
        account.entries.append(Entry(
            statement_id=statement_id, account=account.number, currency=account.currency, booking_date=as_of,
            value_date=value_date, amount=amount, record_type=_CODE_TYPES.get(code) or classify(amount),
            channel_txn_id=parts[3 + extra].strip() or f"{statement_id}#{n}",
            merchant_txn_id=parts[3 + extra + 1].strip() or None,
            status=self.ctx.rules.status_of("entry_status", "BOOK"), raw_status="BOOK",
            memo=" ".join(text.strip().removesuffix("/").split()) or None, bank_code=code, source_line=rec.line,
        ))

    def _trailer(self, rec: Rec, f: list[str], code: str, what: str, totals: _Totals, children: int | None) -> None:
        stated = _raw(f[0], rec.line, self)
        if stated != totals.total:
            raise self.fail(rec.line, f"{code} {what} control total {stated}, but the records beneath sum to {totals.total}")
        try:
            count = int(f[-1] if code == "49" else f[2])
            stated_children = int(f[1]) if children is not None else None
        except (ValueError, IndexError):
            raise self.fail(rec.line, f"{code} {what}: record count missing or not a number", "syntax") from None
        if count != totals.physical:
            raise self.fail(rec.line, f"{code} {what} says {count} records, the file has {totals.physical}")
        if children is not None and stated_children != children:
            kind = "accounts" if code == "98" else "groups"
            raise self.fail(rec.line, f"{code} {what} says {stated_children} {kind}, the file has {children}")
        self.checks.append(f"{code} {what}: control total {stated}, {count} records")

    def _close_account(self, account: _Account, as_of: dt.date) -> None:
        sid = f"{account.number}@{as_of}"
        opening = next((b for b in account.balances if b.balance_type is BalanceType.OPENING), None)
        closing = next((b for b in account.balances if b.balance_type is BalanceType.CLOSING), None)
        if opening is not None and closing is not None:
            self.checks.append(check_balance(self.file, account.line, sid, account.currency, opening.amount,
                                             entries_sum(account.entries), closing.amount))
        self.entries.extend(account.entries)
        self.balances.extend(account.balances)
        self.dates[sid] = as_of


def _raw(text: str, line: int, reader: _Reader) -> int:
    text = text.strip()
    if not text:
        return 0  # a blank amount is zero (moj account_trailer_amount_blank_example)
    if not re.fullmatch(r"[+-]?\d+", text):
        raise reader.fail(line, f"not a BAI2 amount: {text!r}", "amount")
    return int(text)


def _funds_extra(funds: str, f: list[str], at: int) -> int:
    """How many fields follow a funds type code (S: 3 amounts, V: date and time, D: n then n pairs)."""
    funds = funds.upper()
    if funds == "S":
        return 3
    if funds == "V":
        return 2
    if funds == "D":
        n = f[at].strip() if at < len(f) else ""
        return 1 + 2 * int(n) if n.isdigit() else 1
    return 0


def _date(text: str, line: int, reader: _Reader) -> dt.date:
    try:
        return dt.datetime.strptime(text.strip(), "%y%m%d").date()
    except ValueError:
        raise reader.fail(line, f"invalid date {text!r} (YYMMDD)", "syntax") from None
