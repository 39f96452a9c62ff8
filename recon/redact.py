"""Card numbers out of free text (FAULTS.md D8, PCI DSS 3.4.1), identifiers left alone.

A card number (PAN) is a 13-19 digit run, spaces or dashes allowed between digits, that passes the
Luhn check; it is shown as its first 6 and last 4 digits. The run must stand on its own: a digit run
glued to a letter (`S2026112000032`, `ORD4111111111111111`) is an identifier, not a card, and one in
ten digit runs passes Luhn by chance, so an order number must never be taken for a card.

Where masking applies is the other half of the rule. Recon masks every copy of *free text* it writes:
error lines (which may quote a rejected line whole), log lines, messages kept in the store, queue
notes, quarantine reasons, and the bill's free-text columns (`memo`, `counterparty`). It never masks
identifier fields (order numbers, serials, keys, merchant ids, file names), whatever they hold, spaces
included: they are what matching and people look things up by, and a mask there would make a row
unmatchable and the order unfindable. Card data in an id field is masked only where the statement
format declares that field sensitive (a parser's `sensitive_id_fields`), once, when the bill is parsed.
"""

from __future__ import annotations

import re

_PAN_RE = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")
# The cheap pre-filter for frames: only values with 13 digits in a row (or spaced) can hold a PAN.
CANDIDATE = r"\d(?:[ -]?\d){12}"
FREE_TEXT_COLUMNS = ("memo", "counterparty")
_ID_SUFFIXES = ("_id", "_ids", "_key", "_no", "_serial", "_file", "_hash")
_ID_NAMES = frozenset({"id", "key", "match_key", "sha256", "entry_key", "source_file", "results_file"})


def luhn_ok(digits: str) -> bool:
    total = 0
    for pos, ch in enumerate(reversed(digits)):
        d = int(ch)
        if pos % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if not 13 <= len(digits) <= 19 or not luhn_ok(digits):
        return match.group(0)
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def mask_pans(text: str) -> str:
    """Mask card-number-like runs (13-19 digits, Luhn-valid, not glued to letters) to first 6 + last 4."""
    return _PAN_RE.sub(_mask, text) if any(c.isdigit() for c in text) else text


def is_id_column(name: str) -> bool:
    """Is a column an identifier (never masked) rather than free text?"""
    return name in _ID_NAMES or name.endswith(_ID_SUFFIXES)
