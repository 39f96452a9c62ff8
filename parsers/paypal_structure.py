"""The row-type skeleton of a PayPal STL file and the footer checks it makes possible.

A PayPal SFTP report is a sequence of typed rows: `RH FH (SH CH SB* SF* SC)+ RF* RC FF`. The
report header (RH) only opens the first file of a split report and the report footers (RF, RC)
only close the last one, so a middle file is `FH (SH CH SB* SF* SC)+ FF`. This module reads the
non-body rows (a handful, even in a 1M-row file) into frozen records, rejects any other order, and
then checks the footers against the body rows: SC per section, SF per section and currency, RC/RF
per report when the report is complete in this file, FF per file. A file that ends without FF was
cut short and is rejected as truncated.

`typed_lines` classifies every physical line natively, so the skeleton of a 1M-row file costs one
pass in polars and the Python walk only sees its handful of non-body rows.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import polars as pl

from parsers.csv_common import LINE, text_lines
from recon.errors import StatementRejected

# The row type opens every line, quoted or not: `"SB",...` or `SB,...`.
ROW_TYPE = r'^"?([A-Z]{2})"?(?:,|$)'


@dataclass(frozen=True, slots=True)
class Footer:
    """An SF/RF row: totals in minor units (x100) for one currency, and its body-row count."""

    currency: str
    gross_cr: int
    gross_dr: int
    fee_cr: int
    fee_dr: int
    count: int
    line: int


@dataclass(frozen=True, slots=True)
class Section:
    index: int
    line: int
    start: str
    account: str
    footers: tuple[Footer, ...]
    count: int
    count_line: int


@dataclass(frozen=True, slots=True)
class Structure:
    file_seq: int
    account: str | None  # from RH (first file only); sections carry their own
    version: str | None
    columns: tuple[str, ...]
    ch_line: int
    sections: tuple[Section, ...]
    report: tuple[Footer, ...]
    report_count: int | None
    file_count: int
    file_count_line: int


def _cells(text: str) -> list[str]:
    return [c.strip() for c in next(csv.reader(io.StringIO(text)), [])]


def _int(cell: str, what: str, file: str, line: int) -> int:
    if not cell.isdigit():
        raise StatementRejected(file, line, f"{what} {cell!r} is not an unsigned integer", code="footer")
    return int(cell)


def _footer(cells: list[str], file: str, line: int) -> Footer:
    # currency, gross CR, gross DR, fee CR, fee DR, (D/C, balance) pairs..., record count
    if len(cells) < 7:
        raise StatementRejected(file, line, f"{cells[0]} row has {len(cells)} fields; expected at least 7", code="footer")
    nums = [_int(c, f"{cells[0]} total", file, line) for c in cells[2:6]]
    return Footer(cells[1], *nums, count=_int(cells[-1], f"{cells[0]} count", file, line), line=line)


def read_structure(rows: pl.DataFrame, file: str) -> Structure:
    """Walk the non-SB rows (`row_type`, `text`, `_line`) and enforce the row-type grammar."""
    seq, account, version = 1, None, None
    columns: tuple[str, ...] | None = None
    ch_line = 0
    sections: list[Section] = []
    open_sec: dict | None = None
    report: list[Footer] = []
    report_count = None
    state = "start"
    for rt, text, line in rows.select("row_type", "text", LINE).iter_rows():
        cells = _cells(text)
        allowed = {
            "start": {"RH", "FH"}, "rh": {"FH"}, "fh": {"SH", "RF", "RC", "FF"}, "sh": {"CH"},
            "ch": {"SF", "SC", "SH", "RF", "RC", "FF"}, "sf": {"SF", "SC"}, "sc": {"SH", "RF", "RC", "FF"},
            "rf": {"RF", "RC"}, "rc": {"FF"}, "ff": set(),
        }[state]
        if rt not in allowed and state == "start":
            raise StatementRejected(file, line, f"file starts with {rt or text[:20]!r}, not RH/FH: an excerpt or truncated file", code="truncated")
        if rt not in allowed:
            what = f"row type {rt}" if rt else f"unrecognised row {text[:20]!r}"
            expected = ", ".join(sorted(allowed)) or "nothing after FF"
            raise StatementRejected(file, line, f"{what} out of place (expected {expected})", code="structure")
        if rt == "RH":
            account, version = (cells[3] if len(cells) > 3 else None), (cells[4] if len(cells) > 4 else None)
        elif rt == "FH":
            seq = _int(cells[1] if len(cells) > 1 else "", "FH file sequence", file, line)
            if state == "start" and seq == 1:
                raise StatementRejected(file, line, "first file of the report lacks its RH report header (truncated?)", code="truncated")
        elif rt == "SH":
            if open_sec is not None:  # the previous section ended without SC
                raise StatementRejected(file, line, "section opened before the previous one closed with SC", code="structure")
            open_sec = {"line": line, "start": cells[1] if len(cells) > 1 else "", "account": cells[3] if len(cells) > 3 else "", "footers": []}
        elif rt == "CH":
            names = tuple(cells[1:])
            if columns is not None and names != columns:
                raise StatementRejected(file, line, "CH column header differs from the earlier one", code="layout")
            columns, ch_line = names, ch_line or line
        elif rt == "SF":
            open_sec["footers"].append(_footer(cells, file, line))  # type: ignore[index]
        elif rt == "SC":
            count = _int(cells[1] if len(cells) > 1 else "", "SC count", file, line)
            sections.append(Section(len(sections) + 1, open_sec["line"], open_sec["start"], open_sec["account"],  # type: ignore[index]
                                    tuple(open_sec["footers"]), count, line))  # type: ignore[index]
            open_sec = None
        elif rt == "RF":
            report.append(_footer(cells, file, line))
        elif rt == "RC":
            report_count = _int(cells[1] if len(cells) > 1 else "", "RC count", file, line)
        elif rt == "FF":
            if open_sec is not None:
                raise StatementRejected(file, line, "file ends inside an unclosed section (no SC)", code="structure")
            file_count = _int(cells[1] if len(cells) > 1 else "", "FF count", file, line)
            file_count_line = line
        state = rt.lower()
    if state != "ff":
        last = rows[LINE][-1] if rows.height else None
        raise StatementRejected(file, last, "no FF file footer: the file is truncated", code="truncated")
    if columns is None:
        raise StatementRejected(file, None, "no CH column header", code="layout")
    return Structure(seq, account, version, columns, ch_line, tuple(sections), tuple(report), report_count,
                     file_count, file_count_line)


def typed_lines(data: bytes) -> pl.DataFrame | None:
    """Every physical line of `data`: `_line`, `sb` (a body row), `n` (its bytes without the line
    break), `cr` (a CR left inside it), and for the other lines `row_type` (null when the line has
    none) and `text`. None when polars cannot read the bytes as lines of UTF-8 text."""
    text = pl.col("t")
    # `ROW_TYPE` gives SB exactly for these openings and whole lines; prefix tests are cheaper
    # than the regex on a million lines, which then only reads the few others.
    sb = pl.any_horizontal(*(text.str.starts_with(p) for p in ('"SB",', 'SB,', '"SB,', 'SB",'))) | \
        text.is_in(["SB", '"SB', 'SB"', '"SB"'])
    try:
        lines = text_lines(data).with_row_index(LINE, 1).select(
            pl.col(LINE).cast(pl.Int64), sb.alias("sb"), text.str.len_bytes().cast(pl.Int64).alias("n"),
            text.str.contains("\r", literal=True).alias("cr") if b"\r" in data else pl.lit(False).alias("cr"),
            pl.when(~sb).then(text).alias("text"),
        ).collect(engine="streaming")
    except pl.exceptions.PolarsError:
        return None
    return lines.with_columns(pl.col("text").str.extract(ROW_TYPE, 1).alias("row_type"))


def _sums(body: pl.DataFrame, keys: list[str]) -> dict[tuple, tuple[int, int, int, int, int]]:
    agg = body.group_by(keys).agg(
        pl.col("_gross_minor").filter(pl.col("_gross_dc") == "CR").sum().alias("gcr"),
        pl.col("_gross_minor").filter(pl.col("_gross_dc") == "DR").sum().alias("gdr"),
        pl.len().alias("n"),
    )
    fees = body.group_by([*keys[:-1], "_fee_currency"]).agg(
        pl.col("_fee_minor").filter(pl.col("_fee_dc") == "CR").sum().alias("fcr"),
        pl.col("_fee_minor").filter(pl.col("_fee_dc") == "DR").sum().alias("fdr"),
    )
    out: dict[tuple, list[int]] = {}
    for *k, gcr, gdr, n in agg.iter_rows():
        out.setdefault(tuple(k), [0, 0, 0, 0, 0])[:2] = [gcr, gdr]
        out[tuple(k)][4] = n
    for *k, fcr, fdr in fees.iter_rows():
        if k[-1] is not None:
            out.setdefault(tuple(k), [0, 0, 0, 0, 0])[2:4] = [fcr, fdr]
    return {k: tuple(v) for k, v in out.items()}  # type: ignore[misc]


def _compare(footers: tuple[Footer, ...], sums: dict, prefix: tuple, what: str, file: str) -> None:
    seen = set()
    for f in footers:
        got = sums.get((*prefix, f.currency), (0, 0, 0, 0, 0))
        want = (f.gross_cr, f.gross_dr, f.fee_cr, f.fee_dr, f.count)
        if got != want:
            names = ("gross CR", "gross DR", "fee CR", "fee DR", "count")
            diff = "; ".join(f"{n} {w} != {g} in the lines" for n, w, g in zip(names, want, got) if w != g)
            raise StatementRejected(file, f.line, f"{what} {f.currency}: {diff}", code="footer")
        seen.add(f.currency)
    for key in sums:
        if key[: len(prefix)] == prefix and key[-1] not in seen and footers:
            raise StatementRejected(file, footers[-1].line, f"{what}: no footer for currency {key[-1]}", code="footer")


def _report_sums(by_section: dict[tuple, tuple[int, ...]]) -> dict[tuple, tuple[int, ...]]:
    """Per-currency sums over the whole file, added up from the per-section ones."""
    out: dict[tuple, list[int]] = {}
    for (_, cur), sums in by_section.items():
        total = out.setdefault((0, cur), [0, 0, 0, 0, 0])
        for i, v in enumerate(sums):
            total[i] += v
    return {k: tuple(v) for k, v in out.items()}


def check_footers(body: pl.DataFrame, st: Structure, file: str) -> tuple[str, ...]:
    """Check SC/SF per section, RC/RF per report (when complete here) and FF; say what was checked."""
    checks = []
    # Grouping pays for every column of the frame it is given: hand it only what it sums.
    body = body.select("section", "source_line", "_gross_minor", "_gross_dc", "_gross_currency", "_fee_minor", "_fee_dc",
                       "_fee_currency")
    counts = dict(body.group_by("section").len().iter_rows())
    sc_line = pl.col("section").replace_strict({s.index: s.count_line for s in st.sections}, default=None, return_dtype=pl.Int64)
    late = body.filter(sc_line.is_null() | (pl.col("source_line") > sc_line)).head(1)
    if late.height:
        raise StatementRejected(file, late["source_line"][0], "SB row after its section's SC footer", code="structure")
    by_section = _sums(body, ["section", "_gross_currency"])
    for s in st.sections:
        if counts.get(s.index, 0) != s.count:
            raise StatementRejected(file, s.count_line, f"SC count {s.count} != {counts.get(s.index, 0)} SB rows in the section", code="footer")
        _compare(s.footers, by_section, (s.index,), "SF", file)
    checks.append(f"{len(st.sections)} section(s): SC counts and SF totals (gross/fee CR/DR, count) per currency = SB rows")
    if body.height != st.file_count:
        raise StatementRejected(file, st.file_count_line, f"FF count {st.file_count} != {body.height} SB rows in the file", code="footer")
    checks.append(f"FF count {st.file_count} = SB rows")
    complete = st.file_seq == 1 and st.report_count is not None
    if complete:
        if st.report_count != body.height:
            raise StatementRejected(file, None, f"RC count {st.report_count} != {body.height} SB rows", code="footer")
        _compare(st.report, _report_sums(by_section), (0,), "RF", file)
        checks.append(f"RC count and RF totals per currency = SB rows ({len(st.report)} currencies)")
    else:
        where = "last" if st.report_count is not None else "not the last"
        checks.append(f"file {st.file_seq:02d} of a split report ({where} file): RC/RF cover the whole sequence, not checked here")
    checks.append("SF/RF balance fields not checked (field order inferred, FORMATS.md §13)")
    return tuple(checks)
