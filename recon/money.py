"""Exact money: the one place amounts are built, converted between units, and rounded.

Money is `decimal.Decimal` from the parser to the report; no float ever touches an amount. A
statement's text becomes a Decimal through `parse_amount`, which accepts only a declared grammar
(no scientific notation, no thousands separators unless the format declares them, no sniffing).
Minor units (fen, cents) are converted through `to_minor`/`from_minor` with the currency's ISO 4217
exponent, which a channel may override (PayPal writes every currency x100, Currencycloud gives KWD
two decimals): the exponent is an argument, the ISO table only its default. Rounding happens only
through `quantize` with a named `Rounding` policy, so "where and how we round" is always visible in
the calling code.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    InvalidOperation,
    localcontext,
)
from enum import StrEnum

# Every Decimal operation in recon runs with enough precision for 38-digit amounts; the default
# context's 28 digits would round silently on very large sums.
PRECISION = 60
# Scale of money columns in frames and Parquet (`pl.Decimal(38, MONEY_SCALE)`): enough for WeChat's
# 5-decimal fees and camt's 5-decimal amounts, with one digit to spare.
MONEY_SCALE = 6

# ISO 4217 minor-unit exponents that differ from 2. Every other three-letter code defaults to 2.
_ISO_EXPONENTS: dict[str, int] = {
    # zero decimals
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    # three decimals
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # four decimals (units of account)
    "CLF": 4, "UYW": 4,
}
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# ISO 4217 active alphabetic codes (list one, 2025), without XTS (testing) and XXX (no currency).
ISO_4217 = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD
NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE
SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED
VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG ZWL
""".split())
# Significant digits an amount may have before its point. No statement states 10^18 of anything,
# and a larger amount (a 30- or 40-digit cell, #18) would overflow the bill's Decimal(38, 6) once
# summed; it is refused as "not an amount" naming its line instead of failing inside polars.
MAX_INTEGER_DIGITS = 18
# [0-9], never \d: Python and polars both read \d as any Unicode digit, and Decimal('١٠٠') is 100.
INTEGER_DIGITS = rf"0*[0-9]{{1,{MAX_INTEGER_DIGITS}}}"  # leading zeros are padding (ABN AMRO camt, MT940)


class Rounding(StrEnum):
    """Named rounding policies. Rules name one of these; nothing rounds implicitly."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    DOWN = "down"
    UP = "up"

    @property
    def decimal_mode(self) -> str:
        return {
            Rounding.HALF_UP: ROUND_HALF_UP,
            Rounding.HALF_EVEN: ROUND_HALF_EVEN,
            Rounding.DOWN: ROUND_DOWN,
            Rounding.UP: ROUND_UP,
        }[self]


_MODES = {Rounding.HALF_UP: ROUND_HALF_UP, Rounding.HALF_EVEN: ROUND_HALF_EVEN, Rounding.DOWN: ROUND_DOWN,
          Rounding.UP: ROUND_UP}


class MoneyError(ValueError):
    """An amount or currency that does not follow the declared grammar."""


def context() -> Context:
    """The Decimal context for money arithmetic (wide precision, traps on inexact conversions)."""
    return Context(prec=PRECISION)


def currency_code(code: str) -> str:
    """Validate an ISO 4217 alphabetic code (upper-case, three letters)."""
    text = code.strip()
    if not _CURRENCY_RE.match(text):
        raise MoneyError(f"not an ISO 4217 currency code: {code!r}")
    return text


def iso_currency(code: object) -> str:
    """A currency the payment core and the internal side accept: an ISO 4217 code as written, upper
    case, known. `cny` is refused (not guessed into CNY), and so is a made-up `ABC`."""
    text = str(code) if code is not None else ""
    if text.upper() in ISO_4217 and text != text.upper():
        raise MoneyError(f"currency {text!r} must be written in upper case ({text.upper()})")
    if text not in ISO_4217:
        raise MoneyError(f"currency {text[:20]!r} is not an ISO 4217 currency code")
    return text


def exponent(currency: str, override: int | None = None) -> int:
    """Minor-unit exponent of `currency`; a channel's own convention wins when given."""
    if override is not None:
        return override
    return _ISO_EXPONENTS.get(currency_code(currency), 2)


@dataclass(frozen=True, slots=True)
class AmountGrammar:
    """What an amount may look like in one format. Anything outside it is rejected, not guessed."""

    decimal_sep: str = "."
    thousands_sep: str | None = None
    allow_sign: bool = True
    max_scale: int | None = None

    def pattern(self) -> re.Pattern[str]:
        sign = r"[+-]?" if self.allow_sign else ""
        dec = re.escape(self.decimal_sep)
        if self.thousands_sep:
            th = re.escape(self.thousands_sep)
            int_part = rf"(?:[0-9]{{1,3}}(?:{th}[0-9]{{3}})+|[0-9]+)"
        else:
            int_part = INTEGER_DIGITS
        return re.compile(rf"^{sign}{int_part}(?:{dec}[0-9]*)?$")


PLAIN = AmountGrammar()
_PLAIN_RE = PLAIN.pattern()


def parse_amount(text: str, grammar: AmountGrammar = PLAIN) -> Decimal:
    """Parse one amount string exactly. `-0.00` becomes `0.00`; scientific notation is refused."""
    raw = text.strip()
    pattern = _PLAIN_RE if grammar is PLAIN else grammar.pattern()
    if not raw or not pattern.match(raw):
        raise MoneyError(f"not an amount: {text!r}")
    if grammar.thousands_sep:
        raw = raw.replace(grammar.thousands_sep, "")
    if grammar.decimal_sep != ".":
        raw = raw.replace(grammar.decimal_sep, ".")
    if raw.endswith("."):
        raw = raw[:-1]
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:  # the regex makes this unreachable; kept as a guard
        raise MoneyError(f"not an amount: {text!r}") from exc
    scale = -value.as_tuple().exponent  # type: ignore[operator]
    if grammar.max_scale is not None and scale > grammar.max_scale:
        raise MoneyError(f"{text!r} has {scale} decimals; at most {grammar.max_scale} allowed")
    return normalize_zero(value)


def parse_count(text: str) -> int:
    """A count of rows as a statement writes it: a whole, non-negative number. WeChat's documented
    example prints counts as floats (`20.0`), which is still whole; `3.9` is not a count and is
    refused, never truncated to 3."""
    try:
        value = parse_amount(text, PLAIN)
    except MoneyError:
        raise MoneyError(f"not a count: {text!r}") from None
    if value != value.to_integral_value() or value < 0:
        raise MoneyError(f"not a count (a whole number of rows): {text!r}")
    return int(value)


def normalize_zero(value: Decimal) -> Decimal:
    """Drop the sign of a negative zero so reports never show `-0.00`."""
    return value.copy_abs() if value.is_zero() else value


def finer_than_unit(amount: Decimal, currency: str, *, exp: int | None = None) -> bool:
    """True when `amount` states a value below the currency's minor unit (`1000,5` JPY). Trailing
    zeros are not finer (`1000,00` JPY is 1000): only a non-zero digit past the exponent is."""
    e = exponent(currency, exp)
    with localcontext(context()):
        scaled = amount.scaleb(e)
        return scaled != scaled.to_integral_value()


def to_minor(amount: Decimal, currency: str, *, exp: int | None = None) -> int:
    """Amount in major units -> integer minor units. Refuses amounts finer than the currency's unit."""
    e = exponent(currency, exp)
    with localcontext(context()):
        scaled = amount.scaleb(e)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{amount} {currency} has more than {e} decimals")
        return int(scaled)


def from_minor(minor: int | str, currency: str, *, exp: int | None = None) -> Decimal:
    """Integer minor units (int or digit string, e.g. fen) -> Decimal in major units, exact."""
    if isinstance(minor, str):
        text = minor.strip()
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise MoneyError(f"not a minor-unit integer: {minor!r}")
        minor = int(text)
    e = exponent(currency, exp)
    with localcontext(context()):
        return normalize_zero(Decimal(minor).scaleb(-e).quantize(Decimal(1).scaleb(-e)))


@functools.lru_cache(maxsize=1024)
def _unit(currency: str, exp: int | None) -> Decimal:
    # clearing quantizes every amount of a day: the unit is looked up once per currency, not per amount
    return Decimal(1).scaleb(-exponent(currency, exp))


_MONEY_CONTEXT = Context(prec=PRECISION)  # read-only here: quantize takes it as an argument


def quantize(amount: Decimal, currency: str, policy: Rounding, *, exp: int | None = None) -> Decimal:
    """Round to the currency's minor unit with a named policy."""
    rounded = amount.quantize(_unit(currency, exp), rounding=_MODES[policy], context=_MONEY_CONTEXT)
    return rounded.copy_abs() if rounded.is_zero() else rounded  # normalize_zero, inline: called per amount


def fmt(amount: Decimal, currency: str) -> str:
    """Human text for an amount: padded to the currency's unit, never rounded below it."""
    unit = Decimal(1).scaleb(-exponent(currency))
    with localcontext(context()):
        exact_at_unit = amount == amount.quantize(unit, rounding=ROUND_DOWN)
        shown = amount.quantize(unit) if exact_at_unit else amount.normalize()
    return f"{normalize_zero(shown):,} {currency}"


def plain(amount: Decimal | None, currency: str | None) -> str | None:
    """Text for programs and tables: the amount at its currency's exponent (JPY `2501`, CNY `12.50`,
    KWD `1.250`), no separators; finer digits are shown, never rounded away. The stored value is
    unchanged. An unknown currency keeps the amount's own digits without trailing zeros."""
    if amount is None:
        return None
    try:
        unit = Decimal(1).scaleb(-exponent(currency or ""))
    except (MoneyError, ValueError, KeyError):
        shown = amount.normalize()
        return format(normalize_zero(shown if shown.as_tuple().exponent <= 0 else shown.quantize(Decimal(1))), "f")
    with localcontext(context()):
        exact_at_unit = amount == amount.quantize(unit, rounding=ROUND_DOWN)
        shown = amount.quantize(unit) if exact_at_unit else amount.normalize()
    return format(normalize_zero(shown), "f")


def unit_problem(amount: Decimal, currency: str) -> str | None:
    """Why `amount` cannot be money of `currency` (a digit below its minor unit: JPY 100.5, CNY
    1.005), or None. Our own side must be exact at the unit; only rates and fees computed from them
    may carry more digits."""
    if not finer_than_unit(amount, currency):
        return None
    exp = exponent(currency)
    # as a person wrote it: a store's Decimal(38, 6) would say 100.500000
    return f"amount {amount.normalize():f} is finer than the minor unit of {currency} ({exp} decimal{'s' if exp != 1 else ''})"
