"""One MT940/MT942 statement: tag records -> entries, balances and the statement's own checks.

A statement is the run of tags from one `:20:` to the next. Each `:61:` becomes an `Entry`; the
`:86:` lines that follow it (Rabobank sends several) are its information to the account owner,
which banks structure in their own ways:

* German DFÜ/ZKA: `GVC?00posting text?10primanota?20..?29 purpose?30 BLZ?31 account?32-33 name
  ?60..?63 purpose`; the purpose carries SEPA keywords `EREF+ KREF+ MREF+ CRED+ SVWZ+ ABWA+`.
* Dutch (ING, Rabobank, ABN): `/TRTP/../IBAN/../BIC/../NAME/../REMI/../EREF/..`.
* anything else is free text.

Only the memo, the counterparty and the end-to-end reference are taken from it; the raw text stays
in the memo when no structure is found. Lines wrapped at 65 columns split words anywhere, so
structured text is re-joined without a separator, free text with a space.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping, NamedTuple

from parsers import mt940_tags as T
from parsers.balances import ENTRY_FIELDS, Balance, BalanceType, BillColumns, Entry, check_balance, classify
from recon.config.ruleset import RuleSet
from recon.errors import Problem, StatementRejected
from recon.money import MoneyError, context, exponent, finer_than_unit

_SEPA = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC)\+")
_DUTCH_KEYS = ("TRTP|IBAN|BIC|NAME|REMI|EREF|MARF|CSID|ORDP|BENM|ADDR|ISDT|CDTRREFTP|CDTRREF|CD|PREF|"
               "RTRN|ULTC|ULTD|SVCL|PURP|EXCH|OCMT|CHGS|ID|RTYP")
_DUTCH = re.compile(rf"/({_DUTCH_KEYS})/")
_NO_REF = {"", "NOTPROVIDED", "NONREF", "NONE"}
_GERMAN_START = re.compile(r"^\s*(\d{3})?\?\d\d")
_GERMAN_FIELD = re.compile(r"\?(\d{2})")
_REF_KEYS = ("EREF", "KREF", "MREF", "CRED", "DEBT")


class Details(NamedTuple):  # one per :86: text: a tuple is made at C speed (#24)
    memo: str | None
    counterparty: str | None
    end_to_end: str | None
    refs: tuple[tuple[str, str], ...] = ()  # every reference the :86: states (EREF, KREF, MREF, CRED...)


_NO_DETAILS = Details(None, None, None)


def _clean(text: str | None) -> str | None:
    text = " ".join((text or "").split())
    return text or None


def parse_details(text: str) -> Details:
    """Memo, counterparty and end-to-end reference from a (possibly structured) :86: text."""
    joined = text.replace("\n", "")  # wrapped at 65 columns: structured text re-joined without a separator
    if _GERMAN_START.match(joined):
        return _german(joined)
    if joined.lstrip().startswith("/") and _DUTCH.search(joined):
        return _dutch(joined)
    return Details(_clean(text.replace("\n", " ")), None, None)


def _german(joined: str) -> Details:
    parts = _GERMAN_FIELD.split(joined)
    fields: dict[str, str] = {}
    for key, value in zip(parts[1::2], parts[2::2]):
        fields[key] = fields.get(key, "") + value  # ?00 floods and repeats append (phpFinTS#83)
    purpose = "".join(fields.get(f"{n}", "") for n in [*range(20, 30), *range(60, 64)])
    sepa = dict()
    chunks = _SEPA.split(purpose)
    for key, value in zip(chunks[1::2], chunks[2::2]):
        sepa[key] = value.strip()
    memo = sepa.get("SVWZ") or (chunks[0] if len(chunks) > 1 else purpose) or fields.get("00")
    eref = sepa.get("EREF")
    refs = tuple((f"86/{k}", v) for k, v in sepa.items() if k in _REF_KEYS and v and v.upper() not in _NO_REF)
    return Details(
        _clean(memo),
        _clean(fields.get("32", "") + fields.get("33", "")),
        None if eref is None or eref.upper() in _NO_REF else eref,
        refs,
    )


def _dutch(joined: str) -> Details:
    parts = _DUTCH.split(joined)
    fields: dict[str, str] = {}
    for key, value in zip(parts[1::2], parts[2::2]):
        fields.setdefault(key, value.strip().strip("/"))
    remi = fields.get("REMI", "")
    if remi.startswith("USTD//"):
        remi = remi[6:]
    eref = fields.get("EREF", "")
    refs = tuple((f"86/{k}", v) for k, v in fields.items() if k in ("EREF", "MARF", "CSID", "PREF", "ID") and v and v.upper() not in _NO_REF)
    return Details(_clean(remi) or _clean(joined), _clean(fields.get("NAME")), None if eref.upper() in _NO_REF else eref, refs)


@dataclass(frozen=True, slots=True)
class Statement:
    reference: str
    number: str | None
    account: str
    currency: str
    opening: T.BalanceValue | None
    closing: T.BalanceValue | None
    balance_rows: tuple[Balance, ...]
    rows: BillColumns  # the entries, column-wise
    entry_sums: tuple[tuple[str, int, Decimal, int], ...]  # (D or C, count, sum, line) from :90D:/:90C:
    first_line: int
    closing_line: int | None

    @property
    def statement_id(self) -> str:
        return self.reference if not self.number else f"{self.reference}/{self.number}"

    @property
    def entries(self) -> tuple[Entry, ...]:
        """The entries as records (readers that compare a statement with a peer's)."""
        r = self.rows
        return tuple(Entry(**{name: getattr(r, name)[i] for name in ENTRY_FIELDS}) for i in range(len(r)))

    def statement_date(self) -> dt.date:
        if self.closing is not None:
            return self.closing.date
        dates = self.rows.booking_date
        return max(dates) if dates else self.opening.date if self.opening else dt.date.min

    def balances(self) -> tuple[Balance, ...]:
        return self.balance_rows

    def check(self, file: str, message_type: str) -> list[str]:
        if message_type == "942":
            return self._check_sums(file)
        if self.opening is None or self.closing is None:
            missing = ":60F:/:60M: opening" if self.opening is None else ":62F:/:62M: closing"
            raise StatementRejected(file, self.first_line, f"statement {self.statement_id} has no {missing} balance (truncated?)", code="truncated")
        if self.opening.currency != self.closing.currency:
            raise StatementRejected(file, self.closing_line, f"statement {self.statement_id}: opening in {self.opening.currency}, closing in {self.closing.currency}", code="currency")
        return [check_balance(file, self.closing_line, self.statement_id, self.currency,
                              self.opening.amount, _booked_sum(self.rows.amount), self.closing.amount)]

    def _check_sums(self, file: str) -> list[str]:
        if not self.entry_sums:
            return [f"report {self.statement_id}: no :90D:/:90C: sums to check"]
        done = []
        for mark, count, total, line in self.entry_sums:
            side = [a for a in self.rows.amount if (a < 0) == (mark == "D")]
            got = sum((abs(a) for a in side), Decimal(0))
            if len(side) != count or got != total:
                raise StatementRejected(file, line, f"report {self.statement_id}: :90{mark}: says {count} entries totalling {total}, lines give {len(side)} totalling {got}", code="control_total")
            done.append(f"report {self.statement_id}: :90{mark}: {count} entries = {total}")
        return done

    def chain_warning(self, file: str, previous: T.BalanceValue) -> Problem:
        return Problem(file, self.first_line, f"statement {self.statement_id} opens at {self.opening.amount if self.opening else None} "
                       f"but the previous statement of {self.account} closed at {previous.amount} (balance chain break)", code="balance_chain")


def _booked_sum(amounts: list[Decimal]) -> Decimal:
    """`entries_sum` of MT940 rows (every line is booked and carries no fee), with its operations."""
    ctx, total, fee = context(), Decimal(0), Decimal(0)
    for amount in amounts:
        total = ctx.add(total, ctx.subtract(amount, fee))
    return total


_BALANCE_TYPES = {"60F": BalanceType.OPENING, "60M": BalanceType.INTERIM, "62F": BalanceType.CLOSING,
                  "62M": BalanceType.INTERIM, "64": BalanceType.AVAILABLE, "65": BalanceType.FORWARD_AVAILABLE}


def _check_units(file: str, statement_id: str, currency: str, balances: list, lines: list) -> None:
    """No amount finer than its currency's minor unit (`:62F:C260305JPY1000,5`): such a file states
    money that cannot exist, so it is refused, every offending line named."""
    problems = []
    for tag, value, line in balances:
        if _finer(value.amount, value.currency):
            problems.append(Problem(file, line, f"statement {statement_id}: :{tag}: amount {abs(value.amount)} {value.currency} "
                                    f"is finer than the currency's minor unit ({_unit(value.currency)} decimals)", "amount_scale"))
    for value, line, _ in lines:
        if _finer(value.amount, currency):
            problems.append(Problem(file, line, f"statement {statement_id}: :61: amount {abs(value.amount)} {currency} "
                                    f"is finer than the currency's minor unit ({_unit(currency)} decimals)", "amount_scale"))
    if problems:
        raise StatementRejected.of(sorted(problems, key=lambda p: p.line or 0))


def _finer(amount: Decimal, currency: str) -> bool:
    try:
        if amount.as_tuple().exponent >= -exponent(currency):  # type: ignore[operator]
            return False  # no digit past the minor unit: the common case, without a Decimal context
        return finer_than_unit(amount, currency)
    except MoneyError:
        return False  # not an ISO code: the currency checks elsewhere name it


def _unit(currency: str) -> int:
    return exponent(currency)


def build_statement(block: list, tags: Mapping[str, T.Tag], file: str, rules: RuleSet, message_type: str) -> Statement:
    """Parse one :20: block's records with the dialect's tag classes."""
    values: dict[str, object] = {}
    balances: list[tuple[str, T.BalanceValue, int]] = []
    lines: list[tuple[T.StatementLineValue, int, list[str]]] = []
    sums: list[tuple[str, int, Decimal, int]] = []
    currency_hint: str | None = None
    previous_tag = ""
    syntax: list[Problem] = []  # every tag that breaks its layout, listed together
    for rec in block:
        tag_before, previous_tag = previous_tag, rec.tag
        tag = tags.get(rec.tag)
        if tag is None:
            continue  # unknown tag (e.g. :21:-like bank extensions): not ours to interpret
        try:
            value = tag.parse(rec.value)
        except T.TagError as exc:
            syntax.append(Problem(file, rec.line, str(exc), "syntax"))
            continue
        if rec.tag in _BALANCE_TYPES:
            balances.append((rec.tag, value, rec.line))  # type: ignore[arg-type]
        elif rec.tag == "61":
            lines.append((value, rec.line, []))  # type: ignore[arg-type]
        elif rec.tag == "86" and lines and tag_before in ("61", "86"):
            lines[-1][2].append(value)  # type: ignore[arg-type]
        elif rec.tag in ("90D", "90C"):
            count, ccy, total = value  # type: ignore[misc]
            sums.append((rec.tag[-1], count, total, rec.line))
            currency_hint = currency_hint or ccy
        elif rec.tag == "34F":
            currency_hint = currency_hint or value[0]  # type: ignore[index]
        else:
            values.setdefault(rec.tag, value)
    if syntax:
        raise StatementRejected.of(syntax)
    reference = str(values.get("20", ""))
    number = values.get("28C") or values.get("28")
    if "25" not in values:
        raise StatementRejected(file, block[0].line, f"statement {reference} has no :25: account identification", code="structure")
    account, account_ccy = values["25"]  # type: ignore[misc]
    opening = next((b for t, b, _ in balances if t in ("60F", "60M")), None)
    closing = next((b for t, b, _ in balances if t in ("62F", "62M")), None)
    closing_line = next((ln for t, _, ln in balances if t in ("62F", "62M")), None)
    currency = (opening or closing).currency if (opening or closing) else (currency_hint or account_ccy)
    statement_id = reference if not number else f"{reference}/{number}"
    if currency is None:
        raise StatementRejected(file, block[0].line, f"statement {statement_id}: no currency (no balance, :34F: or :90x:)", code="structure")
    _check_units(file, statement_id, currency, balances, lines)
    raw_status = "BOOK" if message_type == "940" else "INTRADAY"
    status = rules.status_of("entry_status", raw_status)  # one raw status per message type: looked up once
    rows = BillColumns()  # the entries as columns: no `Entry` per line (#24)
    ids, merchant_ids, record_types = rows.channel_txn_id, rows.merchant_txn_id, rows.record_type
    booking_dates, value_dates, amounts, memos = rows.booking_date, rows.value_date, rows.amount, rows.memo
    counterparties, bank_codes, lines_no = rows.counterparty, rows.bank_code, rows.source_line
    entry_refs, references = rows.entry_ref, rows.references
    kinds: dict[tuple[str, bool, bool], str] = {}
    for n, (line, line_no, infos) in enumerate(lines, start=1):
        details = parse_details("\n".join(infos)) if infos else _NO_DETAILS
        booking_dates.append(line.entry_date or line.value_date)
        value_dates.append(line.value_date)
        amounts.append(line.amount)
        kind = (line.type_code, line.reversal, line.amount >= 0)  # a statement's lines share a few kinds
        record_type = kinds.get(kind)
        if record_type is None:
            record_type = kinds[kind] = classify(line.amount, (line.type_code[1:],), reversal=line.reversal)
        record_types.append(record_type)
        ids.append(line.bank_ref or f"{statement_id}#{n}")
        merchant_ids.append(line.customer_ref or details.end_to_end)
        counterparties.append(details.counterparty)
        memos.append(details.memo or line.supplementary)
        bank_codes.append(f"{line.mark} {line.type_code}")
        lines_no.append(line_no)
        entry_refs.append(line.bank_ref)
        stated = (("61/customer", line.customer_ref), ("61/bank", line.bank_ref), *details.refs)
        references.append("; ".join(f"{k}={v}" for k, v in stated if v) or None)
    count = len(lines)
    for name, value in (("statement_id", statement_id), ("account", account), ("currency", currency),
                        ("fee", Decimal(0)), ("status", status), ("raw_status", raw_status), ("trade_time", None)):
        getattr(rows, name).extend([value] * count)
    balance_rows = tuple(Balance(account, b.currency, statement_id, b.date, _BALANCE_TYPES[t], b.amount, ln)
                         for t, b, ln in balances)
    return Statement(reference, str(number) if number else None, account, currency, opening, closing, balance_rows,
                     rows, tuple(sums), block[0].line, closing_line)
