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
*strings* (never inferred), and every row rule and control sum is then one vectorised query
(`Verdict`): the success path pays one pass, and a failed rule is raised in the order the format
declares its checks, naming its first offending line.

Amount columns are validated against the format's grammar with a regex *before* the exact
string -> Decimal cast: polars' cast would otherwise accept `1e5` and silently round extra
decimals. Single values (footers, summaries) go through `recon.money.parse_amount`.
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
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import polars as pl

from parsers.columns import SCIENTIFIC_ID, local_time, to_utc  # noqa: F401 - the one to_utc, re-exported
from parsers.registry import read_payload
from parsers.text import REPLACEMENT, decode_strict
from recon.config.ruleset import RuleSet
from recon.errors import PROBLEM_CAP, Problem, StatementRejected
from recon.money import INTEGER_DIGITS, AmountGrammar, MoneyError, parse_amount, parse_count
from recon.schema import MONEY

CNY = "CNY"
YUAN = AmountGrammar(max_scale=2)
UTF8_BOM = b"\xef\xbb\xbf"
# Internal column separator for reading whole lines natively; a statement never contains it.
LINE_SEP = "\x1f"
# Large enough that polars parallelises within a chunk, small enough that one chunk's decoded
# copy is a rounding error next to the table.
CHUNK_BYTES = 32 << 20
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
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


def first_line(frame: pl.DataFrame, bad: pl.Expr) -> int | None:
    """Physical line of the first row where `bad` holds, or None when every row is fine."""
    hit = frame.lazy().filter(bad).select(pl.col("line").min()).collect()
    value = hit.item() if hit.height else None
    return int(value) if value is not None else None


def reject_if(frame: pl.DataFrame, bad: pl.Expr, file: str, reason: str, code: str = "invalid_row") -> None:
    line = first_line(frame, bad)
    if line is not None:
        raise StatementRejected(file, line, reason, code=code)


def require_columns(found: list[str], required: tuple[str, ...], file: str, line: int) -> None:
    missing = [c for c in required if c not in found]
    if missing:
        raise StatementRejected(file, line, f"missing required column(s): {', '.join(missing)}", code="missing_column")
    dupes = sorted({c for c in found if c and found.count(c) > 1})
    if dupes:
        raise StatementRejected(file, line, f"ambiguous duplicate column(s): {', '.join(dupes)}", code="missing_column")


@dataclass(frozen=True, slots=True)
class Rule:
    """A row rule: the rows where `bad` holds break it, and the file is rejected at the first.

    `screen`, when given, is a cheaper test that holds wherever `bad` does (an `e` before the
    full scientific-notation regex): `bad` itself is then only evaluated when the screen fires."""

    bad: pl.Expr
    reason: str
    code: str = "invalid_row"
    screen: pl.Expr | None = None


class Verdict:
    """Every row rule and control sum of one table, computed together in one query.

    The rules are raised by name (`reject`) in the order the format checks them, each at its first
    offending line, so a file with two faults is rejected for the same one however it was read.
    The sums are what the footers are compared with. `frame` needs the `line` column."""

    def __init__(self, frame: pl.DataFrame, rules: dict[str, Rule], sums: dict[str, pl.Expr]) -> None:
        self._rules = rules
        self._frame = frame
        firsts = [(pl.col("line").filter(r.bad).min() if r.screen is None else r.screen.any()).alias(f"rule {k}") for k, r in rules.items()]
        self._values = frame.select(*firsts, *(expr.alias(f"sum {key}") for key, expr in sums.items())).row(0, named=True)
        screened = {k: self._values[f"rule {k}"] for k, r in rules.items() if r.screen is not None}
        self._values.update({f"rule {k}": None for k in screened})
        if any(screened.values()):
            lines = frame.select(pl.col("line").filter(rules[k].bad).min().alias(f"rule {k}") for k, hit in screened.items() if hit)
            self._values.update(lines.row(0, named=True))

    def reject(self, file: str, *keys: str) -> None:
        """Raise for the first of `keys` that is broken (headline: its first line), listing every
        offending line of every broken rule among `keys`, capped, with the count in all."""
        broken = [k for k in keys if self._values[f"rule {k}"] is not None]
        if not broken:
            return
        problems: list[Problem] = []
        count = 0
        for key in broken:
            rule = self._rules[key]
            lines = self._frame.filter(rule.bad).get_column("line")
            count += lines.len()
            problems += [Problem(file, int(n), rule.reason, rule.code) for n in lines.head(PROBLEM_CAP).to_list()]
        head = next(p for p in problems if p.line == int(self._values[f"rule {broken[0]}"]))
        raise StatementRejected.of([head, *(p for p in problems if p is not head)], count, by_line=True)

    def __getitem__(self, key: str):
        return self._values[f"sum {key}"]

    def decimal(self, key: str, rows: str) -> Decimal:
        """A Decimal sum; over no rows it is 0 (not 0.000000), as the footers' messages print it."""
        return Decimal(self[key]) if self[rows] else Decimal(0)


def id_rule(col: str) -> Rule:
    return Rule(pl.col(col).str.contains(SCIENTIFIC_ID), f"{col}: id in scientific notation (precision lost, e.g. opened in Excel)",
                "id_mangled", screen=pl.col(col).str.contains_any(["e", "E"]))


def money(col: str, name: str, *, scale: int = 2, unsigned: bool = False) -> tuple[pl.Expr, Rule]:
    """Column `name`: the exact Decimal of `col` where it fits the amount grammar, else null; and
    the rule that rejects the rows where it does not. The regex runs before the cast, always."""
    sign = "" if unsigned else "[+-]?"
    fits = pl.col(col).str.contains(rf"^{sign}{INTEGER_DIGITS}(\.[0-9]{{1,{scale}}})?$")
    # Not strict: a grammatical amount too large for MONEY becomes null, a rejection naming its
    # line, rather than an exception from inside polars.
    return (pl.when(fits).then(pl.col(col)).cast(MONEY, strict=False).alias(name),
            Rule(pl.col(name).is_null(), f"{col}: not an amount with at most {scale} decimals"))


def naive_time(col: str, name: str, fmt: str = _TIME_FORMAT) -> tuple[pl.Expr, Rule]:
    """Column `name`: `col` as a naive local time, null where it does not parse; and the rule that
    rejects a non-empty time that does not parse. `to_utc` makes it an instant."""
    parsed = local_time(col, fmt).alias(name)  # the format's grammar first: no signed years
    return parsed, Rule(pl.col(name).is_null() & (pl.col(col) != ""), f"{col}: not a time in {fmt}")


def mapped(col: str, table: dict[str, str], default: str) -> pl.Expr:
    return pl.col(col).replace_strict(table, default=default, return_dtype=pl.String)


def status_expr(frame: pl.DataFrame, col: str, rules: RuleSet, field: str) -> pl.Expr:
    """Map raw codes through the channel's rule set; each distinct code is asked once."""
    codes = frame.get_column(col).unique().drop_nulls().to_list()
    return mapped(col, {c: rules.status_of(field, c) for c in codes}, "UNKNOWN")


def amount_text(text: str, file: str, line: int | None, what: str) -> Decimal:
    try:
        return parse_amount(text)
    except MoneyError as exc:
        raise StatementRejected(file, line, f"{what}: {exc}", code="invalid_footer") from None


def count_text(text: str, file: str, line: int | None, what: str) -> int:
    """Counts are sometimes printed as floats ("20.0"); anything not a whole number is refused."""
    try:
        return parse_count(text)
    except MoneyError:
        raise StatementRejected(file, line, f"{what}: {text!r} is not a count", code="invalid_footer") from None


def compare(file: str, line: int | None, what: str, stated: object, computed: object, checks: list[str]) -> None:
    """One control total: equal is recorded as a check, unequal rejects the whole file."""
    if stated != computed:
        raise StatementRejected(file, line, f"totals mismatch: {what} says {stated}, lines give {computed}", code="totals_mismatch")
    checks.append(f"{what} {stated} = lines")
