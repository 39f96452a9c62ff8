"""The queue as a workbook: analysts fill in resolutions in Excel, recon applies them back.

`export_queue` writes the selected items with their `version`, plus editable columns: a resolution
chosen from a validated drop-down, a write-off account, an assignee and a note. `import_queue`
reads the workbook back (values only, never formulas: FAULTS.md D9), validates every row on its
own, and applies the rows that are valid, each in its own transaction.

Two guarantees make this safe to repeat:
- idempotent: each applied change is logged with a reference `<id>@v<version>:<action>`; a row
  whose reference is already in the log is reported as already applied and changes nothing;
- no lost updates: a row whose item changed since the export (its version moved on, and not by
  this same workbook) is a conflict, reported with what changed, and is not applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import Engine, select

from recon.core.accounting import AccountingRules
from recon.errors import Problem, StageFailed
from recon.excel.cells import put
from recon.excel.words import LANGUAGES, t
from recon.files import atomic_path
from recon.queue import actions
from recon.queue.store import Item
from recon.redact import is_id_column
from recon.store.tables.queue import queue_events, queue_items

READ_ONLY = ("id", "version", "layer", "kind", "channel", "account", "business_date", "status",
             "severity", "age_days", "key", "currency", "our_amount", "their_amount", "diff",
             "assignee", "reason", "updated_at")
EDITABLE = ("resolution", "write_off_account", "assign_to", "note")
COLUMNS = READ_ONLY + EDITABLE
CHOICES = ("accept_channel", "accept_ours", "write_off", "reopen")
_EDIT_FILL = PatternFill("solid", fgColor="FFF2CC")


def export_queue(items: list[Item], out: Path, language: str = "en") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = t("sheet.queue", language)
    for col, name in enumerate(COLUMNS, 1):
        cell = put(ws.cell(1, col), t(name, language))
        cell.font = Font(bold=True)
        if name in EDITABLE:
            cell.fill = _EDIT_FILL
    for r, item in enumerate(items, 2):
        values = {**{n: getattr(item, n, None) for n in READ_ONLY}, "updated_at": item.updated_at.isoformat()}
        for col, name in enumerate(READ_ONLY, 1):
            value = values[name]
            if is_id_column(name) and isinstance(value, str):  # the item's key: an order number, kept whole
                put(ws.cell(r, col), value, mask=False)
            else:
                put(ws.cell(r, col), value)
    last = max(len(items) + 1, 2)
    res_col = get_column_letter(COLUMNS.index("resolution") + 1)
    dv = DataValidation(type="list", formula1='"' + ",".join(CHOICES) + '"', allow_blank=True,
                        showErrorMessage=True, errorTitle="resolution",
                        error="Choose one of: " + ", ".join(CHOICES))
    dv.add(f"{res_col}2:{res_col}{last + 500}")  # room for rows analysts add by copy-down
    ws.add_data_validation(dv)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{last}"
    for col, name in enumerate(COLUMNS, 1):
        ws.column_dimensions[get_column_letter(col)].width = 40 if name in ("reason", "note", "key") else 14
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
            resolution, assign_to = _text(get("resolution")).lower(), _text(get("assign_to"))
            if not resolution and not assign_to:
                continue
            item_id, version = _int(get("id")), _int(get("version"))
            where = lambda msg, code="import": Problem(str(path), line, msg, code=code)  # noqa: E731
            if item_id is None or version is None:
                report.invalid.append(where("id and version must be whole numbers (do not edit them)"))
                continue
            if resolution and resolution not in CHOICES:
                report.invalid.append(where(f"resolution {resolution!r} is not one of {', '.join(CHOICES)}"))
                continue
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
