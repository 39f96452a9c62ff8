"""Reading a WeChat Pay trade bill before its one checked pass: header, last lines, and the scan.

A bill can be hundreds of megabytes, so the parser never holds it as text: the header line and the
last lines (the summary block and any blank lines after it) are read by byte ranges, and polars
scans the rest, one row per physical line. A gzip bill is gunzipped to bytes first. Bytes that are
not UTF-8 are refused the way `decode_strict` refuses them, naming the first bad byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import polars as pl

from parsers.registry import read_payload
from parsers.encoding import utf8_only
from parsers.text import REPLACEMENT

LINE = "line,"  # the column holding each physical line (a name no header can have)
TAIL_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Source:
    """What is known before the pass: the header line, the last lines, and what polars scans."""

    data: Path | bytes  # a gzip bill is gunzipped to bytes first
    header: str
    tail: tuple[str, ...]  # the last lines, CR dropped: the summary block and any blank lines after it
    ends_with_newline: bool

    @classmethod
    def read(cls, path: Path, name: str) -> Source:
        with open(path, "rb") as fh:
            if fh.read(2) == b"\x1f\x8b":
                payload = read_payload(path)
                return cls._of(payload, lambda start, stop: payload[start:stop], len(payload), path, name)

            def read_range(start: int, stop: int) -> bytes:
                fh.seek(start)
                return fh.read(stop - start)
            return cls._of(path, read_range, path.stat().st_size, path, name)

    @classmethod
    def _of(cls, data: Path | bytes, read_range: Callable[[int, int], bytes], size: int, path: Path,
            name: str) -> Source:
        bom = 3 if read_range(0, 3) == b"\xef\xbb\xbf" else 0  # decode_strict drops it too
        first = read_range(bom, min(size, bom + TAIL_BYTES))  # the header line, unless it is longer
        while b"\n" not in first and bom + len(first) < size:
            first = read_range(bom, min(size, bom + 2 * len(first)))
        header = _decode_line(first.split(b"\n", 1)[0], path, name)
        tail = _last_lines(read_range, bom, size, path, name)
        return cls(data, header, tail, size > bom and read_range(size - 1, size) == b"\n")

    def scan(self) -> pl.LazyFrame:
        """Lines 2 onwards, one row per physical line, numbered."""
        return pl.scan_csv(
            self.data, separator="\x00", has_header=False, skip_lines=1, schema={LINE: pl.String},
            quote_char=None, empty_string_is_null=False, raise_if_empty=False,
            row_index_name="source_line", row_index_offset=2,
        ).with_columns(pl.col("source_line").cast(pl.Int64))


def _last_lines(read_range: Callable[[int, int], bytes], start_of_text: int, size: int, path: Path,
                name: str) -> tuple[str, ...]:
    """The file's last whole lines, enough of them to hold the summary block and every blank line after it."""
    window = TAIL_BYTES
    while True:
        start = max(start_of_text, size - window)
        chunk = read_range(start, size)
        if start == start_of_text:
            return tuple(_decode_line(line, path, name) for line in chunk.split(b"\n"))
        if b"\n" in chunk:  # the window's first line is cut, unless it starts the file
            tail = tuple(_decode_line(line, path, name) for line in chunk[chunk.index(b"\n") + 1:].split(b"\n"))
            if len(tail) >= blank_at_end(tail) + 2:
                return tail
        window *= 2


def text_lines(text: str) -> pl.LazyFrame:
    """Lines 2 onwards of decoded text, numbered as `Source.scan` numbers them."""
    lines = text.split("\n")[1:]
    if text.endswith("\n"):
        lines.pop()
    return pl.LazyFrame({LINE: lines}, schema={LINE: pl.String}).select(
        pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias("source_line"), pl.col(LINE).str.strip_suffix("\r"),
    )


def _decode_line(raw: bytes, path: Path, name: str) -> str:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        undecodable(path, name)
    if REPLACEMENT in line:
        undecodable(path, name)
    return line[:-1] if line.endswith("\r") else line


def undecodable(path: Path, name: str) -> NoReturn:
    """Reject as `decode_strict` does: it names the file's first bad byte or U+FFFD, wherever it is."""
    utf8_only(read_payload(path), name, "WeChat Pay bills")
    raise AssertionError(f"{name}: part of the file does not decode, yet the whole file does")


def blank_at_end(lines: tuple[str, ...]) -> int:
    return next((i for i, line in enumerate(reversed(lines)) if line.strip() != ""), len(lines))
