"""The Summary sheet: the page a finance lead reads first, with two native Excel charts.

Blocks, top to bottom: per-channel lines (matched %, discrepancies, pending, amount at stake),
discrepancies per kind and layer, the open queue by age bucket, and the matched % of the last 30
days. The charts (discrepancies by kind as bars, matched % as a line) are native Excel charts whose
series point at those blocks, so the numbers behind a chart are always on the page next to it.
Percentages are exact Decimal ratios shown with a percent format.
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
from recon.report.sheets import header_row, money_format

PCT = "0.00%"
TITLE_FONT = Font(bold=True, size=14)
BLOCK_FONT = Font(bold=True, size=12)
LAYERS = (0, 1, 2, 3)


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

    def label(self, text: str) -> int:
        self.add([])
        return self.add([wcell(self.ws, text, font=BLOCK_FONT)])


def write_summary(wb, data: DayData, language: str) -> None:
    ws = wb.create_sheet(t("sheet.summary", language))
    L = lambda key: t(key, language)  # noqa: E731
    for col, width in zip("ABCDEFGHI", (22, 16, 10, 12, 12, 12, 14, 10, 18), strict=True):
        ws.column_dimensions[col].width = width
    rows = _Rows(ws)
    rows.add([wcell(ws, f"{L('title')} {data.date.isoformat()}", font=TITLE_FONT)])
    rows.add([L("business_date"), wcell(ws, data.date, DATE_FORMAT)])

    rows.label(L("per_channel"))
    rows.add(header_row(ws, [L(k) for k in ("channel", "account", "currency", "lines", "matched",
                                            "matched_pct", "discrepancies", "pending", "at_stake")]))
    per = data.per_channel()
    for r in per.iter_rows(named=True) if per.height else []:
        rows.add([wcell(ws, r["channel"]), wcell(ws, r["account"]), wcell(ws, r["currency"]), r["lines"],
                  r["matched"], wcell(ws, ratio(r["matched"], r["lines"]), PCT), r["discrepancies"],
                  r["pending"], wcell(ws, r["at_stake"] or Decimal(0), money_format(r["currency"]))])
    if not per.height:
        rows.add([L("none")])

    rows.label(L("by_kind"))
    kinds = data.kinds_by_layer()
    head = rows.add(header_row(ws, [L("kind"), *(f"{L('layer')} {n}" for n in LAYERS), L("total")]))
    for kind, per_layer in kinds:
        rows.add([wcell(ws, kind_label(kind, language) if language == "zh" else kind),
                  *(per_layer.get(n, 0) for n in LAYERS), sum(per_layer.values())])
    if kinds:
        chart = BarChart()
        chart.title, chart.y_axis.title = L("chart.kind"), L("count")
        chart.add_data(Reference(ws, min_col=6, min_row=head, max_row=head + len(kinds)), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=head + len(kinds)))
        _place(ws, chart, "K3")
    else:
        rows.add([L("none")])

    rows.label(L("open_by_age"))
    rows.add(header_row(ws, [L("bucket"), L("currency"), L("count"), L("at_stake")]))
    shown = {b for b, *_ in data.open_by_age}
    for bucket in BUCKETS:
        if bucket not in shown:
            rows.add([bucket, None, 0, None])
        for b, currency, n, amount in data.open_by_age:
            if b == bucket:
                rows.add([bucket, wcell(ws, currency), n, wcell(ws, amount, money_format(currency))])

    rows.label(L("trend"))
    head = rows.add(header_row(ws, [L("date"), L("lines"), L("matched"), L("matched_pct")]))
    for day, settled, lines in data.trend:
        rows.add([wcell(ws, day, DATE_FORMAT), lines, settled, wcell(ws, ratio(settled, lines), PCT)])
    if data.trend:
        chart = LineChart()
        chart.title, chart.y_axis.title = L("chart.trend"), L("matched_pct")
        chart.y_axis.number_format = PCT
        chart.x_axis.number_format = DATE_FORMAT
        chart.add_data(Reference(ws, min_col=4, min_row=head, max_row=head + len(data.trend)), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=head + len(data.trend)))
        _place(ws, chart, "K22")
    else:
        rows.add([L("none")])


def _place(ws, chart, anchor: str) -> None:
    # openpyxl 3.1 marks axes deleted by default; Excel then draws a chart without axes.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend = None
    chart.width, chart.height = 18, 9
    ws.add_chart(chart, anchor)
