"""Reading header-named CSV statements as strings, with every row tied to its physical line.

The international channels (Stripe, PayPal, Adyen) ship comma-separated files whose column sets
vary by account, report version and request parameters, so a column is found by its header name,
never by position; a required name that is missing rejects the file (FAULTS A3, A8). Nothing is
type-inferred: every cell is read as a string, because inference turns an id like `46239229.1` or
an amount into a float (FAULTS E1, E6). Amounts are validated against `recon.money`'s grammar and
the currency's exponent, and only then cast to `recon.schema.MONEY`.

Rows carry `_line`, their 1-based physical line. A 1,000,000-line bill must read in about the time
polars needs for the file itself, so there are two readers with one meaning:

* the native reader hands the bytes to `polars.read_csv` (RFC 4180 quoting on, every column a
  string, row index = physical line). It is trusted only when the bytes prove that its reading is
  the exact one: a row of f fields holds f - 1 separators, every other byte is a quote, a line
  break or part of a value, and a quote or line break inside a value is counted twice. Polars
  refuses rows wider than the header, so (bytes - quotes - line breaks - value bytes) equals
  rows x (width - 1) only when every line is one record of the header's width whose quotes all
  frame fields. Polars refuses invalid UTF-8 itself; U+FFFD and a quote left open on the last
  line are byte searches.
* the exact reader (`physical_lines`, `records`) decodes in Python, splits lines and counts fields;
  it decides every file the native reader does not prove (ragged or blank lines, quoted line
  breaks, stray quotes, bad bytes), so every rejection keeps its line and its words.

Checks follow the same idea (parsers/table.py): a `Verdict` answers "does any row break any rule?"
in one parallel pass and only then lists, rule by rule in order, every offending line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from parsers.base import Sample
from parsers.registry import read_payload
from parsers.text import decode_strict
from parsers.table import blank_to_null
from recon.errors import StatementRejected

LINE = "_line"
_QUOTED_RE = r'"(?:[^"]|"")*"'
BOM = b"\xef\xbb\xbf"
_FFFD = "\ufffd".encode()
_CHUNK = 1 << 24
# What `str.strip_chars()` trims besides the space, LF and CR: the bytes are searched for them
# first, so a file without tabs does not pay for testing every cell for a leading tab.
_ASCII_SPACES = ("\t", "\v", "\f")


def read_text(path: Path, file: str, *, utf16: bool = False) -> str:
    """The file decoded strictly: UTF-8 (one BOM stripped), or UTF-16 when it starts with its BOM."""
    data = read_payload(path)
    if utf16 and data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return decode_strict(data, "utf-16", file)  # the codec consumes the BOM and picks the byte order
    return decode_strict(data, "utf-8", file)


def read_utf8(path: Path, file: str, *, utf16: bool = False) -> bytes:
    """The file's bytes for the native reader: UTF-8 as stored, or UTF-16 decoded strictly and
    re-encoded behind a BOM (polars drops one leading BOM, as `read_text` does)."""
    data = read_payload(path)
    if utf16 and data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return BOM + decode_strict(data, "utf-16", file).encode("utf-8")
    return data


def sample_text(sample: Sample, *, utf16: bool = False) -> str | None:
    """The decodable prefix of a sample for `identify`; None when it is not text in our encodings."""
    head = sample.head
    if sample.members or head[:2] == b"PK":
        return None  # a zip or an xlsx: none of our CSV formats
    encoding = "utf-8"
    if utf16 and head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    elif head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    try:
        return head.decode(encoding)
    except UnicodeDecodeError as exc:
        # The sample may end inside a multi-byte character; anything earlier means "not ours".
        if exc.start < len(head) - 4:
            return None
        return head[: exc.start].decode(encoding)


def header_has(sample: Sample, names: Iterable[str], *, utf16: bool = False) -> bool:
    """Whether the first record of a sample's text carries every one of `names` (compared normalised)."""
    text = sample_text(sample, utf16=utf16)
    if text is None:
        return False
    header = {norm(h) for h in first_record(text.split("\n", 1)[0])}
    return {norm(n) for n in names} <= header


def norm(name: str) -> str:
    """Header names compared without case and runs of whitespace (PayPal's `Transaction  Debit`)."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()


def first_record(text: str) -> list[str]:
    """The first CSV record of `text` (a header), or [] when there is none."""
    for row in csv.reader(io.StringIO(text)):
        return row
    return []


@dataclass(frozen=True, slots=True)
class Layout:
    """Declared columns of a format: which names must be present and which may be."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    def resolve(self, header: Sequence[str], file: str, line: int = 1) -> dict[str, str]:
        """Map each declared name to the file's own spelling; reject a missing or doubled name."""
        seen: dict[str, str] = {}
        for name in header:
            key = norm(name)
            if key and key in seen and key in {norm(c) for c in (*self.required, *self.optional)}:
                raise StatementRejected(file, line, f"column {name!r} appears twice in the header", code="layout")
            seen.setdefault(key, name)
        missing = [c for c in self.required if norm(c) not in seen]
        if missing:
            raise StatementRejected(
                file, line, f"unknown column layout: missing required column(s) {', '.join(missing)}", code="layout"
            )
        return {c: seen[norm(c)] for c in (*self.required, *self.optional) if norm(c) in seen}


# --- the native reader -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ByteFacts:
    """What the raw bytes of a body (from one line start to the end) say, found by byte searches."""

    quotes: int
    spaces: tuple[str, ...]  # the characters `strip_chars()` trims that occur (LF and CR never stay in a value)
    ascii: bool


def byte_facts(data: bytes, start: int) -> ByteFacts | None:
    """Facts about `data[start:]`; None when only the exact reader may judge it: a U+FFFD (a lossy
    decoder already damaged the file), or a last line with an odd number of quotes (polars reads a
    quote left open at the end of the file as closed; everywhere else an open quote swallows a
    line break, which the byte accounting then shows)."""
    if data.find(b"\xef", start) >= 0 and data.find(_FFFD, start) >= 0:
        return None
    end = len(data)
    while end > start and data[end - 1] in b" \t\r\n\v\f":
        end -= 1  # blank lines at the end carry no quotes; the last record is above them
    if data.count(b'"', max(data.rfind(b"\n", start, end) + 1, start), end) % 2:
        return None
    spaces = (" ", *(c for c in _ASCII_SPACES if data.find(c.encode(), start) >= 0))
    view = memoryview(data)
    ascii_ = data.isascii() or all(bytes(view[i:i + _CHUNK]).isascii() for i in range(start, len(data), _CHUNK))
    return ByteFacts(data.count(b'"', start), spaces, ascii_)


def text_lines(data: bytes, skip: int = 0) -> pl.LazyFrame:
    """The physical lines after `skip` as one string column `t`, without their line breaks (and
    the CR of a CRLF, as `physical_lines`): NUL is the separator and quoting is off, so each line
    is one cell, and a NUL or invalid UTF-8 fails the scan."""
    return pl.scan_csv(data, has_header=False, separator="\x00", quote_char=None, skip_lines=skip,
                       schema={"t": pl.String}, empty_string_is_null=False, raise_if_empty=False)


def value_bytes(table: pl.DataFrame) -> int:
    return sum(table.select(pl.exclude(LINE).str.len_bytes().cast(pl.UInt64).sum()).row(0))


def read_records(path: Path, file: str, layout: Layout, used: Sequence[str] | None = None,
                 check_columns: Callable[[dict[str, str]], None] | None = None) -> tuple[dict[str, str], pl.DataFrame]:
    """A one-table CSV (header on line 1): {declared name: the file's spelling} and a frame of the
    declared columns the parser `used` (trimmed strings, blank as null) plus `_line`.
    `check_columns` runs right after the header is resolved, before any row is judged."""
    data = read_payload(path)
    native = _native_table(data)
    if native is None:
        cols, frame = _exact_records(path, file, layout, check_columns)
    else:
        header, table, facts = native
        cols = layout.resolve(header, file)
        if check_columns is not None:
            check_columns(cols)
        keep = [k for k in cols if used is None or k in used]
        frame = table.select(*(pl.col(f"_{header.index(cols[k])}").alias(k) for k in keep), pl.col(LINE).cast(pl.Int64))
        frame = native_blank_to_null(frame, keep, facts)
    return cols, frame if used is None else frame.select(*(k for k in cols if k in used), LINE)


def _native_table(data: bytes) -> tuple[list[str], pl.DataFrame, ByteFacts] | None:
    """Header and body read by polars as positional columns `_0`..; None unless proven exact.

    Proof: each row of f fields holds f - 1 separators, and every other slack byte is in a value
    unless it is a quote inside a value (counted twice: as a quote and in the value) or a line
    break inside one (likewise). Polars refuses rows wider than the header, so the slack equals
    rows x (width - 1) only when every row has the header's width and no value holds a quote or
    a line break: then every line is one record and every line has an even number of quotes.
    """
    start = 3 if data.startswith(BOM) else 0
    end = data.find(b"\n", start)
    if end < 0:
        return None  # no body line: the exact reader says what is missing
    try:
        text = data[start:end].decode("utf-8").removesuffix("\r")
    except UnicodeDecodeError:
        return None
    header = first_record(text)
    if len(header) < 2 or "\ufffd" in text:  # one column has no field count to prove anything with
        return None
    body = end + 1
    facts = byte_facts(data, body)
    table = None if facts is None else native_rows(data, skip=1, width=len(header))
    if table is None:
        return None
    # Every CR is left out: polars drops the one before LF and one before a separator (a cell
    # edge, which the exact reader trims); one it keeps inside a value leaves the sum short.
    crs = data.count(b"\r", body) if data.find(b"\r", body) >= 0 else 0
    slack = len(data) - body - facts.quotes - data.count(b"\n", body) - crs
    if slack - value_bytes(table) != table.height * (len(header) - 1):
        return None
    return header, table, facts


def native_rows(data: bytes, *, skip: int, width: int) -> pl.DataFrame | None:
    """Lines after the first `skip` as `width` string columns `_0`.. and `_line`; None if polars refuses."""
    try:
        return pl.read_csv(
            data, has_header=False, skip_lines=skip, schema={f"_{i}": pl.String for i in range(width)},
            quote_char='"', empty_string_is_null=False, row_index_name=LINE, row_index_offset=skip + 1,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        # Invalid UTF-8, a row wider than the header, a stray quote: the exact reader says which line.
        return None


def native_blank_to_null(frame: pl.DataFrame, columns: Sequence[str], facts: ByteFacts) -> pl.DataFrame:
    """`table.blank_to_null` on every cell, as the exact reader applies it, for the native read.

    Trimming every cell costs more than reading the file, and almost no cell needs it, so a column
    is trimmed only when one of its cells starts or ends with a space character found in the
    bytes, or (in a non-ASCII file) holds non-ASCII text, where Unicode spaces may hide.
    """
    def suspect(c: str) -> pl.Expr:
        col = pl.col(c)
        edges = [e for s in facts.spaces for e in (col.str.starts_with(s), col.str.ends_with(s))]
        if not facts.ascii:
            edges.append(col.str.len_chars() != col.str.len_bytes())
        return pl.any_horizontal(*edges).any().alias(c)
    trim = frame.select(suspect(c) for c in columns).row(0, named=True) if columns else {}
    cells = {c: pl.col(c).str.strip_chars() if trim[c] else pl.col(c) for c in columns}
    return frame.with_columns(pl.when(e != "").then(e).alias(c) for c, e in cells.items())


def _exact_records(path: Path, file: str, layout: Layout,
                   check_columns: Callable[[dict[str, str]], None] | None) -> tuple[dict[str, str], pl.DataFrame]:
    lines = physical_lines(read_text(path, file))
    if lines.is_empty():
        raise StatementRejected(file, None, "empty file: no header", code="truncated")
    header = first_record(lines["text"][0])
    cols = layout.resolve(header, file)
    if check_columns is not None:
        check_columns(cols)
    frame = records(lines.slice(1), header, file).rename({v: k for k, v in cols.items()})
    return cols, frame.select([*cols, LINE])


# --- the exact reader --------------------------------------------------------------------------

def physical_lines(text: str, first_line: int = 1) -> pl.DataFrame:
    """One row per physical line: `_line` (1-based) and `text` (without the line break)."""
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()  # the file's final newline does not start another line
    frame = pl.DataFrame({"text": parts}, schema={"text": pl.String})
    return frame.with_columns(
        pl.col("text").str.strip_suffix("\r"),
        (pl.int_range(pl.len(), dtype=pl.Int64) + first_line).alias(LINE),
    )


def records(lines: pl.DataFrame, header: Sequence[str], file: str) -> pl.DataFrame:
    """Parse data lines (`text`, `_line`) into string columns named by `header`, plus `_line`.

    Blank lines are skipped. A record with a different number of fields than the header is a
    truncated or damaged row and rejects the file with its line.
    """
    lines = lines.filter(pl.col("text").str.strip_chars() != "")
    names = [f"{h}" for h in header]
    if lines.is_empty():
        return pl.DataFrame(schema={**{n: pl.String for n in names}, LINE: pl.Int64})
    if lines.select((pl.col("text").str.count_matches('"') % 2 == 1).any()).item():
        return _records_slow(lines, names, file)
    fields = pl.col("text").str.replace_all(_QUOTED_RE, "").str.count_matches(",") + 1
    bad = lines.filter(fields != len(names)).head(1)
    if bad.height:
        n = bad.select(fields).item()
        raise StatementRejected(
            file, bad[LINE][0], f"row has {n} fields, the header has {len(names)} (truncated or damaged row)", code="fields"
        )
    body = "\n".join(lines["text"].to_list()).encode("utf-8")
    frame = pl.read_csv(
        io.BytesIO(body), has_header=False, new_columns=names, infer_schema=False, quote_char='"'
    )
    if frame.height != lines.height:
        raise StatementRejected(file, None, f"read {frame.height} records from {lines.height} lines", code="fields")
    return _blank_to_null(frame).with_columns(lines[LINE])


def _records_slow(lines: pl.DataFrame, names: list[str], file: str) -> pl.DataFrame:
    """Quoted fields span lines: let the csv module find where each record starts."""
    starts = lines[LINE].to_list()
    text = "\n".join(lines["text"].to_list())
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    at: list[int] = []
    begin = 1
    try:
        for row in reader:
            rows.append(row)
            at.append(starts[begin - 1])
            begin = reader.line_num + 1
    except csv.Error as exc:
        raise StatementRejected(file, starts[min(begin, len(starts)) - 1], f"malformed CSV: {exc}", code="fields") from None
    for row, line in zip(rows, at):
        if len(row) != len(names):
            raise StatementRejected(file, line, f"row has {len(row)} fields, the header has {len(names)}", code="fields")
    frame = pl.DataFrame([list(c) for c in zip(*rows)] if rows else [[] for _ in names], schema=names, orient="col")
    return _blank_to_null(frame.with_columns(pl.all().str.strip_chars())).with_columns(pl.Series(LINE, at, pl.Int64))


def _blank_to_null(frame: pl.DataFrame) -> pl.DataFrame:
    # `""` and a bare empty field mean the same in these files (FAULTS: Adyen mixes both).
    return frame.with_columns(blank_to_null(c) for c in frame.columns)
