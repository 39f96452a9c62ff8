"""Identifiers without invisible characters: the stated rule for order numbers, serials and ids.

A byte-order mark (U+FEFF) pasted into an order number, a zero-width space (U+200B), joiners
(U+200C/D), a word joiner (U+2060), a soft hyphen (U+00AD) or a bidi mark: all Unicode *format*
characters (category Cf) are invisible, and an id holding one looks right and never matches. They
are never part of an identifier, so recon removes them from ids wherever they occur, on the internal
side (`recon.internal`) and in the payment core (`recon core record` / `import`), together with the
surrounding whitespace. Other text (memos) is left as it came.
"""

from __future__ import annotations

import unicodedata


def clean_id(value: object) -> str | None:
    """The identifier without format characters and outer whitespace; None when nothing is left."""
    if value is None:
        return None
    text = str(value)
    if any(unicodedata.category(ch) == "Cf" for ch in text):
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = text.strip()
    return text or None
