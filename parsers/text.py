"""Strict text decoding for statements: a byte that does not decode is a rejection, never a '?'.

Lossy decoding (replacing undecodable bytes, or polars' lossy UTF-8 mode) silently turns a corrupt id into a
different id, which then fails to match for reasons nobody can see. We decode strictly with the
format's declared encoding (GB18030 for the Chinese channels: a superset of GBK and GB2312) and
report the line and byte offset of the first bad byte.
"""

from __future__ import annotations

from recon.errors import StatementRejected

REPLACEMENT = "\ufffd"


def decode_strict(data: bytes, encoding: str, file: str) -> str:
    """Decode `data`; strip one UTF-8 BOM; reject undecodable bytes and replacement characters."""
    if encoding.replace("-", "").lower() in ("utf8", "utf8sig") and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode(encoding, errors="strict")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise StatementRejected(
            file, line, f"not valid {encoding}: byte 0x{data[exc.start]:02x} at offset {exc.start}", code="encoding"
        ) from None
    if REPLACEMENT in text:
        pos = text.index(REPLACEMENT)
        raise StatementRejected(
            file, text.count("\n", 0, pos) + 1, "contains U+FFFD (the file was already damaged by a lossy decoder)", code="encoding"
        )
    return text
