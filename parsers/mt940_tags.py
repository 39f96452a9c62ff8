"""SWIFT MT940/MT942 tags: one class per tag, a verbose regex whose named groups carry the spec.

After WoLpH/mt940 (`mt940/tags.py`): each tag is a small class with the field layout from the
SWIFT user handbook written as a verbose regular expression, and a `parse` that turns the named
groups into typed values. A bank that bends a tag gets a subclass (see `RaboLegacyBalance`) and the
dialect table in parsers/mt940.py substitutes it; no tag ever asks which bank it is in.

Amounts are Decimal through `recon.money.parse_amount` with the MT940 grammar (decimal comma, no
sign, no thousands separator; "20," and zero padding are valid). Dates are YYMMDD with a pivot: the
format has no century, and statements older than 1980 do not exist electronically.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import ClassVar, NamedTuple

from recon.money import AmountGrammar, MoneyError, normalize_zero, parse_amount

SWIFT_AMOUNT = AmountGrammar(decimal_sep=",", allow_sign=False)
POINT_AMOUNT = AmountGrammar(decimal_sep=".", allow_sign=False)


class TagError(ValueError):
    """A tag's value does not follow its layout; the parser adds file and line."""


@lru_cache(maxsize=8192)  # a file's dates repeat: one date object per distinct day
def yymmdd(text: str) -> dt.date:
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:6])
    try:
        return dt.date(1900 + yy if yy >= 80 else 2000 + yy, mm, dd)
    except ValueError:
        raise TagError(f"invalid date {text!r} (20{text[:2]}-{text[2:4]}-{text[4:6]} does not exist)") from None


@lru_cache(maxsize=8192)
def entry_date_near(value_date: dt.date, mmdd: str) -> dt.date:
    """The entry date MMDD has no year: take the year that puts it nearest the value date.

    `:61:1412310105` is value 2014-12-31, entry 2015-01-05; `:61:1901011231` is value 2019-01-01,
    entry 2018-12-31 (FAULTS A21; wolph/mt940#17 and #121 got each direction wrong in turn).
    """
    month, day = int(mmdd[:2]), int(mmdd[2:])
    candidates = []
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        try:
            candidates.append(dt.date(year, month, day))
        except ValueError:
            continue  # 29 Feb outside a leap year
    if not candidates:
        raise TagError(f"invalid entry date {mmdd!r}")
    return min(candidates, key=lambda d: abs((d - value_date).days))



_GRAMMAR_PATTERNS: dict[AmountGrammar, re.Pattern[str]] = {}


def _amount(text: str, grammar: AmountGrammar, tag: "Tag") -> Decimal:
    """`parse_amount` for the MT940 grammars (no sign, no thousands separator, no scale limit),
    with the grammar's pattern compiled once instead of per call; anything the pattern does not
    accept goes through `parse_amount` itself, so the refusals and their texts are its own."""
    pattern = _GRAMMAR_PATTERNS.get(grammar)
    if pattern is None:
        pattern = _GRAMMAR_PATTERNS[grammar] = grammar.pattern()
    raw = text.strip()
    if raw and grammar.thousands_sep is None and grammar.max_scale is None and pattern.match(raw):
        if grammar.decimal_sep != ".":
            raw = raw.replace(grammar.decimal_sep, ".")
        if raw.endswith("."):
            raw = raw[:-1]
        return normalize_zero(Decimal(raw))
    try:
        return parse_amount(text, grammar)
    except MoneyError as exc:
        raise TagError(f":{tag.id}: {exc}") from None


class Tag:
    """Base: a tag id and a verbose pattern; `parse` returns a frozen value.

    One class serves several tags (:60F:/:62F:/:64:... share a layout), so an instance carries the
    tag it was registered for: messages name `:62F:` for a closing-balance problem, not `:60F:`."""

    id: ClassVar[str]
    pattern: ClassVar[re.Pattern[str]]
    grammar: ClassVar[AmountGrammar] = SWIFT_AMOUNT

    def __init__(self, tag_id: str | None = None) -> None:
        if tag_id is not None:
            self.id = tag_id  # type: ignore[misc]

    def match(self, value: str) -> re.Match[str]:
        m = self.pattern.match(value)
        if not m:
            raise TagError(f":{self.id}: does not match its layout: {value.strip()[:60]!r}")
        return m

    def amount(self, text: str) -> Decimal:
        return _amount(text, self.grammar, self)

    def parse(self, value: str) -> object:
        return self.match(value).group(0).strip()


class TransactionReference(Tag):
    id = "20"
    # 16x, but mBank wraps the reference onto a second line (with_newline_in_tnr): keep one line.
    pattern = re.compile(r"(?P<reference>[^\n]*)", re.X)

    def parse(self, value: str) -> str:
        return " ".join(part.strip() for part in value.split("\n") if part.strip())


class RelatedReference(TransactionReference):
    id = "21"


class AccountIdentification(Tag):
    id = "25"
    pattern = re.compile(
        r"""(?P<account>[^\s]+?)          # IBAN, BLZ/account, or BIC/account (35x)
            (?:\s*(?P<currency>[A-Z]{3}))?  # some banks append the currency: NL10BUNQ... EUR
            \s*$""",
        re.X,
    )

    def parse(self, value: str) -> tuple[str, str | None]:
        m = self.match(value.strip())
        # 70011110/4005287001EUR and UBRTHUHB/.../HUF: the currency glued on, maybe after a slash
        return m["account"].rstrip("/"), m["currency"]


class StatementNumber(Tag):
    id = "28C"
    pattern = re.compile(
        r"""(?P<number>\d*)              # 5n; ZETB leaves it empty (":28C: /1")
            (?:/(?P<sequence>\d+))?      # 5n page within the statement
            $""",
        re.X,
    )

    def parse(self, value: str) -> str:
        m = self.match("".join(value.split()))  # ING wraps the number onto a second line
        number = m["number"] or "0"
        return number if m["sequence"] is None else f"{number}/{m['sequence']}"


@dataclass(frozen=True, slots=True)
class BalanceValue:
    mark: str  # C or D
    date: dt.date
    currency: str
    amount: Decimal  # signed: D is negative


class Balance(Tag):
    """:60F:/:60M:/:62F:/:62M:/:64:/:65: share one layout: 1!a6!n3!a15d."""

    id = "60F"
    pattern = re.compile(
        r"""(?P<mark>[DC])
            (?P<date>\d{6})
            (?P<currency>[A-Z]{3})
            (?P<amount>\d[\d,.]*)
            \s*$""",
        re.X,
    )

    def parse(self, value: str) -> BalanceValue:
        m = self.match(value.strip())
        amount = self.amount(m["amount"])
        return BalanceValue(m["mark"], yymmdd(m["date"]), m["currency"], -amount if m["mark"] == "D" and amount else amount)


class _EitherDecimalMark:
    """Old Rabobank exports (":940:" header) wrote a decimal point (000000002145.00) in some
    releases and the SWIFT comma in others; the mark is unambiguous because there are no
    thousands separators, so both are read exactly."""

    def amount(self, text: str) -> Decimal:
        return _amount(text, POINT_AMOUNT if "." in text else SWIFT_AMOUNT, self)  # type: ignore[arg-type]


class RaboLegacyBalance(_EitherDecimalMark, Balance):
    pass


class StatementLineValue(NamedTuple):
    """One :61: line's values. A NamedTuple, not a frozen dataclass: one is made per line, and a frozen
    dataclass's `__init__` (an `object.__setattr__` per field) was a tenth of an MT940 parse (#24)."""

    value_date: dt.date
    entry_date: dt.date | None
    mark: str  # D, C, RD, RC
    funds_code: str | None
    amount: Decimal  # signed by its effect on the balance
    type_code: str  # N/S/F + 3: NTRF, NMSC, N654, S051
    customer_ref: str | None
    bank_ref: str | None
    supplementary: str | None

    @property
    def reversal(self) -> bool:
        return self.mark.startswith("R")


class StatementLine(Tag):
    id = "61"
    pattern = re.compile(
        r"""(?P<value_date>\d{6})
            (?P<entry_date>\d{4})?
            (?P<mark>R?[DC])
            (?P<funds_code>[A-Z])?           # third letter of the currency code
            [\s]?                            # Sparkassen put a space or newline before the amount
            (?P<amount>\d[\d,.]*)
            (?P<type_code>[A-Z][A-Z0-9 ]{3})  # N/S/F + 3 by the book; some MT942 senders use others
            (?P<customer_ref>(?:(?!//)[^\n])*)  # 16x, NONREF when there is none
            (?://(?P<bank_ref>[^\n]*))?       # 16x, though some banks send 19 digits (wolph#111)
            (?:\n(?P<supplementary>.*))?      # 34x on the second line
        """,
        re.X | re.S,
    )

    def parse(self, value: str) -> StatementLineValue:
        g = self.match(value.strip("\n")).groupdict()
        value_date = yymmdd(g["value_date"])
        entry = entry_date_near(value_date, g["entry_date"]) if g["entry_date"] else None
        amount = self.amount(g["amount"])
        # RC (reversal of credit) takes money out like D; RD puts it back like C.
        mark = g["mark"]
        outflow = mark in ("D", "RC")
        customer = (g["customer_ref"] or "").strip()
        supplementary = g["supplementary"]
        return StatementLineValue(
            value_date,
            entry,
            mark,
            g["funds_code"],
            -amount if outflow and amount else amount,
            g["type_code"].strip(),
            None if customer in ("", "NONREF") else customer,
            (g["bank_ref"] or "").strip() or None,
            " ".join(supplementary.split()) or None if supplementary else None,
        )


class RaboLegacyStatementLine(_EitherDecimalMark, StatementLine):
    pass


class InformationToOwner(Tag):
    """:86: free text or bank-structured subfields, up to 6x65 (many banks send more)."""

    id = "86"
    pattern = re.compile(r"(?P<text>.*)", re.S)

    def parse(self, value: str) -> str:
        return value


class FloorLimit(Tag):
    id = "34F"
    pattern = re.compile(r"""(?P<currency>[A-Z]{3})(?P<mark>[DC])?(?P<amount>\d[\d,]*)\s*$""", re.X)

    def parse(self, value: str) -> tuple[str, str | None, Decimal]:
        m = self.match(value.strip())
        return m["currency"], m["mark"], self.amount(m["amount"])


class DateTimeIndication(Tag):
    id = "13D"
    pattern = re.compile(
        r"""(?P<date>\d{6})(?P<hh>\d{2})(?P<mm>\d{2})
            (?P<sign>[+-])(?P<oh>\d{2})(?P<om>\d{2})\s*$""",
        re.X,
    )

    def parse(self, value: str) -> dt.datetime:
        m = self.match("".join(value.split()))  # wrapped_timestamp: the value spans two lines
        offset = dt.timedelta(hours=int(m["oh"]), minutes=int(m["om"])) * (-1 if m["sign"] == "-" else 1)
        day = yymmdd(m["date"])
        return dt.datetime(day.year, day.month, day.day, int(m["hh"]), int(m["mm"]), tzinfo=dt.timezone(offset))


class DateTime13(Tag):
    """The older `:13:` date-time indication, YYMMDDHHMM with no UTC offset: German FinTS banks send
    it in MT942. The time is the bank's local time; with no offset stated, it is kept naive (no
    instant is invented) and is only informational: an MT942's rows take their dates from :61:."""

    id = "13"
    pattern = re.compile(r"""(?P<date>\d{6})(?P<hh>\d{2})(?P<mm>\d{2})\s*$""", re.X)

    def parse(self, value: str) -> dt.datetime:
        m = self.match("".join(value.split()))
        day = yymmdd(m["date"])
        try:
            return dt.datetime(day.year, day.month, day.day, int(m["hh"]), int(m["mm"]))
        except ValueError:
            raise TagError(f":13: invalid time {m['hh']}:{m['mm']}") from None


class EntrySum(Tag):
    """MT942 :90D:/:90C: number and sum of debit / credit entries."""

    id = "90D"
    pattern = re.compile(r"""(?P<count>\d+)(?P<currency>[A-Z]{3})(?P<amount>\d[\d,]*)\s*$""", re.X)

    def parse(self, value: str) -> tuple[int, str, Decimal]:
        m = self.match(value.strip())
        return int(m["count"]), m["currency"], self.amount(m["amount"])


class NonSwift(Tag):
    id = "NS"
    pattern = re.compile(r"(?P<text>.*)", re.S)

    def parse(self, value: str) -> str:
        return value


class UntypedStatementLine(StatementLine):
    """Zenith Bank (ZEIBNGLA) omits the 4-character transaction type before the references."""

    pattern = re.compile(StatementLine.pattern.pattern.replace(
        "(?P<type_code>[A-Z][A-Z0-9 ]{3})", "(?P<type_code>(?:[NSF][A-Z0-9]{3})?)"), re.X | re.S)


# The standard tag table; a dialect copies it and substitutes classes.
STANDARD_TAGS: dict[str, Tag] = {
    "20": TransactionReference(), "21": RelatedReference(), "25": AccountIdentification(),
    "28": StatementNumber("28"), "28C": StatementNumber(),
    "60F": Balance("60F"), "60M": Balance("60M"), "62F": Balance("62F"), "62M": Balance("62M"), "64": Balance("64"),
    "65": Balance("65"), "61": StatementLine(), "86": InformationToOwner(),
    "34F": FloorLimit(), "13D": DateTimeIndication(), "13": DateTime13(),
    "90D": EntrySum("90D"), "90C": EntrySum("90C"), "NS": NonSwift(),
}
