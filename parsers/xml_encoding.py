"""Which encoding an XML statement (camt) is read in: decided by its bytes, the decision recorded.

expat honours the XML declaration, and without one reads UTF-8 and refuses anything else. Banks get
both wrong in the two ways issue #19 met:

* no declaration, Latin-1 bytes (a German bank's umlauts): refused by expat although the text is
  plain. When undeclared bytes are not valid UTF-8 they are read as ISO-8859-1, the stated
  fallback (every byte is a Latin-1 character, so nothing is lost or invented), with a note;
* a single-byte declaration (`ISO-8859-1`, `windows-1252`) over UTF-8 bytes: expat would read every
  accented name as mojibake without a word. Bytes valid as UTF-8 with multi-byte characters are
  UTF-8 (a single-byte text almost never is), so the declaration is rewritten to UTF-8, noted.

Any other declaration is honoured as written. Validation streams the file once in 1 MiB chunks.
"""

from __future__ import annotations

import codecs
import io
import re
from typing import IO

_DECLARATION = re.compile(rb"^(\xef\xbb\xbf)?(\s*<\?xml[^>]*?\bencoding\s*=\s*[\"'])([A-Za-z0-9._-]+)([\"'])", re.S)
_SINGLE_BYTE = {"iso88591", "latin1", "windows1252", "cp1252", "iso885915", "usascii", "ascii"}


def _utf8_verdict(stream: IO[bytes]) -> tuple[bool, bool, int]:
    """(valid UTF-8, has non-ASCII bytes, offset of the first bad byte) over the whole stream."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, wide = 0, False
    try:
        while chunk := stream.read(1 << 20):
            decoder.decode(chunk)
            wide = wide or not chunk.isascii()
            offset += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return False, True, offset + exc.start
    finally:
        stream.seek(0)
    return True, wide, -1


class _Prefixed(io.RawIOBase):
    """`prefix` then `stream` from `skip` on: the document with its declaration rewritten."""

    def __init__(self, prefix: bytes, stream: IO[bytes], skip: int) -> None:
        self.prefix, self.stream = prefix, stream
        stream.seek(skip)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.prefix:
            head, self.prefix = self.prefix, b""
            return head
        return self.stream.read(size)


def decided_stream(stream: IO[bytes]) -> tuple[IO[bytes], str | None]:
    """The stream to feed expat and, when it departs from what the file says, a note saying why."""
    head = stream.read(512)
    stream.seek(0)
    declared = _DECLARATION.match(head)
    if declared:
        name = declared.group(3).decode()
        if name.replace("-", "").replace("_", "").lower() not in _SINGLE_BYTE:
            return stream, None
        valid, wide, _ = _utf8_verdict(stream)
        if not (valid and wide):
            return stream, None
        prefix = (declared.group(1) or b"") + declared.group(2) + b"UTF-8" + declared.group(4)
        return (_Prefixed(prefix, stream, declared.end()),  # type: ignore[return-value]
                f"the XML declaration says {name} but the bytes are valid UTF-8 with multi-byte characters; read as UTF-8")
    valid, _, bad = _utf8_verdict(stream)
    if valid:
        return stream, None
    return (codecs.EncodedFile(stream, "utf-8", "latin-1"),  # type: ignore[return-value]
            f"no XML encoding declaration and the bytes are not UTF-8 (first bad byte at offset {bad}); "
            "read as ISO-8859-1 (Latin-1), the stated fallback")
