"""The layout both Alipay bills share (业务明细 and 账务明细); the two parsers are in parsers/alipay.py.

Alipay ships a `.csv.zip` holding GBK CSVs (a detail file and a `(汇总)` summary; big bills are split
into `_1`, `_2` parts) whose member names are GBK bytes without the UTF-8 flag. A detail file is a
`#` preamble (account, period), a `#-----…列表-----` marker, the column header, the rows, a
`#-----…列表结束-----` marker and `#` footer lines carrying the control totals
(`#交易合计：6笔，商家实收共0.06元`). Id cells end with a TAB so Excel keeps them as text; refund rows
are negative. A bare CSV (no zip) is accepted too. A day with no activity is a file with the frame
and footers but no rows: an empty bill, not an error.

Everything that can be checked is checked before a row is returned: the footer counts and sums per
direction, and, when the zip carries it, the 汇总 file's 合计 row. Any `#` line inside the table, a
missing end marker or footer (truncation), a row with the wrong number of cells, or an unknown
column layout rejects the whole file. Layout per FORMATS.md §2.

A million-row bill is cut on its bytes: the `#` frame from the head and the end marker found from
the tail, the table decoded in large chunks and split by polars (cn_common). Only a file that
this native read declines (any of the faults above, or anything odd) is decoded whole and split
line by line, and that reader names the fault.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import polars as pl

from parsers.base import ParseContext, ParsedStatement, Sample
from parsers.cn_common import (
    decode_cn,
    guess_encoding,
    native_decoded,
    native_utf8,
    read_lines_frame,
    require_columns,
    sniff_text,
    utf8_clean,
    zip_member_name,
    zip_members,
)
from parsers.table import Rule, Verdict
from parsers.registry import open_member_bytes, read_payload
from parsers.text import REPLACEMENT
from recon.errors import StatementRejected

MEMBER_LIMIT = 2 << 30


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@dataclass(frozen=True, slots=True)
class Section:
    """One detail CSV cut into its parts; line numbers are 1-based physical lines."""

    preamble: tuple[str, ...]
    columns: tuple[str, ...]
    header_line: int
    rows: pl.DataFrame
    footer: tuple[tuple[int, str], ...]


def split_detail(data: bytes, name: str, title: str, norm, required: tuple[str, ...], wanted: tuple[str, ...]) -> Section:
    """Cut a detail file at its markers; the table is read natively, and only a file off the happy
    grammar is decoded whole and split line by line, which names its fault."""
    section = _native_detail(data, title, norm, required, wanted)
    return section if section is not None else _split_by_lines(decode_cn(data, name), name, title, norm, required, wanted)


def _native_detail(data: bytes, title: str, norm, required: tuple[str, ...], wanted: tuple[str, ...]) -> Section | None:
    """`_split_by_lines`'s cut made on the bytes, the frame decoded line by line and the table by
    polars; None wherever that cut would reject or anything is off the happy grammar. `#`, commas
    and newlines are ASCII and never inside a GB18030 or UTF-8 character, so the cut is the same
    in either encoding. A day without activity (no table) is left to the line reader."""
    encoding, pos = guess_encoding(data)
    line, preamble = 1, []
    try:
        while data.startswith(b"#", pos):
            end = data.find(b"\n", pos)
            text = data[pos : len(data) if end < 0 else end].decode(encoding)
            if "列表结束" in text or end < 0:
                break
            preamble.append(_nfkc(text).strip("\r, "))
            pos, line = end + 1, line + 1
        # The end marker is found from the end of the file, not by scanning the table; a `#` line
        # inside the table then fails the grammar below instead of ending the table early.
        end_at = data.rfind(b"\n", pos, max(data.rfind("列表结束".encode(encoding), pos), 0))
        header_end = data.find(b"\n", pos, end_at + 1)
        if not preamble or not preamble[0].startswith(title) or end_at < 0 or header_end < 0 or data[end_at + 1 : end_at + 2] != b"#":
            return None
        header, tail = data[pos:header_end].decode(encoding).strip("\r"), data[end_at + 1 :].decode(encoding)
        columns = tuple(norm(c) for c in header.split(","))
        require_columns(list(columns), required, "", line)
    except (UnicodeDecodeError, StatementRejected):
        return None
    if header.strip() in ("", "本日无收支") or any(REPLACEMENT in t for t in (*preamble, header, tail)):
        return None
    cells = {c: pl.col(f"f{i}").str.strip_chars(" \t") for i, c in enumerate(columns) if c in wanted}
    grammar = ~pl.col("f0").str.starts_with("#")
    if encoding == "utf-8":
        clean, crs = utf8_clean(data, header_end + 1, end_at + 1, ",")
        rows = native_utf8(data, line, end_at - header_end, tail, crs, ",", len(columns), cells, grammar) if clean else None
    else:
        rows = native_decoded(data, header_end + 1, end_at + 1, encoding, line + 1, ",", len(columns), cells, grammar)
    if rows is None:
        return None
    footer = [(line + 1 + rows.height + i, _nfkc(t).strip("\r")) for i, t in enumerate(tail.split("\n"))]
    if "列表结束" not in footer[0][1] or any(t.strip(", ") and not t.startswith("#") for _, t in footer):
        return None
    return Section(tuple(preamble), columns, line, rows, tuple((n, t.rstrip(", ")) for n, t in footer if t.strip(", ")))


def _split_by_lines(text: str, name: str, title: str, norm, required: tuple[str, ...], wanted: tuple[str, ...]) -> Section:
    """Cut a decoded detail file at its markers, reading the table line by line: exact about every fault."""
    pos, line, preamble = 0, 1, []
    while pos < len(text) and text.startswith("#", pos):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        if "列表结束" in text[pos:end]:
            break  # an empty day may have no header row: the end marker follows the preamble
        preamble.append(_nfkc(text[pos:end]).strip("\r, "))
        pos, line = end + 1, line + 1
    if not preamble or not preamble[0].startswith(title):
        raise StatementRejected(name, 1, f"not a {title[1:]} file (first line is not {title})", code="unknown_layout")
    end_at = text.find("\n#", pos - 1) if pos else -1
    if end_at < 0:
        raise StatementRejected(name, None, "end-of-list marker and footer are missing: file truncated", code="truncated")
    table = text[pos : end_at + 1]
    header_end = table.find("\n")
    header_text = table[:header_end].strip("\r") if header_end >= 0 else ""
    body = table[header_end + 1 :] if header_end >= 0 else ""
    if header_text.strip() in ("", "本日无收支") and not body.strip():
        columns: tuple[str, ...] = ()  # an empty day may omit the header row
        rows = pl.DataFrame(schema={"line": pl.Int64})
    else:
        columns = tuple(norm(c) for c in header_text.split(","))
        require_columns(list(columns), required, name, line)
        rows = _cells(read_lines_frame(body, line + 1, name), columns, name, wanted)
    tail_line = line + table.count("\n")
    footer = [(tail_line + i, _nfkc(t).strip("\r")) for i, t in enumerate(text[end_at + 1 :].split("\n"))]
    if not footer or "列表结束" not in footer[0][1]:
        raise StatementRejected(name, tail_line, "a '#' line inside the table (expected the end-of-list marker)", code="invalid_row")
    stray = [(n, t) for n, t in footer if t.strip(", ") and not t.startswith("#")]
    if stray:
        raise StatementRejected(name, stray[0][0], "unexpected non-comment line after the table", code="invalid_row")
    return Section(tuple(preamble), columns, line, rows, tuple((n, t.rstrip(", ")) for n, t in footer if t.strip(", ")))


def _cells(lines: pl.DataFrame, columns: tuple[str, ...], name: str, wanted: tuple[str, ...]) -> pl.DataFrame:
    """Split rows on commas (Alipay does not quote) and strip the TAB/space padding of every cell."""
    Verdict(lines, [Rule(pl.col("l").str.count_matches(",", literal=True) != len(columns) - 1,
                         f"row does not have {len(columns)} cells (blank line, cut line or a comma in free text)")], name).refuse()
    parts = lines.with_columns(pl.col("l").str.split(","))
    return parts.select(
        # Only the columns the bill uses are materialised: a million rows x 25 cells is the hot path.
        *[pl.col("l").list.get(i).str.strip_chars(" \t").alias(c) for i, c in enumerate(columns) if c in wanted],
        pl.col("line"),
    )


def footer_total(section: Section, label: str, pattern: str, name: str) -> tuple[int, int, str]:
    """(line, count, amount text) of a `#<label>：N笔，…共X元` footer; absent means truncated."""
    for line, text in section.footer:
        if text.startswith(f"#{label}"):
            hit = re.match(rf"#{label}:(\d+)笔,{pattern}共([+-]?[\d.]+)元", text)
            if not hit:
                raise StatementRejected(name, line, f"footer {label} not understood: {text!r}", code="invalid_footer")
            return line, int(hit.group(1)), hit.group(2)
    raise StatementRejected(name, None, f"footer #{label} is missing: file truncated", code="truncated")


def preamble_value(section: Section, label: str) -> str | None:
    for text in section.preamble:
        hit = re.match(rf"#{label}:\[([^\]]*)\]", text)
        if hit:
            return hit.group(1).strip()
    return None


def bill_date_of(section: Section, ctx: ParseContext) -> dt.date | None:
    if ctx.bill_date:
        return ctx.bill_date
    start = preamble_value(section, "起始日期")
    hit = re.match(r"(\d{4})年(\d{2})月(\d{2})日", start or "")
    if hit:
        return dt.date(int(hit.group(1)), int(hit.group(2)), int(hit.group(3)))
    return None


def _is_member(name: str, kind: str, summary: bool) -> re.Match | None:
    mark = rf"{kind}\(汇总\)" if summary else rf"{kind}(?!\(汇总\))"
    return re.search(rf"_{mark}(_\d+)?\.csv$", _nfkc(name))


class AlipayBillParser(ABC):
    """What both Alipay bills share: zip handling, decoding, footers, the 汇总 check."""
    rule_family = "alipay"

    bill_kind: ClassVar[str]  # the member-name word: 业务明细 or 账务明细
    title: ClassVar[str]
    marks: ClassVar[tuple[str, ...]]

    def identify(self, sample: Sample) -> bool:
        if sample.members:
            return any(_is_member(zip_member_name(m), self.bill_kind, False) for m in sample.members)
        text = sniff_text(sample.head)
        if _nfkc(text).startswith(self.title):
            return True
        header = next((ln for ln in text.split("\n") if ln and not ln.startswith("#")), "")
        names = {self.norm(c) for c in header.split(",")}
        return all(m in names for m in self.marks)

    @staticmethod
    def norm(name: str) -> str:
        return _nfkc(name).strip(" \t\r")

    def parse(self, path: Path, ctx: ParseContext) -> ParsedStatement:
        name = ctx.source_name or str(path)
        with open(path, "rb") as fh:
            zipped = fh.read(4) == b"PK\x03\x04"
        if not zipped:
            bill, checks, warnings = self.parse_detail(read_payload(path), name, None, ctx)
            return ParsedStatement(bill=bill, checks=tuple(checks), warnings=tuple(warnings))
        members = zip_members(path)
        details = sorted((m for m in members if _is_member(m, self.bill_kind, False)), key=_part)
        summaries = {_part(m): m for m in members if _is_member(m, self.bill_kind, True)}
        if not details:
            raise StatementRejected(name, None, f"zip holds no {self.bill_kind} member ({', '.join(members)})", code="unknown_layout")
        bills, checks, warnings = [], [], []
        for member in details:
            summary = summaries.get(_part(member))
            summary_text = None
            if summary is not None:
                summary_text = (f"{name}!{summary}", decode_cn(open_member_bytes(path, members[summary], limit=MEMBER_LIMIT), f"{name}!{summary}"))
            data = open_member_bytes(path, members[member], limit=MEMBER_LIMIT)
            bill, got, warned = self.parse_detail(data, f"{name}!{member}", summary_text, ctx)
            bills.append(bill)
            checks.extend(got)
            warnings.extend(warned)
        return ParsedStatement(bill=pl.concat(bills, how="vertical"), checks=tuple(checks), warnings=tuple(warnings))

    @abstractmethod
    def parse_detail(
        self, data: bytes, name: str, summary: tuple[str, str] | None, ctx: ParseContext
    ) -> tuple[pl.DataFrame, list[str], list]:
        """One detail CSV (and its 汇总 text when the zip has one) -> (bill, checks, warnings)."""


def _part(member: str) -> int:
    hit = re.search(r"_(\d+)\.csv$", member)
    return int(hit.group(1)) if hit else 0


def summary_total(summary: tuple[str, str], first: str, required: tuple[str, ...]) -> tuple[str, int, dict[str, str]]:
    """The 合计 row of a 汇总 file by header name: (file, line, values)."""
    file, text = summary
    header: list[str] | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = _nfkc(raw).strip("\r")
        if not line.strip(", ") or line.startswith("#"):
            continue
        cells = [c.strip(" \t") for c in line.split(",")]
        if header is None:
            header = cells
            require_columns(header, (first, *required), file, number)
        elif cells[0] == "合计":
            if len(cells) != len(header):
                raise StatementRejected(file, number, f"合计 row has {len(cells)} cells for {len(header)} names", code="invalid_footer")
            return file, number, dict(zip(header, cells))
    raise StatementRejected(file, None, "the 汇总 file has no 合计 row: file truncated", code="truncated")
