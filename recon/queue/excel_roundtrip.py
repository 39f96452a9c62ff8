"""The queue as a workbook: analysts fill in resolutions in Excel, recon applies them back.

`export_queue` writes the selected items: first the editable columns (marked by their fill and a
header comment): a resolution chosen from a validated drop-down, a write-off account, an assignee
and a note; then the item as people read it (kinds, statuses and headers in the report's language,
money in the report's formats, widths from content); last, hidden, the internal `version` and
`updated_at` the import checks for conflicts. The drop-down shows the language's labels; the
import reads codes, English and Chinese labels alike (`resolution_of`) and names the cell of a
resolution it cannot read. `import_queue`
reads the workbook back (values only, never formulas: FAULTS.md D9), validates every row on its
own, and applies the rows that are valid, each in its own transaction.

Two guarantees make this safe to repeat:
- idempotent: each applied change is logged with a reference `<id>@v<version>:<action>`; a row
  whose reference is already in the log is reported as already applied and changes nothing;
- no lost updates: a row whose item changed since the export (its version moved on, and not by
  this same workbook) is a conflict, reported with what changed, and is not applied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import Engine, select

from recon.core.accounting import AccountingRules
from recon.errors import Problem, StageFailed
from recon.excel.cells import put
from recon.excel.words import LANGUAGES, kind_label, t
from recon.files import atomic_path
from recon.money import MoneyError, exponent, plain
from recon.queue import actions
from recon.queue.store import Item
from recon.redact import is_id_column
from recon.store.tables.queue import queue_events, queue_items

EDITABLE = ("resolution", "write_off_account", "assign_to", "note")  # first: what the analyst fills in
READ_ONLY = ("id", "kind", "layer", "channel", "account", "business_date", "status", "severity", "age_days",
             "key", "currency", "our_amount", "their_amount", "diff", "assignee", "reason")
INTERNAL = ("version", "updated_at")  # last and hidden: the import's conflict check, not for reading
COLUMNS = EDITABLE + READ_ONLY + INTERNAL
CHOICES = ("accept_channel", "accept_ours", "write_off", "reopen")
# Words a person may type or pick for a resolution, besides the codes and the labels of both languages:
# what `recon queue resolve --help` and `recon queue --help` print (commands/queue.py).
_ALIASES = {"write-off": "write_off", "ours": "accept_ours", "channel": "accept_channel"}
_RESOLUTION_BY_WORD = {w.casefold(): c for c in CHOICES
                       for w in (c, t(f"choice.{c}", "en"), t(f"choice.{c}", "zh"))} | _ALIASES
_EDIT_FILL = PatternFill("solid", fgColor="FFF2CC")
_HEAD_FILL = PatternFill("solid", fgColor="D9E1F2")
_WIDE = frozenset({"reason", "note"})
_WRAP = Alignment(wrap_text=True, vertical="top")
_MONEY = frozenset({"our_amount", "their_amount", "diff"})
MAX_WIDTH = 60


def resolution_of(text: str) -> str | None:
    """The action a resolution cell names (code, English or Chinese label); None when it names none."""
    return _RESOLUTION_BY_WORD.get(text.strip().casefold())


def _money_format(currency: str | None) -> str:
    """The report's money format: the currency's exponent (JPY 0, KWD 3; 2 when unknown)."""
    try:
        exp = exponent(currency) if currency else 2
    except MoneyError:
        exp = 2
    return "#,##0" + ("." + "0" * exp if exp else "")


def _width(value: object) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)  # CJK takes two columns


def _shown(item: Item, name: str, language: str) -> object:
    if name == "kind":
        return kind_label(item.kind, language)
    if name in ("status", "severity"):
        return t(f"{name}.{getattr(item, name)}", language)
    if name == "updated_at":
        return item.updated_at.isoformat()
    return getattr(item, name, None)


def export_queue(items: list[Item], out: Path, language: str = "en") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = t("sheet.queue", language)
    headers = [t(name, language) for name in COLUMNS]
    widths = [_width(h) + 3 for h in headers]
    hint = t("queue.editable_note", language)
    for col, (name, header) in enumerate(zip(COLUMNS, headers, strict=True), 1):
        cell = put(ws.cell(1, col), header)
        cell.font = Font(bold=True)
        cell.fill = _EDIT_FILL if name in EDITABLE else _HEAD_FILL
        if name in EDITABLE:
            cell.comment = Comment(hint if name == "resolution" else t("queue.editable", language), "recon")
    for r, item in enumerate(items, 2):
        money = _money_format(item.currency)
        for col, name in enumerate(COLUMNS, 1):
            cell = ws.cell(r, col)
            if name in EDITABLE:
                cell.fill = _EDIT_FILL
                continue
            value = _shown(item, name, language)
            # the item's key is an order number: kept whole, never masked
            put(cell, value, mask=not (is_id_column(name) and isinstance(value, str)))
            if name in _MONEY:  # also when empty: a figure typed in later shows as money
                cell.number_format = money
            if name in _WIDE:
                cell.alignment = _WRAP
            shown = plain(value, item.currency) if isinstance(value, Decimal) else value
            shown = shown.isoformat() if isinstance(shown, dt.date) else shown
            widths[col - 1] = max(widths[col - 1], _width(shown) + 2)
    last = max(len(items) + 1, 2)
    labels = [c if language != "zh" else t(f"choice.{c}", "zh") for c in CHOICES]
    res_col = get_column_letter(COLUMNS.index("resolution") + 1)
    dv = DataValidation(type="list", formula1='"' + ",".join(labels) + '"', allow_blank=True,
                        showErrorMessage=True, errorTitle=t("resolution", language),
                        error=("请从列表中选择: " if language == "zh" else "Choose one of: ") + ", ".join(labels))
    dv.add(f"{res_col}2:{res_col}{last + 500}")  # room for rows analysts add by copy-down
    ws.add_data_validation(dv)
    widths[0] = max(widths[0], *(_width(x) + 4 for x in labels))  # the drop-down's longest choice fits
    ws.freeze_panes = ws.cell(2, len(EDITABLE) + 2)  # the editable columns and the id stay in view
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{last}"
    for col, name in enumerate(COLUMNS, 1):
        dim = ws.column_dimensions[get_column_letter(col)]
        dim.width = max(min(widths[col - 1], MAX_WIDTH), 30 if name in _WIDE else 8)
        dim.hidden = name in INTERNAL
    reason_col, reason_width = COLUMNS.index("reason") + 1, ws.column_dimensions[
        get_column_letter(COLUMNS.index("reason") + 1)].width
    for r in range(2, len(items) + 2):  # a wrapped reason's row is as tall as its lines (readers keep stored heights)
        lines = -(-_width(ws.cell(r, reason_col).value) // max(int(reason_width) - 1, 1))
        if lines > 1:
            ws.row_dimensions[r].height = 13 * lines + 2
    # Printed (a team lead signing off the list): landscape, one page wide, the header on every page.
    ws.page_setup.orientation, ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = "landscape", 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    with atomic_path(out) as tmp:
        wb.save(tmp)
    return out


@dataclass
class ImportReport:
    applied: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    conflicts: list[Problem] = field(default_factory=list)
    invalid: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"applied": self.applied, "already_applied": self.already,
                "conflicts": [p.as_dict() for p in self.conflicts], "invalid": [p.as_dict() for p in self.invalid]}


def _header_map(header: tuple) -> dict[str, int]:
    names = {t(c, lang): c for c in COLUMNS for lang in LANGUAGES} | {c: c for c in COLUMNS}
    found = {names[h]: i for i, h in enumerate(header) if isinstance(h, str) and h in names}
    missing = [c for c in ("id", "version", *EDITABLE) if c not in found]
    if missing:
        raise StageFailed(f"not a recon queue export: no column(s) {', '.join(missing)}",
                          hint="recon queue export --out FILE.xlsx")
    return found


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():  # Excel stores every number as a double
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def import_queue(engine: Engine, path: Path, *, actor: str, accounting: AccountingRules) -> ImportReport:
    report = ImportReport()
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        cols = _header_map(next(rows, ()))
        for line, raw in enumerate(rows, 2):
            get = lambda name: raw[cols[name]] if cols[name] < len(raw) else None  # noqa: E731
            raw_resolution, assign_to = _text(get("resolution")), _text(get("assign_to"))
            resolution = raw_resolution
            if not resolution and not assign_to:
                continue
            item_id, version = _int(get("id")), _int(get("version"))
            where = lambda msg, code="import": Problem(str(path), line, msg, code=code)  # noqa: E731
            if item_id is None or version is None:
                report.invalid.append(where("id and version must be whole numbers (do not edit them)"))
                continue
            if resolution:
                action = resolution_of(resolution)
                if action is None:
                    cell = f"{get_column_letter(cols['resolution'] + 1)}{line}"
                    choices = ", ".join(f"{c} ({t(f'choice.{c}', 'zh')})" for c in CHOICES)
                    report.invalid.append(where(f"cell {cell}: resolution {raw_resolution!r} is not one of {choices}"))
                    continue
                resolution = action
            note, account = _text(get("note")), _text(get("write_off_account"))
            if resolution in ("accept_channel", "accept_ours", "write_off", "reopen") and not note:
                report.invalid.append(where(f"item {item_id}: {resolution} needs a note"))
                continue
            if resolution == "write_off" and not account:
                report.invalid.append(where(f"item {item_id}: write_off needs a write-off account"))
                continue
            steps = ([("assign", {"to": assign_to})] if assign_to else []) + \
                    ([(resolution, {"account": account} if resolution == "write_off" else {})] if resolution else [])
            _apply_row(engine, report, where, item_id, version, steps, note, actor, accounting)
    finally:
        wb.close()
    return report


def _apply_row(engine, report, where, item_id, version, steps, note, actor, accounting) -> None:
    try:
        with engine.begin() as conn:  # one row, one transaction: a refused step undoes the row
            outcome = _apply_steps(conn, where, item_id, version, steps, note, actor, accounting)
    except actions.QueueActionError as exc:
        outcome = where(str(exc))
    label = f"{item_id}: " + ", ".join(n for n, _ in steps)
    if outcome == "applied":
        report.applied.append(label)
    elif outcome == "already":
        report.already.append(label)
    elif outcome.code == "conflict":
        report.conflicts.append(outcome)
    else:
        report.invalid.append(outcome)


def _apply_steps(conn, where, item_id, version, steps, note, actor, accounting) -> str | Problem:
    refs = [f"{item_id}@v{version}:{name}" for name, _ in steps]
    done = set(conn.execute(select(queue_events.c.ref).where(queue_events.c.ref.in_(refs))).scalars())
    if len(done) == len(refs):
        return "already"
    current = conn.execute(select(queue_items.c.version, queue_items.c.status)
                           .where(queue_items.c.id == item_id)).first()
    if current is None:
        return where(f"no queue item {item_id}")
    # Steps of one row commit together, so either none or all of its refs are in the log.
    if current.version != version:
        last = conn.execute(select(queue_events).where(queue_events.c.item_id == item_id)
                            .order_by(queue_events.c.id.desc()).limit(1)).first()
        since = f"; last change: {last.action} by {last.actor} ({last.note})" if last else ""
        return where(f"item {item_id} changed since the export (version {version} -> {current.version}, "
                     f"now {current.status}){since}; not applied", "conflict")
    expected = version
    for (name, args), ref in zip(steps, refs, strict=True):
        _run(conn, name, item_id, args, note, actor, ref, expected, accounting)
        expected += 1
    return "applied"


def _run(conn, name: str, item_id: int, args: dict, note: str, actor: str, ref: str, expected: int,
         accounting: AccountingRules) -> None:
    kw = dict(actor=actor, ref=ref, expected_version=expected)
    if name == "assign":
        actions.assign(conn, item_id, args["to"], note=note, **kw)
    elif name == "accept_channel":
        actions.accept_channel(conn, item_id, note=note, accounting=accounting, **kw)
    elif name == "accept_ours":
        actions.accept_ours(conn, item_id, note=note, **kw)
    elif name == "write_off":
        actions.write_off(conn, item_id, account=args["account"], note=note, **kw)
    elif name == "reopen":
        actions.reopen(conn, item_id, note=note, **kw)
