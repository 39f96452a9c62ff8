"""The period workbook, `reports/<D1>_<D2>/recon-<D1>_<D2>.xlsx` (`recon report --since D1 --until D2`).

Sheets: Period summary (every layer and channel over the period, discrepancies by kind, open items
at the period's end by age, the days covered), Daily trend (one row per stored day: layer-1 lines and
matched %, discrepancies of every layer, the count per kind and the matched % per channel: the
charts' data), Charts (three line charts of those columns, each on its own page), Channel trend,
Discrepancies by day, Open at period end (each item aged at the last day), Clearing by merchant
(settlements.csv of every day summed) and Run info.

Discrepancy counts never include OK outcomes (words.OK_OUTCOMES, shown as "checked, OK") nor
waiting ones. Money cells hold the exact Decimal with the currency's format. Written atomically
and byte-identical on re-run (the zip is pinned to the period's last day, as the daily report is).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break, RowBreak

from recon.excel.cells import DATE_FORMAT
from recon.excel.words import kind_label, t
from recon.queue.severity import BUCKETS
from recon.report.data import recon_version
from recon.report.period_data import PeriodData, gather_period
from recon.report.period_print import Sheet, print_ready
from recon.report.printing import footer_text
from recon.report.reasons import reason_text
from recon.report.sheets import money_format
from recon.report.summary import PCT, ratio
from recon.report.workbook import save_pinned

COUNTS = ("lines", "ok_checked", "matched_pct", "waiting", "discrepancies", "disc_amount")
CHART_ROWS = 32  # one chart per landscape page: 11 cm is ~21 rows of 15 pt, ~25 of LibreOffice's 12.8 pt


@dataclass(frozen=True, slots=True)
class PeriodResult:
    path: Path
    data: PeriodData
    seconds: float
    sheets: tuple[str, ...]


def period_path(ws, since: dt.date, until: dt.date) -> Path:
    """Beside the daily reports: reports/<D1>_<D2>/recon-<D1>_<D2>.xlsx."""
    name = f"{since.isoformat()}_{until.isoformat()}"
    return ws.root / "reports" / name / f"recon-{name}.xlsx"


class _Book:
    def __init__(self, data: PeriodData, language: str) -> None:
        self.data, self.lang, self.wb = data, language, Workbook()
        self.wb.remove(self.wb.active)
        period = f"{data.since.isoformat()} – {data.until.isoformat()}"
        self.footer = dict(left=f"{self.L('workspace')}: {data.workspace}", center=f"{self.L('period')}: {period}",
                           right=f"{self.L('footer.page')}  recon {footer_text(recon_version())}")
        self.period = period

    def L(self, key: str) -> str:  # noqa: N802 - reads like the labels it returns
        return t(key, self.lang)

    def sheet(self, key: str, title_rows: str | None = "1:1") -> Sheet:
        ws = self.wb.create_sheet(self.L(key))
        print_ready(ws, title_rows=title_rows, **self.footer)
        return Sheet(ws)

    def kind(self, kind: str | None) -> str | None:
        return kind_label(kind, self.lang)

    def counts_row(self, r: dict) -> tuple[list, list]:
        fmt = money_format(r["currency"])
        return ([r["lines"], r["ok"], ratio(r["ok"], r["lines"]), r["waiting"], r["discrepancies"], r["amount"]],
                [None, None, PCT, None, None, fmt])


def _summary(b: _Book) -> None:
    d, s = b.data, b.sheet("sheet.period_summary", title_rows="1:1")  # the title on every page
    s.title(f"{b.L('period.title')} {b.period}")
    s.pair(b.L("workspace"), d.workspace)
    s.pair(b.L("period"), b.period)
    s.pair(b.L("period.days_stored"), len(d.days))
    s.pair(b.L("period.days_missing"), ", ".join(x.isoformat() for x in d.missing_days) or "-")
    s.label(b.L("period.per_channel"))
    s.header([b.L("layer"), b.L("channel"), b.L("account"), b.L("currency"), *map(b.L, COUNTS)])
    per = d.per_channel()
    for r in per.iter_rows(named=True):
        values, fmts = b.counts_row(r)
        s.add([r["layer"], r["channel"], r["account"], r["currency"], *values], [None] * 4 + fmts)
    if not per.height:
        s.add([b.L("none")])
    s.label(b.L("period.by_kind"))
    s.header([b.L("layer"), b.L("kind"), b.L("currency"), b.L("count"), b.L("disc_amount")])
    kinds = d.kinds()
    for r in kinds.iter_rows(named=True):
        s.add([r["layer"], b.kind(r["kind"]), r["currency"], r["count"], r["amount"]],
              [None, None, None, None, money_format(r["currency"])])
    if not kinds.height:
        s.add([b.L("none")])
    s.label(b.L("period.open_by_age"))
    s.header([b.L("bucket"), b.L("currency"), b.L("count"), b.L("at_stake")])
    totals: dict[tuple[str, str], list] = {}
    for i in d.open_items:
        slot = totals.setdefault((i.aging_bucket, i.currency or ""), [0, 0])
        slot[0] += 1
        slot[1] += i.at_stake
    for bucket in BUCKETS:
        rows = sorted((c, n, a) for (bk, c), (n, a) in totals.items() if bk == bucket) or [(None, 0, None)]
        for currency, n, amount in rows:
            s.add([bucket, currency, n, amount], [None, None, None, money_format(currency)])
    s.set_widths({1: 14})


def _daily_trend(b: _Book) -> tuple[object, int, list[str], list[str]]:
    """The chart data: one row per stored day. Returns (sheet, last row, kinds, channels)."""
    d, s = b.data, b.sheet("sheet.daily_trend")
    kinds, by_kind = d.kind_pivot()
    channels, by_channel = d.channel_pivot()
    s.header([b.L("date"), b.L("lines"), b.L("matched"), b.L("matched_pct"), b.L("discrepancies"), b.L("waiting"),
              *(b.kind(k) for k in kinds),
              *(b.L("period.channel_matched").replace("{channel}", c) for c in channels)])
    per_day = {r["date"]: r for r in d.per_day().iter_rows(named=True)}
    for (day, counts), (_, pairs) in zip(by_kind, by_channel, strict=True):
        r = per_day[day]
        s.add([day, r["lines"], r["matched"], ratio(r["matched"], r["lines"]), r["discrepancies"], r["waiting"],
               *counts, *(ratio(m, n) for m, n in pairs)],
              [DATE_FORMAT, None, None, PCT, None, None, *([None] * len(kinds)), *([PCT] * len(channels))])
    s.ws.freeze_panes = "B2"
    s.set_widths({1: 12})
    return s.ws, s.row, kinds, channels


def _charts(b: _Book, trend, last: int, kinds: list[str], channels: list[str]) -> None:
    s = b.sheet("sheet.charts", title_rows=None)
    s.title(f"{b.L('sheet.charts')} {b.period}")
    if last < 2:
        s.add([b.L("none")])
        return
    cats = Reference(trend, min_col=1, min_row=2, max_row=last)
    specs = [(b.L("chart.period_matched"), b.L("matched_pct"), [4], PCT)]
    if kinds:
        specs.append((b.L("chart.period_kinds"), b.L("count"), list(range(7, 7 + len(kinds))), "0"))
    if channels:
        first = 7 + len(kinds)
        specs.append((b.L("chart.channel_matched"), b.L("matched_pct"), list(range(first, first + len(channels))), PCT))
    for n, (title, y_title, cols, fmt) in enumerate(specs):
        chart = LineChart()
        chart.title, chart.y_axis.title, chart.y_axis.number_format = title, y_title, fmt
        chart.x_axis.number_format, chart.x_axis.title = DATE_FORMAT, b.L("date")
        for col in cols:
            chart.add_data(Reference(trend, min_col=col, min_row=1, max_row=last), titles_from_data=True)
        for series in chart.series:  # a one-day period is one point: markers make it visible
            series.marker.symbol, series.smooth = "circle", False
        chart.set_categories(cats)
        chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides axes by default
        chart.width, chart.height = 25, 11
        top = 3 + n * CHART_ROWS
        s.ws.add_chart(chart, f"A{top}")
        if n:
            s.ws.row_breaks.append(Break(id=top - 1))
    s.ws.print_area = f"A1:{get_column_letter(12)}{3 + len(specs) * CHART_ROWS}"


def _channel_trend(b: _Book) -> None:
    s = b.sheet("sheet.channel_trend")
    s.header([b.L("date"), b.L("layer"), b.L("channel"), b.L("account"), b.L("currency"), *map(b.L, COUNTS)])
    frame = b.data.per_channel_day()
    for r in frame.iter_rows(named=True):
        values, fmts = b.counts_row(r)
        s.add([r["date"], r["layer"], r["channel"], r["account"], r["currency"], *values],
              [DATE_FORMAT, *[None] * 4, *fmts])
    if not frame.height:
        s.add([b.L("none")])
    s.ws.freeze_panes = "A2"
    s.set_widths({1: 12})


def _kind_trend(b: _Book) -> None:
    s = b.sheet("sheet.kind_trend")
    s.header([b.L(k) for k in ("date", "layer", "channel", "kind", "currency", "count", "disc_amount")])
    frame = b.data.kinds_day()
    for r in frame.iter_rows(named=True):
        s.add([r["date"], r["layer"], r["channel"], b.kind(r["kind"]), r["currency"], r["count"], r["amount"]],
              [DATE_FORMAT, None, None, None, None, None, money_format(r["currency"])])
    if not frame.height:
        s.add([b.L("none")])
    s.ws.freeze_panes = "A2"
    s.set_widths({1: 12})


OPEN_COLUMNS = ("id", "layer", "kind", "channel", "account", "business_date", "status", "age_days", "bucket",
                "severity", "key", "currency", "our_amount", "their_amount", "diff", "at_stake", "assignee", "reason")


def _open_items(b: _Book) -> None:
    s = b.sheet("sheet.open_at_end")
    s.header([b.L(c) for c in OPEN_COLUMNS])
    for i in b.data.open_items:
        fmt = money_format(i.currency)
        s.add([i.id, i.layer, b.kind(i.kind), i.channel, i.account, i.business_date, b.L(f"status.{i.status}"),
               i.age_days, i.aging_bucket, b.L(f"severity.{i.severity}"), i.key, i.currency, i.our_amount,
               i.their_amount, i.diff, i.at_stake, i.assignee, reason_text(i.reason, b.lang)],
              [None, None, None, None, None, DATE_FORMAT, *[None] * 6, fmt, fmt, fmt, fmt],
              whole={OPEN_COLUMNS.index("key")})  # the key is an order number: never masked
    if not b.data.open_items:
        s.add([b.L("none")])
    s.ws.freeze_panes = "B2"
    s.set_widths({6: 12})


def _clearing(b: _Book) -> None:
    s = b.sheet("sheet.merchant_clearing")
    names = ("merchant_id", "currency", "gross", "refunds", "fees", "splits", "held", "net_payable")
    s.header([b.L(c) for c in names])
    frame = b.data.clearing
    for r in frame.iter_rows(named=True) if frame is not None else []:
        fmt = money_format(r["currency"])
        s.add([r[c] for c in names], [None, None, *[fmt] * 6])
    if frame is None or not frame.height:
        s.add([b.L("none")])
    s.row += 1
    s.pair(b.L("period.clearing_days"), len(b.data.clearing_days))
    s.ws.freeze_panes = "A2"
    s.set_widths()


def _run_info(b: _Book) -> None:
    s = b.sheet("sheet.runinfo")
    s.header([b.L("source"), b.L("value")])
    d = b.data
    for key, value in (("workspace", d.workspace), ("period", b.period), ("recon_version", recon_version()),
                       ("period.days_stored", ", ".join(x.isoformat() for x in d.days) or "-"),
                       ("period.days_missing", ", ".join(x.isoformat() for x in d.missing_days) or "-"),
                       ("language", b.lang)):
        s.pair(b.L(key), value)
    s.set_widths()


def build_period_workbook(data: PeriodData, language: str) -> Workbook:
    b = _Book(data, language)
    _summary(b)
    trend, last, kinds, channels = _daily_trend(b)
    _charts(b, trend, last, kinds, channels)
    _channel_trend(b)
    _kind_trend(b)
    _open_items(b)
    _clearing(b)
    _run_info(b)
    b.wb.properties.creator = "recon"
    b.wb.properties.title = f"{b.L('period.title')} {b.period}"
    b.wb.properties.created = dt.datetime.combine(data.until, dt.time())
    return b.wb


def write_period_report(ws, since: dt.date, until: dt.date, out: Path | None = None) -> PeriodResult:
    """Gather the period, write its workbook atomically to `out` (default: `period_path`)."""
    started = time.perf_counter()
    target = Path(out) if out is not None else period_path(ws, since, until)
    data = gather_period(ws, since, until)
    wb = build_period_workbook(data, ws.settings.report.language)
    sheets = tuple(wb.sheetnames)
    save_pinned(wb, target, until)
    return PeriodResult(target, data, time.perf_counter() - started, sheets)
