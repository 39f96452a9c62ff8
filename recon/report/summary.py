"""The Summary sheet: the page a finance lead reads first, with two native Excel charts.

Blocks, top to bottom: per-channel lines (matched %, discrepancies, pending, amount at stake),
discrepancies per kind and layer, then apart from them the waiting rows and the "checked, OK"
rows (MATCHED, BILL_OK, CASH_OK, SETTLED, PAYOUT_RECEIVED... are never counted as discrepancies:
recon.excel.words.OK_OUTCOMES), the open queue by age bucket (the queue's own ages, counted to the
business today), clearing per merchant, and the matched % of the last 30 days when there are two
days or more. The charts (discrepancies by kind as bars, matched % as a line) are native Excel
charts whose series point at those blocks, drawn only when they carry data, anchored in columns
K onwards beside the tables. Percentages are exact Decimal ratios shown with a percent format.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font

from recon.excel.cells import DATE_FORMAT, wcell
from recon.excel.words import kind_label, t
from recon.money import context
from recon.queue.severity import BUCKETS
from recon.report.data import DayData
from recon.report.printing import LINE_HEIGHT, line_count, print_setup
from recon.report.sheets import header_row, money_format

PCT = "0.00%"
TITLE_FONT = Font(bold=True, size=14)
BLOCK_FONT = Font(bold=True, size=12)
LAYERS = (0, 1, 2, 3)
ONE_PAGE_ROWS = 70
WIDTHS = (24, 14, 10, 16, 12, 12, 14, 10, 18)  # columns A-I


def ratio(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN, context=context())


class _Rows:
    """Appends rows to a write-only sheet and remembers the row number, for chart references."""

    def __init__(self, ws) -> None:
        self.ws, self.n = ws, 0

    def add(self, values: list) -> int:
        self.ws.append(values)
        self.n += 1
        return self.n

    def header(self, labels: list[str]) -> int:
        """A header row, wrapped within the Summary's column widths, its height set to fit."""
        lines = max(line_count(h, w) for h, w in zip(labels, WIDTHS, strict=False))
        if lines > 1:
            self.ws.row_dimensions[self.n + 1].height = LINE_HEIGHT * lines
        return self.add(header_row(self.ws, labels, wrap=True))

    def label(self, text: str) -> int:
        self.add([])
        return self.add([wcell(self.ws, text, font=BLOCK_FONT)])


def write_summary(wb, data: DayData, language: str, page: dict | None = None) -> None:
    ws = wb.create_sheet(t("sheet.summary", language))
    L = lambda key: t(key, language)  # noqa: E731
    for col, width in zip("ABCDEFGHI", WIDTHS, strict=True):
        ws.column_dimensions[col].width = width
    if page is not None:
        print_setup(ws, **page, title_rows=None)
    rows = _Rows(ws)
    rows.add([wcell(ws, f"{L('title')} {data.date.isoformat()}", font=TITLE_FONT)])
    rows.add([L("business_date"), wcell(ws, data.date, DATE_FORMAT), None, L("workspace"), wcell(ws, data.workspace)])

    rows.label(L("per_channel"))
    rows.header([L(k) for k in ("channel", "account", "currency", "lines", "matched",
                                "matched_pct", "discrepancies", "pending", "at_stake")])
    per = data.per_channel()
    for r in per.iter_rows(named=True) if per.height else []:
        rows.add([wcell(ws, r["channel"]), wcell(ws, r["account"]), wcell(ws, r["currency"]), r["lines"],
                  r["matched"], wcell(ws, ratio(r["matched"], r["lines"]), PCT), r["discrepancies"],
                  r["pending"], wcell(ws, r["at_stake"] or Decimal(0), money_format(r["currency"]))])
    if not per.height:
        rows.add([L("none")])

    # Discrepancies only: checked-OK and waiting rows are counted in blocks of their own below,
    # and the chart reads the discrepancy rows only.
    rows.label(L("by_kind"))
    kinds = data.kinds_by_layer("discrepancy")
    head = rows.header([L("kind"), *(f"{L('layer')} {n}" for n in LAYERS), L("total")])
    for kind, per_layer in kinds:
        rows.add([wcell(ws, kind_label(kind, language)), *(per_layer.get(n, 0) for n in LAYERS),
                  sum(per_layer.values())])
    if kinds:
        chart = BarChart()
        chart.type = "bar"  # horizontal: long kind labels stay readable
        chart.title, chart.x_axis.title = L("chart.kind"), None
        most = max(sum(p.values()) for _, p in kinds)
        chart.y_axis.number_format, chart.y_axis.majorUnit = "0", max(1, -(-most // 5))  # whole counts
        chart.add_data(Reference(ws, min_col=6, min_row=head, max_row=head + len(kinds)), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=head + len(kinds)))
        _place(ws, chart, "K3")
    else:
        rows.add([L("none")])
    for group, label in (("waiting", "waiting"), ("ok", "ok_checked")):
        counted = data.kinds_by_layer(group)
        if counted:
            rows.label(L(label))
            rows.header([L("kind"), *(f"{L('layer')} {n}" for n in LAYERS), L("total")])
            for kind, per_layer in counted:
                rows.add([wcell(ws, kind_label(kind, language)), *(per_layer.get(n, 0) for n in LAYERS),
                          sum(per_layer.values())])

    rows.label(f"{L('open_by_age')} - {L('as_of')} {data.as_of.isoformat() if data.as_of else ''}")
    rows.header([L("bucket"), L("currency"), L("count"), L("at_stake")])
    shown = {b for b, *_ in data.open_by_age}
    for bucket in BUCKETS:
        if bucket not in shown:
            rows.add([bucket, None, 0, None])
        for b, currency, n, amount in data.open_by_age:
            if b == bucket:
                rows.add([bucket, wcell(ws, currency), n, wcell(ws, amount, money_format(currency))])

    if data.clearing is not None and data.clearing.height:
        rows.label(L("clearing_per_merchant"))
        cols = data.clearing.columns
        rows.header([t(c, language) for c in cols])
        for r in data.clearing.iter_rows(named=True):
            fmt = money_format(r.get("currency"))
            rows.add([wcell(ws, v, fmt) if isinstance(v, Decimal) else wcell(ws, v) for v in r.values()])

    # A trend needs two days at least: one day's matched % is already in the per-channel block.
    if len(data.trend) >= 2:
        rows.label(L("trend"))
        head = rows.header([L("date"), L("lines"), L("matched"), L("matched_pct")])
        for day, settled, lines in data.trend:
            rows.add([wcell(ws, day, DATE_FORMAT), lines, settled, wcell(ws, ratio(settled, lines), PCT)])
        chart = LineChart()
        chart.title, chart.y_axis.title = L("chart.trend"), L("matched_pct")
        chart.y_axis.number_format = PCT
        chart.x_axis.number_format = DATE_FORMAT
        chart.add_data(Reference(ws, min_col=4, min_row=head, max_row=head + len(data.trend)), titles_from_data=True)
        chart.series[0].smooth = False  # a curve would draw figures between the days that no day had
        chart.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=head + len(data.trend)))
        _place(ws, chart, "K21")
    if page is not None and rows.n <= ONE_PAGE_ROWS:
        # Small enough to read on one page: the whole Summary, charts included, on page 1, so no
        # page break can cut through a chart. Longer, it runs on one page wide (the charts sit
        # in rows 3-38, well inside page 1 at that scale).
        ws.page_setup.fitToHeight = 1


def _place(ws, chart, anchor: str) -> None:
    # openpyxl 3.1 marks axes deleted by default; Excel then draws a chart without axes.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend = None
    chart.width, chart.height = 15, 8.5
    ws.add_chart(chart, anchor)
