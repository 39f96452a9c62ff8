"""Shared machinery for the Chinese channels' tabular statements (WeChat fund flow, Alipay, UnionPay).

These statements share their hazards: GBK/GB18030 or UTF-8 text that must decode strictly, a table
framed by comment, summary or footer lines, cells padded with tabs or prefixed with a backtick, long
ids that Excel may already have mangled to `4.2E+27`, yuan amounts with a fixed number of decimals,
and naive Beijing times.

A million-line bill must not go through per-row Python, nor through extra copies of its text. So a
table is read natively first (`native_utf8`, `native_decoded`): polars splits the cells straight
from the file's bytes (GB18030 is decoded in large line-aligned chunks), and Python only frames the
table from its head and tail. That read is trusted only on the happy grammar, which byte
accounting proves line by line; anything off it (a short, long or blank line, a stray CR, a byte
that does not decode) makes it decline, and the parser re-reads the file line by line
(`read_lines_frame`), which names the fault exactly as it always did. Either way the cells are
*strings* (never inferred), judged by the toolkit's rules and builders (parsers/table.py) in one
vectorised pass.
"""

from __future__ import annotations

import io
import mmap
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import polars as pl

from parsers.registry import read_payload
from parsers.text import REPLACEMENT, decode_strict
from recon.config.ruleset import RuleSet
from recon.errors import StatementRejected

CNY = "CNY"
UTF8_BOM = b"\xef\xbb\xbf"
# Internal column separator for reading whole lines natively; a statement never contains it.
LINE_SEP = "\x1f"
# Large enough that polars parallelises within a chunk, small enough that one chunk's decoded
# copy is a rounding error next to the table.
CHUNK_BYTES = 32 << 20
Stages = Sequence[Sequence[pl.Expr]]
FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def decode_cn(data: bytes, file: str, *, allow_utf8: bool = True) -> str:
    """Alipay re-exports are sometimes UTF-8 (with or without BOM); originals are GBK. Strict UTF-8
    almost never accepts GBK Chinese, so trying it first is safe; anything else decodes as GB18030
    (a superset of GBK), strictly, and a failure names the line and byte."""
    if allow_utf8:
        try:
            return decode_strict(data, "utf-8", file)
        except StatementRejected:
            pass
    return decode_strict(data, "gb18030", file)


def guess_encoding(data: bytes) -> tuple[str, int]:
    """(codec, offset past a UTF-8 BOM) for a native read, judged from the first line: a GBK first
    line is never strict UTF-8. Only a guess: the native read declines if the rest disagrees, and
    the file then goes through `decode_cn`, which decides on every byte."""
    start = 3 if data.startswith(UTF8_BOM) else 0
    end = data.find(b"\n", start)
    try:
        data[start : len(data) if end < 0 else end].decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030", 0
    return "utf-8", start


def sniff_text(head: bytes) -> str:
    """Text of a sample head for `identify` only: UTF-8, else GB18030, each decoded strictly up to
    the first byte that does not decode (the 64 KiB cut may split a character; a damaged byte
    further on is the parser's to reject with its line, not identification's)."""
    if head.startswith(UTF8_BOM):
        head = head[3:]
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # the cut fell inside one character
            return head[: exc.start].decode("utf-8")
    try:
        return head.decode("gb18030")
    except UnicodeDecodeError as exc:
        return head[: exc.start].decode("gb18030")


def norm_header(name: str) -> str:
    """Header names vary in width and decoration (`（元）`, `(元)`, `(+元)`, trailing tabs)."""
    return unicodedata.normalize("NFKC", name).strip().strip("\t ")


def zip_member_name(name: str) -> str:
    """Alipay zips store GBK names without the UTF-8 flag; zipfile decodes them as cp437."""
    try:
        return name.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


def zip_members(path: Path) -> dict[str, str]:
    """Recovered member name -> stored name, refusing unreadable archives and path tricks."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise StatementRejected(str(path), None, f"not a readable zip: {exc}", code="truncated") from None
    found: dict[str, str] = {}
    for info in infos:
        real = info.filename if info.flag_bits & 0x800 else zip_member_name(info.filename)
        if real.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", real):
            raise StatementRejected(str(path), None, f"zip member {real!r} escapes the archive", code="zip_slip")
        if not info.is_dir():
            found[real.rsplit("/", 1)[-1]] = info.filename
    return found


@contextmanager
def payload_buffer(path: Path) -> Iterator[tuple[bytes | mmap.mmap, Path | bytes]]:
    """(buffer to search, source for polars) of a possibly gzipped file. A plain file is mapped,
    not read: Python only searches it (framing, odd bytes) and polars reads the path itself. Close
    it before polars reads, or the file's pages count twice in RSS."""
    with open(path, "rb") as fh:
        plain = fh.read(2) != b"\x1f\x8b" and os.fstat(fh.fileno()).st_size > 0
        if not plain:
            data = read_payload(path)
            yield data, data
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            yield mapped, path


def utf8_clean(buf: bytes | mmap.mmap, start: int, end: int, separator: str) -> tuple[bool, bool]:
    """(buf[start:end] holds nothing a native read would take differently from the line reader,
    it holds a CR). polars would pass U+FFFD and 0x1f, which the line reader rejects, and drops a
    CR before a separator, which the line reader keeps in the cell. U+FFFD's lead byte and CR are
    rare in these files, so memchr usually settles both without a full search."""
    lead, cr = buf.find(b"\xef", start, end), buf.find(b"\r", start, end)
    odd = ((lead >= 0 and buf.find(REPLACEMENT.encode(), lead, end) >= 0) or buf.find(LINE_SEP.encode(), start, end) >= 0
           or (cr >= 0 and buf.find(f"\r{separator}".encode(), cr, end) >= 0))
    return not odd, cr >= 0


def native_utf8(source: Path | bytes, skip: int, size: int, tail: str, crs: bool, separator: str, fields: int,
                cells: dict[str, pl.Expr], grammar: pl.Expr | None = None, derived: Stages = ()) -> pl.DataFrame | None:
    """The table of a UTF-8 file read by polars in one pass: `cells` (expressions over the split
    columns f0…f{fields-1}), the `derived` columns computed from them in the same pass (each
    stage one `with_columns`; the line reader's rows get them with `derive`), and `line`; or None
    when the table is off the happy grammar.

    The table is the `size` bytes after the first `skip` lines, followed by `tail` (decoded, never
    empty). polars reads from the table to the end of the file (and checks UTF-8); the rows of the
    tail are dropped after checking that the first of them is the tail's first line. The caller has
    checked `utf8_clean` and says whether the table holds a CR (`crs`): then every line must end
    in CRLF, else a stray CR could hide a missing separator from the byte accounting."""
    boundary = tail.split("\n", 1)[0].removesuffix("\r").split(separator, 1)[0]
    frame = _scan(source, skip, separator, fields, cells, grammar, derived, boundary)
    if frame is None:
        return None
    rows = frame.height - tail.count("\n") - (not tail.endswith("\n"))
    if rows < 0 or rows >= frame.height or not frame.get_column("_boundary")[rows]:
        return None
    return _accounted(frame.head(rows), size, fields, rows if crs else 0, skip + 1)


def native_decoded(data: bytes, start: int, end: int, encoding: str, first_line: int, separator: str, fields: int,
                   cells: dict[str, pl.Expr], grammar: pl.Expr | None = None, derived: Stages = ()) -> pl.DataFrame | None:
    """As `native_utf8` for the table `data[start:end]` in another encoding (GB18030): decoded
    strictly and re-encoded in line-aligned chunks (a newline byte never occurs inside a GB18030
    character), each read by polars, so no copy of the whole text ever exists."""
    frames, pos = [], start
    while pos < end or not frames:
        cut = end if end - pos <= CHUNK_BYTES else data.find(b"\n", pos + CHUNK_BYTES - 1, end) + 1 or end
        try:
            raw = data[pos:cut].decode(encoding).encode("utf-8")
        except UnicodeDecodeError:
            return None
        clean, crs = utf8_clean(raw, 0, len(raw), separator)
        if not clean or raw.startswith(UTF8_BOM):  # polars drops a BOM that starts its input, the line reader keeps it
            return None
        frame = _scan(raw, 0, separator, fields, cells, grammar, derived)
        lines = raw.count(b"\n")
        if frame is None or frame.height != lines:
            return None
        frame = _accounted(frame, len(raw), fields, raw.count(b"\r\n") if crs else 0, first_line)
        if frame is None:
            return None
        frames.append(frame)
        first_line, pos = first_line + lines, cut
    return pl.concat(frames, how="vertical", rechunk=False)


def _scan(source: Path | bytes, skip: int, separator: str, fields: int, cells: dict[str, pl.Expr],
          grammar: pl.Expr | None, derived: Stages, boundary: str | None = None) -> pl.DataFrame | None:
    """Split the lines after `skip` into f0…, keep `cells`, their `derived` columns and what
    `_accounted` needs, in one streaming pass (the raw split columns are never materialised)."""
    names = [f"f{i}" for i in range(fields)]
    query = pl.scan_csv(source, has_header=False, separator=separator, quote_char=None, schema=dict.fromkeys(names, pl.String),
                        skip_lines=skip, empty_string_is_null=False, raise_if_empty=False)
    checks = {"_bytes": pl.sum_horizontal(pl.col(n).str.len_bytes() for n in names).cast(pl.Int64),
              "_cr": pl.col(names[-1]).str.ends_with("\r"), "_grammar": pl.lit(True) if grammar is None else grammar}
    if boundary is not None:
        checks["_boundary"] = pl.col("f0") == boundary
    try:
        return derive(query.select(**cells, **checks), derived).collect(engine="streaming")
    except pl.exceptions.PolarsError:  # a line longer than the header, or invalid UTF-8: the line reader names it
        return None


def derive(frame: FrameT, derived: Stages) -> FrameT:
    for stage in derived:
        frame = frame.with_columns(stage)
    return frame


def _accounted(frame: pl.DataFrame, size: int, fields: int, crs: int, first_line: int) -> pl.DataFrame | None:
    """`frame`, numbered from `first_line`, if its rows are exactly full lines filling `size` bytes, else None.

    Every byte is in a cell, a separator, a line end, or one of the `crs` CRs polars drops before
    LF. A short line lacks separators and a blank one lacks all of them, so the bytes accounted
    fall short; a long line polars refused already. A last cell still ending in CR means CRCRLF,
    which the line reader strips whole and polars does not."""
    used, cr, ok = frame.select(pl.col("_bytes").sum(), pl.col("_cr").any(), pl.col("_grammar").all()).row(0)
    if cr or not ok or size - (used or 0) - frame.height * fields != crs:
        return None
    return frame.select(pl.exclude("_bytes", "_cr", "_grammar", "_boundary")).with_columns(
        line=pl.int_range(first_line, first_line + frame.height, dtype=pl.Int64))


def read_lines_frame(body: str, start_line: int, file: str) -> pl.DataFrame:
    """Each physical line of `body` as one string cell `l`, read natively, plus its `line` number."""
    if LINE_SEP in body:
        at = body.index(LINE_SEP)
        raise StatementRejected(file, start_line + body.count("\n", 0, at), "control character 0x1f in the data", code="invalid_row")
    if not body:
        return pl.DataFrame(schema={"l": pl.String, "line": pl.Int64})
    frame = pl.read_csv(
        io.BytesIO(body.encode("utf-8")), separator=LINE_SEP, has_header=False, quote_char=None,
        infer_schema=False, new_columns=["l"], truncate_ragged_lines=False,
    )
    expected = body.count("\n") + (0 if body.endswith("\n") else 1)
    if frame.height != expected:
        raise StatementRejected(file, start_line, f"read {frame.height} lines, expected {expected}", code="invalid_row")
    return frame.with_columns(
        pl.col("l").fill_null("").str.strip_chars_end("\r"),
        line=pl.int_range(start_line, start_line + frame.height, dtype=pl.Int64),
    )


def require_columns(found: list[str], required: tuple[str, ...], file: str, line: int) -> None:
    missing = [c for c in required if c not in found]
    if missing:
        raise StatementRejected(file, line, f"missing required column(s): {', '.join(missing)}", code="missing_column")
    dupes = sorted({c for c in found if c and found.count(c) > 1})
    if dupes:
        raise StatementRejected(file, line, f"ambiguous duplicate column(s): {', '.join(dupes)}", code="missing_column")


def mapped(col: str, table: dict[str, str], default: str) -> pl.Expr:
    return pl.col(col).replace_strict(table, default=default, return_dtype=pl.String)


def status_expr(frame: pl.DataFrame, col: str, rules: RuleSet, field: str) -> pl.Expr:
    """Map raw codes through the channel's rule set; each distinct code is asked once."""
    codes = frame.get_column(col).unique().drop_nulls().to_list()
    return mapped(col, {c: rules.status_of(field, c) for c in codes}, "UNKNOWN")
