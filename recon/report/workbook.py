"""The day's Excel report, `reports/<D>/recon-<D>.xlsx`: what analysts open every morning.

Sheets: Summary (figures, charts, clearing per merchant when clearing/<D>/settlements.csv exists),
layer-1 discrepancies then the day's cross-day pending rows, combined payments (1:N groups of the
day, each group's lines then its total against our order's amount; only when the day has groups),
bill, cash and internal checks (layers 2, 3 and 0 together, checked-OK rows included), re-queries
(the channel's answers about the day's items, when any were asked), run info (inputs with sha256,
rule files, recon version, the matcher's run metadata and timings) and Details (every raw column of
the rows shown, under data names documented in recon.report.reading). Every reading sheet has
translated headers only, each discrepancy row its queue item, and prints landscape one page wide
(recon.report.printing): the demo day prints on 6 pages.

The workbook is written in openpyxl's write-only mode (a day can hold 100,000 discrepancies), its table
rows serialised as openpyxl's own XML by recon.report.streaming, to a temporary file that replaces the
target atomically. Re-running a day must give the same bytes
(FAULTS.md E7): openpyxl stamps the save time into docProps/core.xml and the zip entries, so the
saved file is re-packed with both pinned to the business date. The report's own timing is printed
and returned, never written into the workbook, for the same reason.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from openpyxl import Workbook

from recon.excel.words import kind_label, t
from recon.files import atomic_path
from recon.report.data import REQUERY_COLUMNS, DayData, gather
from recon.report.groups import GROUP_COLUMNS, group_rows
from recon.report.reading import GENERIC_READING, LAYER1_READING, details, generic_rows, layer1_rows, time_headers
from recon.report.sheets import write_pairs, write_table
from recon.report.summary import write_summary


@dataclass(frozen=True, slots=True)
class ReportResult:
    path: Path
    data: DayData
    seconds: float
    sheets: tuple[str, ...]


def _word(prefix: str, code: str, language: str) -> str:
    """The word for `prefix.code`, or the code as it is when there is none."""
    word = t(f"{prefix}.{code}", language)
    return code if word == f"{prefix}.{code}" else word


def _requery_row(row: tuple, zones: dict[str, str], language: str) -> tuple:
    """A re-query answer as read: the kind's label, the time asked in the channel's zone."""
    out = dict(zip(REQUERY_COLUMNS, row, strict=True))
    out["kind"] = kind_label(out["kind"], language)
    try:
        asked = dt.datetime.fromisoformat(str(out["asked_at"]))
        if asked.tzinfo is not None and out["channel"] in zones:
            out["asked_at"] = f"{asked.astimezone(ZoneInfo(zones[out['channel']])):%Y-%m-%d %H:%M:%S}"
    except ValueError:
        pass  # not a time: shown as written
    return tuple("" if v is None else v for v in out.values())


def build_workbook(data: DayData, language: str) -> Workbook:
    wb = Workbook(write_only=True)
    page = {"workspace": data.workspace, "date": data.date.isoformat(), "version": data.recon_version,
            "language": language}
    write_summary(wb, data, language, page)
    layer1_raw = generic_raw = None
    if data.layer1 is not None:
        reading, layer1_raw = layer1_rows(data, language)
        write_table(wb, t("sheet.layer1", language), reading, language, columns=LAYER1_READING,
                    headers=time_headers(data.zones, language), reading=True, page=page)
        groups = group_rows(data.layer1, language)
        if groups.height:
            groups = groups.with_columns(pl.col("outcome").map_elements(
                lambda v: ", ".join(kind_label(k, language) for k in v.split(", ")), return_dtype=pl.String()))
            write_table(wb, t("sheet.groups", language), groups, language, columns=list(GROUP_COLUMNS),
                        reading=True, page=page)
    if data.others:
        reading, generic_raw = generic_rows(data, language)
        write_table(wb, t("sheet.layers023", language), reading, language, columns=GENERIC_READING,
                    reading=True, page=page)
    if data.requeries:
        zones = sorted(set(data.zones.values()))
        zone = zones[0] if len(zones) == 1 else t("zone.channel", language)
        heads = {"asked_at": f"{t('asked_at', language)} ({zone})"}
        write_pairs(wb, t("sheet.requery", language), [heads.get(c) or t(c, language) for c in REQUERY_COLUMNS],
                    [_requery_row(r, data.zones, language) for r in data.requeries], language,
                    names=list(REQUERY_COLUMNS), page=page)
    rows = [(_word("source", source, language), file, digest, _word("note", note, language))
            for source, file, digest, note in data.inputs]
    rows += [(t(k, language), v, "", "") for k, v in data.run_info]
    write_pairs(wb, t("sheet.runinfo", language), [t("source", language), t("file", language),
                t("sha256", language), t("value", language)], rows, language,
                names=["source", "file", "sha256", "value"], page=page)
    raw = details(layer1_raw, generic_raw)
    if raw.height:
        # Data names as headers, on purpose: the columns are documented in recon.report.reading.
        write_table(wb, t("sheet.details", language), raw, language, headers={c: c for c in raw.columns}, page=page)
    pinned = dt.datetime.combine(data.date, dt.time())
    wb.properties.creator = "recon"
    wb.properties.title = f"{t('title', language)} {data.date.isoformat()}"
    wb.properties.created = pinned
    return wb


_CORE_TIMES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def save_pinned(wb, target: Path, date: dt.date) -> None:
    """Save `wb` to `target` atomically, its zip entries pinned to `date` (byte-identical re-runs)."""
    with atomic_path(target) as final:
        raw = final.with_name(final.name + ".raw")  # still a .tmp-* name: sweep_temp removes leftovers
        try:
            wb.save(raw)
            pin_zip(raw, final, date)
        finally:
            raw.unlink(missing_ok=True)


def pin_zip(src: Path, dst: Path, date: dt.date) -> None:
    """Copy the xlsx with zip entry times and docProps dates set to the business date."""
    stamp = f"{date.isoformat()}T00:00:00Z".encode()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(date.year, date.month, date.day, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            if info.filename == "docProps/core.xml":
                zout.writestr(entry, _CORE_TIMES.sub(rb"\g<1>" + stamp + rb"\g<2>", zin.read(info.filename)))
                continue
            # Streamed: a 100,000-row sheet is ~100 MB of XML, which need not sit in memory.
            with zin.open(info) as src_fh, zout.open(entry, "w", force_zip64=info.file_size >= 1 << 31) as dst_fh:
                shutil.copyfileobj(src_fh, dst_fh, 1 << 20)


def write_report(ws, date: dt.date, out: Path | None = None, as_of: dt.date | None = None) -> ReportResult:
    """Gather the day, write the workbook atomically to `out` (default: the workspace's report path).

    Queue ages are counted to `as_of`, by default the workspace's business today (as `recon queue list`).
    """
    started = time.perf_counter()
    target = Path(out) if out is not None else ws.report_path(date)
    language = ws.settings.report.language
    data = gather(ws, date, as_of)
    wb = build_workbook(data, language)
    sheets = tuple(s.title for s in wb.worksheets)
    save_pinned(wb, target, date)
    return ReportResult(target, data, time.perf_counter() - started, sheets)
