"""The bank parsers' fast amount paths (#24) answer exactly as `recon.money.parse_amount`, the oracle:
the same Decimal (scale kept, no negative zero) for what it accepts, its refusal for what it refuses."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from parsers import mt940_tags as T
from parsers.camt_entries import AMOUNT, _decimal
from recon.money import MoneyError, parse_amount

_TEXTS = st.one_of(
    st.from_regex(r"\A ?0{0,3}[0-9]{1,20}([.,][0-9]{0,8})? ?\Z"),
    st.text(alphabet="0123456789.,-+eE ", max_size=12),
)


def _oracle(text: str, grammar) -> Decimal | str:
    try:
        return parse_amount(text, grammar)
    except MoneyError as exc:
        return str(exc)


@given(_TEXTS)
def test_camt_amount_matches_parse_amount(text: str) -> None:
    try:
        got: Decimal | str = _decimal(text)
    except MoneyError as exc:
        got = str(exc)
    want = _oracle(text, AMOUNT)
    assert got == want and str(got) == str(want)


@given(_TEXTS, st.sampled_from([T.Balance("62F"), T.RaboLegacyBalance("60F")]))
def test_mt940_amount_matches_parse_amount(text: str, tag: T.Tag) -> None:
    grammar = (T.POINT_AMOUNT if "." in text else T.SWIFT_AMOUNT) if isinstance(tag, T.RaboLegacyBalance) else T.SWIFT_AMOUNT
    try:
        got: Decimal | str = tag.amount(text)
    except T.TagError as exc:
        got = str(exc)
    want = _oracle(text, grammar)
    want = want if isinstance(want, Decimal) else f":{tag.id}: {want}"
    assert got == want and str(got) == str(want)
