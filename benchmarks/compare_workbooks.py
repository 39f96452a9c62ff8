"""Compare two report workbooks cell by cell: what a reader sees must not change with the writer.

    .venv/bin/python benchmarks/compare_workbooks.py OLD.xlsx NEW.xlsx

Checks, per sheet in order: every cell's value and data type, number format, font, fill,
alignment and quote prefix (formula escaping); row heights, column widths, frozen panes,
autofilter, print setup, margins, print titles and footers; the charts' count; document
properties. Prints the first differences and exits 1 when there are any.
"""

from __future__ import annotations

import sys

from openpyxl import load_workbook


def _style(cell) -> tuple:
    f, fill, a = cell.font, cell.fill, cell.alignment
    return (cell.number_format, f.b, f.sz, f.color.rgb if f.color is not None else None,
            fill.fill_type, fill.fgColor.rgb if fill.fgColor is not None else None,
            a.wrap_text, a.horizontal, a.vertical, cell.quotePrefix if hasattr(cell, "quotePrefix") else
            cell.style_array.quotePrefix)


def _sheet_setup(ws) -> tuple:
    ps, m = ws.page_setup, ws.page_margins
    return (ws.freeze_panes, ws.auto_filter.ref, ps.orientation, ps.paperSize, ps.fitToWidth, ps.fitToHeight,
            ws.sheet_properties.pageSetUpPr.fitToPage if ws.sheet_properties.pageSetUpPr else None,
            (m.left, m.right, m.top, m.bottom, m.header, m.footer), ws.print_title_rows,
            ws.oddFooter.left.text, ws.oddFooter.center.text, ws.oddFooter.right.text, ws.print_options.gridLines,
            tuple(sorted((k, d.width) for k, d in ws.column_dimensions.items())),
            tuple(sorted((k, d.height) for k, d in ws.row_dimensions.items() if d.height is not None)),
            len(ws._charts))


def compare(old_path: str, new_path: str, limit: int = 20) -> list[str]:
    old, new = load_workbook(old_path), load_workbook(new_path)
    diffs: list[str] = []
    if old.sheetnames != new.sheetnames:
        return [f"sheets: {old.sheetnames} != {new.sheetnames}"]
    p, q = old.properties, new.properties
    if (p.creator, p.title, p.created) != (q.creator, q.title, q.created):
        diffs.append(f"properties: {(p.creator, p.title, p.created)} != {(q.creator, q.title, q.created)}")
    cells = 0
    for name in old.sheetnames:
        a, b = old[name], new[name]
        if _sheet_setup(a) != _sheet_setup(b):
            diffs.append(f"{name}: setup {_sheet_setup(a)} != {_sheet_setup(b)}")
        if (a.max_row, a.max_column) != (b.max_row, b.max_column):
            diffs.append(f"{name}: size {(a.max_row, a.max_column)} != {(b.max_row, b.max_column)}")
        for ra, rb in zip(a.iter_rows(), b.iter_rows(), strict=False):
            for ca, cb in zip(ra, rb, strict=False):
                cells += 1
                va, vb = (ca.value, ca.data_type, _style(ca)), (cb.value, cb.data_type, _style(cb))
                if va != vb:
                    diffs.append(f"{name}!{ca.coordinate}: {va!r} != {vb!r}")
                    if len(diffs) >= limit:
                        return diffs
    print(f"compared {len(old.sheetnames)} sheets, {cells:,} cells")
    return diffs


if __name__ == "__main__":
    found = compare(sys.argv[1], sys.argv[2])
    for line in found:
        print(line)
    print("identical content" if not found else f"{len(found)} difference(s) shown")
    sys.exit(1 if found else 0)
