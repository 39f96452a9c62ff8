"""Encodings decided by the bytes, and the decision recorded (issue #19).

A statement's header may name one encoding while its bytes are in another: OFX 1.x files that say
`CHARSET:1252` but were written by a UTF-8 exporter, WeChat bills (UTF-8 by the spec) re-saved in
GBK by Excel. Reading by the label either refuses a usable file or turns every accented name into
mojibake. The rule here: bytes that are valid UTF-8 and contain multi-byte sequences are UTF-8 (a
single-byte text almost never forms valid UTF-8 by accident); otherwise the declared encoding is
used, strictly. Every decision that departs from the label is returned as a note the parser puts in
its checks and warnings, so the bill says how it was read.
"""

from __future__ import annotations

from dataclasses import dataclass

from parsers.text import decode_strict
from recon.errors import StatementRejected

_SINGLE_BYTE = {"cp1252", "windows1252", "latin1", "iso88591", "cp1250", "cp852", "ascii", "usascii"}


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # what the bytes were read as
    note: str | None = None  # set when that is not what the file declared


def _norm(encoding: str) -> str:
    return encoding.replace("-", "").replace("_", "").lower()


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def looks_gbk(data: bytes) -> bool:
    """Not UTF-8, but valid GB18030 with Chinese characters: a GBK/GB18030 export."""
    if is_utf8(data):
        return False
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def decide(data: bytes, declared: str, file: str, *, fallback: str | None = None, label: str | None = None) -> Decoded:
    """Decode `data`, by its bytes when they contradict `declared`.

    * declared single-byte (CHARSET:1252...) but the bytes are valid UTF-8 with multi-byte
      characters: read as UTF-8, noted;
    * declared UTF-8 but not valid UTF-8, and `fallback` given and valid: read as `fallback`, noted;
    * otherwise strictly as declared (an undecodable byte is a rejection naming line and offset).
    """
    said = label or declared
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if _norm(declared) in _SINGLE_BYTE and not body.isascii() and is_utf8(body):
        return Decoded(decode_strict(data, "utf-8", file), "utf-8",
                       f"the file says {said} but its bytes are valid UTF-8 with multi-byte characters; read as UTF-8")
    if _norm(declared) in ("utf8", "utf8sig") and fallback and not is_utf8(body):
        try:
            text = decode_strict(data, fallback, file)
        except StatementRejected:  # the fallback does not fit either: report against the declared encoding
            return Decoded(decode_strict(data, declared, file), declared)
        return Decoded(text, fallback, f"the file says {said} but its bytes are not UTF-8; read as {fallback}, the stated fallback")
    return Decoded(decode_strict(data, declared, file), declared)


def utf8_only(data: bytes, file: str, what: str) -> str:
    """Strict UTF-8 for a format that is UTF-8 by its spec; a GBK/GB18030 file is recognised and
    refused saying so (a WeChat bill re-saved by a spreadsheet on a Chinese Windows), rather than
    as an unexplained bad byte."""
    if looks_gbk(data[3:] if data.startswith(b"\xef\xbb\xbf") else data):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
        raise StatementRejected(file, line, f"this looks like GBK/GB18030 (the bytes are valid GB18030 Chinese, not UTF-8); "
                                f"{what} are UTF-8: use the bill as downloaded, not a copy re-saved in another encoding",
                                code="encoding")
    return decode_strict(data, "utf-8", file)
