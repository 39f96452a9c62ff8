"""The day's Excel report, `reports/<D>/recon-<D>.xlsx`: what analysts open every morning.

Sheets: Summary (with charts), internal checks (layer 0, when present), layer-1 discrepancies,
combined payments (1:N groups of the day, each group's lines then its total against our order's
amount; only when the day has groups), layer 2, layer 3, pending cross-day items, clearing (when clearing/<D>/settlements.csv exists),
re-queries (the channel's answers about the day's items, when any were asked) and run info (inputs with sha256, rule files, recon version, the matcher's run metadata and timings).

The workbook is written in openpyxl's write-only mode (a day can hold 100,000 discrepancies), to a
temporary file that replaces the target atomically. Re-running a day must give the same bytes
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

from openpyxl import Workbook

from recon.excel.words import t
from recon.files import atomic_path
from recon.report.data import REQUERY_COLUMNS, DayData, gather
from recon.report.groups import GROUP_COLUMNS, group_rows
from recon.report.sheets import write_pairs, write_table
from recon.report.summary import write_summary

LAYER1_COLUMNS = [
    "channel", "account", "outcome", "match_key", "reason", "diff_amount", "diff_fee",
    "our_currency", "our_amount", "their_currency", "their_amount", "our_fee", "their_fee",
    "our_status", "their_status", "pass_name", "confidence", "carried_from",
    "our_txn_id", "our_merchant_id", "our_merchant_txn_id", "our_channel_txn_id",
    "our_merchant_refund_id", "our_record_type", "our_trade_time", "our_source_file", "our_source_line",
    "their_channel_txn_id", "their_merchant_txn_id", "their_channel_refund_id",
    "their_merchant_refund_id", "their_record_type", "their_trade_time", "their_source_file",
    "their_source_line", "business_date",
]
GENERIC_FIRST = ["business_date", "channel", "account", "kind", "key", "currency", "our_amount",
                 "their_amount", "diff", "reason"]


@dataclass(frozen=True, slots=True)
class ReportResult:
    path: Path
    data: DayData
    seconds: float
    sheets: tuple[str, ...]


def _ordered(frame_columns: list[str], first: list[str]) -> list[str]:
    return [c for c in first if c in frame_columns] + [c for c in frame_columns if c not in first]


def build_workbook(data: DayData, language: str) -> Workbook:
    wb = Workbook(write_only=True)
    write_summary(wb, data, language)
    if 0 in data.others:
        write_table(wb, t("sheet.layer0", language), data.others[0], language,
                    columns=_ordered(data.others[0].columns, GENERIC_FIRST))
    if data.layer1 is not None:
        write_table(wb, t("sheet.layer1", language), data.layer1_discrepancies, language,
                    columns=_ordered(data.layer1.columns, LAYER1_COLUMNS))
        groups = group_rows(data.layer1, language)
        if groups.height:
            write_table(wb, t("sheet.groups", language), groups, language, columns=list(GROUP_COLUMNS))
    for layer in (2, 3):
        if layer in data.others:
            write_table(wb, t(f"sheet.layer{layer}", language), data.others[layer], language,
                        columns=_ordered(data.others[layer].columns, GENERIC_FIRST))
    if data.layer1 is not None:
        write_table(wb, t("sheet.pending", language), data.pending, language,
                    columns=_ordered(data.layer1.columns, LAYER1_COLUMNS))
    if data.clearing is not None:
        write_table(wb, t("sheet.clearing", language), data.clearing, language)
    if data.requeries:
        write_pairs(wb, t("sheet.requery", language), [t(c, language) for c in REQUERY_COLUMNS],
                    [tuple("" if v is None else v for v in r) for r in data.requeries], language)
    write_pairs(wb, t("sheet.runinfo", language), [t("source", language), t("file", language),
                t("sha256", language), t("value", language)], data.inputs, language)
    ws = wb.worksheets[-1]
    ws.append([])
    for key, value in data.run_info:
        ws.append([t(key, language), value])
    pinned = dt.datetime.combine(data.date, dt.time())
    wb.properties.creator = "recon"
    wb.properties.title = f"{t('title', language)} {data.date.isoformat()}"
    wb.properties.created = pinned
    return wb


_CORE_TIMES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


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


def write_report(ws, date: dt.date, out: Path | None = None) -> ReportResult:
    """Gather the day, write the workbook atomically to `out` (default: the workspace's report path)."""
    started = time.perf_counter()
    target = Path(out) if out is not None else ws.report_path(date)
    language = ws.settings.report.language
    data = gather(ws, date)
    wb = build_workbook(data, language)
    sheets = tuple(s.title for s in wb.worksheets)
    with atomic_path(target) as final:
        raw = final.with_name(final.name + ".raw")  # still a .tmp-* name: sweep_temp removes leftovers
        try:
            wb.save(raw)
            pin_zip(raw, final, date)
        finally:
            raw.unlink(missing_ok=True)
    return ReportResult(target, data, time.perf_counter() - started, sheets)
