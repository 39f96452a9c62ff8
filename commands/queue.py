"""`recon queue ...`: list, inspect and work the discrepancy queue, alone or in bulk, or via Excel.

Thin by design: each command parses its options, calls one function in recon/queue, and prints a
rich table or `--json`. Who did something is `--by` (default: the login name); every change lands in
the item's append-only history.
"""

from __future__ import annotations

import getpass
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from commands.common import (
    JsonOpt,
    WorkspaceOpt,
    command,
    console,
    err_console,
    on_screen,
    open_workspace,
    print_json,
)
from recon.clock import parse_date
from recon.errors import ConfigError, ExitCode

Since = Annotated[str | None, typer.Option("--since", help="Business dates from (YYYY-MM-DD).")]
Until = Annotated[str | None, typer.Option("--until", help="Business dates up to (YYYY-MM-DD).")]
Channel = Annotated[str | None, typer.Option("--channel", "-c", help="Only this channel.")]
Layer = Annotated[int | None, typer.Option("--layer", min=0, max=3, help="Only this layer (0 internal, 1, 2, 3).")]
Kind = Annotated[str | None, typer.Option("--kind", help="Only this kind, e.g. AMOUNT_MISMATCH.")]
StateOpt = Annotated[str, typer.Option("--state", help="States, comma-separated; 'active' = OPEN,PENDING; 'all'.")]
Assignee = Annotated[str | None, typer.Option("--assignee", help="Only items assigned to this person.")]
MinAmount = Annotated[str | None, typer.Option("--min-amount", help="Only items with at least this much at stake.")]
OlderThan = Annotated[int | None, typer.Option("--older-than", min=0, help="Only items older than N days.")]
By = Annotated[str | None, typer.Option("--by", help="Who is acting (default: your login name).")]
Note = Annotated[str, typer.Option("--note", "-n", help="Why (kept in the item's history).")]
ItemId = Annotated[int, typer.Argument(help="Queue item id (see `recon queue list`).")]


def _actor(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def _filter(today, since, until, channel, layer, kind, state, assignee, min_amount, older_than, search=None):
    from recon.config.toml import exact_decimal
    from recon.queue.query import Filter, parse_states

    try:
        states = parse_states(state)
    except ValueError:
        raise ConfigError(f"--state: {state!r}; use OPEN, PENDING, RESOLVED, WRITTEN_OFF, AUTO_RESOLVED, active or all") from None
    amount = None
    if min_amount is not None:
        try:
            amount = exact_decimal(min_amount)
        except ValueError as exc:
            raise ConfigError(f"--min-amount: {exc}") from None
    return Filter(since=parse_date(since, today) if since else None, until=parse_date(until, today) if until else None,
                  channel=channel, layer=layer, kind=kind, states=states, assignee=assignee,
                  min_amount=amount, older_than=older_than, search=search or None)


def _context(workspace):
    from recon.queue.store import queue_engine

    ws = open_workspace(workspace)
    return ws, queue_engine(ws), ws.settings.queue


def _table(items, title: str):
    from rich.table import Table

    from recon.excel.cells import safe_text
    from recon.money import plain

    table = Table(title=title)
    for name in ("id", "sev", "L", "kind", "channel", "date", "status", "key", "ours", "theirs", "diff", "age", "assignee"):
        table.add_column(name, justify="right" if name in ("id", "ours", "theirs", "diff", "age") else "left")
    def money(value, currency):  # at the currency's exponent (JPY 2,501; KWD 1.250), exact
        text = plain(value, currency)
        return "" if text is None else format(Decimal(text), ",f")

    for i in items:
        table.add_row(str(i.id), i.severity, str(i.layer), i.kind, i.channel, i.business_date.isoformat(),
                      i.status, safe_text(i.key), money(i.our_amount, i.currency), money(i.their_amount, i.currency), i.diff_text,
                      str(i.age_days), i.assignee or "")
    return table


DELIMITED = ("id", "severity", "layer", "kind", "channel", "business_date", "status", "key", "currency",
             "our_amount", "their_amount", "diff", "age_days", "assignee", "reason")


def _delimited(items, sep: str) -> None:
    """One header and one row per item, amounts at the currency's exponent, text formula-escaped."""
    from recon.excel.cells import is_risky, safe_text
    from recon.formula import csv_line

    def cell(name: str, value) -> str:
        text = "" if value is None else str(value)
        if name == "reason":
            text = safe_text(text)  # free text: where card numbers can live
        return "'" + text if is_risky(text) else text  # a spreadsheet must not run it as a formula

    sys.stdout.write(csv_line(DELIMITED, sep) + "\n")
    for i in items:
        row = i.as_json()
        sys.stdout.write(csv_line([cell(c, row[c]) for c in DELIMITED], sep) + "\n")


def _print_done(done, as_json: bool) -> None:
    done = list(done)
    if as_json:
        print_json([{"id": d.item_id, "action": d.action, "from": d.from_state, "to": d.to_state} for d in done])
    else:
        for d in done:
            console().print(f"OK {d.item_id}: {d.action} {d.from_state} -> {d.to_state}", markup=False)


def _print_requeries(out, events, zone) -> None:
    """The channel's answers to the item's re-queries, one line each (the full record is in history)."""
    from recon.excel.cells import safe_text
    from recon.queue.actions import REQUERY

    asked = [e["data"] for e in events if e["action"] == REQUERY]
    if asked:
        out.print("re-queries (the channel's answers):", markup=False)
    for d in asked:
        when = f" at {d['time']}" if d.get("time") else ""
        outcome = " ".join(filter(None, (d.get("outcome"), d.get("proposal"))))
        digest = f" (answer sha256 {d['response_sha256'][:16]})" if d.get("response_sha256") else ""
        out.print(f"  #{d.get('attempt')} {on_screen(d.get('asked_at'), zone)} {d.get('status')}: {safe_text(d.get('why') or '')}{when}"
                  f" -> {outcome}{digest}", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    q = typer.Typer(name="queue", help="The discrepancy queue (差错处理): list, work, export and import items.",
                    no_args_is_help=True)
    app.add_typer(q, name="queue")

    @q.command("list")
    @command
    def list_(since: Since = None, until: Until = None, channel: Channel = None, layer: Layer = None,
              kind: Kind = None, state: StateOpt = "active", assignee: Assignee = None,
              min_amount: MinAmount = None, older_than: OlderThan = None,
              sort: Annotated[str, typer.Option(help="severity | age | amount | date | id")] = "severity",
              limit: Annotated[int | None, typer.Option(min=1, help="Show at most N items.")] = None,
              search: Annotated[str | None, typer.Option(
                  "--search", "-s", help="Only items whose key, reason or ids (order number, serials) contain TEXT.")] = None,
              fmt: Annotated[str, typer.Option("--format", help="table | tsv | csv (one row per item, for scripts)")] = "table",
              workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """List queue items (default: OPEN and PENDING), most severe first."""
        from recon.queue.query import SORTS, select_items

        if sort not in SORTS:
            raise ConfigError(f"--sort: {sort!r}; one of {', '.join(SORTS)}")
        ws, engine, th = _context(workspace)
        if fmt not in ("table", "tsv", "csv"):
            raise ConfigError(f"--format: {fmt!r}; one of table, tsv, csv")
        flt = _filter(ws.today(), since, until, channel, layer, kind, state, assignee, min_amount, older_than, search)
        with engine.connect() as conn:
            items = select_items(conn, flt, th, ws.today(), sort)[:limit]
        if as_json:
            print_json([i.as_json() for i in items])
        elif fmt != "table":
            _delimited(items, "\t" if fmt == "tsv" else ",")
        else:
            console().print(_table(items, f"{len(items)} item(s)"))

    @q.command("show")
    @command
    def show(item_id: ItemId, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """One item: both sides' rows with source file and line, and its full history."""
        from rich.table import Table

        from recon.excel.cells import safe_text
        from recon.queue.actions import QueueActionError
        from recon.queue.store import get_item, history

        ws, engine, th = _context(workspace)
        with engine.connect() as conn:
            item = get_item(conn, item_id, th, ws.today())
            if item is None:
                raise QueueActionError(f"no queue item {item_id}", hint="recon queue list")
            events = history(conn, item_id)
        if as_json:
            print_json({**item.as_json(), "sides": item.sides(), "history": events})
            return
        out = console()
        out.print(_table([item], f"item {item.id}: {safe_text(item.reason)}"))
        sides = item.sides()
        for side in ("ours", "theirs", "extra"):
            if sides.get(side):
                t = Table(title=side)
                t.add_column("field")
                t.add_column("value")
                for k, v in sides[side].items():
                    t.add_row(k, safe_text(str(v)))
                out.print(t)
        _print_requeries(out, events, ws.zone)
        h = Table(title=f"history (times in {ws.zone.key})")
        for col in ("at", "by", "action", "from", "to", "note"):
            h.add_column(col)
        for e in events:
            h.add_row(on_screen(e["at"], ws.zone), e["actor"], e["action"], e["from_state"] or "", e["to_state"], safe_text(e["note"]))
        out.print(h)

    def _act(workspace, fn, *args, as_json=False, **kwargs) -> None:
        ws, engine, _ = _context(workspace)
        with engine.begin() as conn:
            done = fn(conn, *args, **kwargs)
        _print_done(done if isinstance(done, (list, tuple)) else [done], as_json)

    @q.command("assign")
    @command
    def assign(item_id: ItemId, to: Annotated[str, typer.Option("--to", help="Assignee.")],
               note: Note = "", by: By = None, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """Assign an item to a person."""
        from recon.queue import actions

        _act(workspace, actions.assign, item_id, to, actor=_actor(by), note=note, as_json=as_json)

    @q.command("resolve")
    @command
    def resolve(item_id: ItemId, note: Note = "",
                accept: Annotated[str, typer.Option(help="ours (以平台为准: annotate) | channel (以渠道为准: post an adjustment)")] = "ours",
                by: By = None, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """Resolve an item, accepting our figures or the channel's."""
        from recon.queue import actions

        if accept == "ours":
            _act(workspace, actions.accept_ours, item_id, actor=_actor(by), note=note, as_json=as_json)
        elif accept == "channel":
            from recon.core.accounting import accounting_of

            accounting = accounting_of(open_workspace(workspace))  # a workspace may override accounting rules
            _act(workspace, actions.accept_channel, item_id, actor=_actor(by), note=note, accounting=accounting,
                 as_json=as_json)
        else:
            raise ConfigError(f"--accept: {accept!r}; use ours or channel")

    @q.command("write-off")
    @command
    def write_off(item_id: ItemId, account: Annotated[str, typer.Option("--account", help="Account booked to.")],
                  note: Note = "", by: By = None, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """Write an item off to a named account, with a reason."""
        from recon.queue import actions

        _act(workspace, actions.write_off, item_id, account=account, actor=_actor(by), note=note, as_json=as_json)

    @q.command("reopen")
    @command
    def reopen(item_id: ItemId, note: Note = "", by: By = None, workspace: WorkspaceOpt = None,
               as_json: JsonOpt = False) -> None:
        """Re-open a resolved, written-off or auto-resolved item."""
        from recon.queue import actions

        _act(workspace, actions.reopen, item_id, actor=_actor(by), note=note, as_json=as_json)

    @q.command("match")
    @command
    def match(item_id: ItemId, other: Annotated[int, typer.Argument(help="The item to pair it with.")],
              note: Note = "", by: By = None, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """Force-match two items the matcher could not pair."""
        from recon.queue import actions

        _act(workspace, actions.force_match, item_id, other, actor=_actor(by), note=note, as_json=as_json)

    @q.command("unmatch")
    @command
    def unmatch(item_id: ItemId, note: Note = "", by: By = None, workspace: WorkspaceOpt = None,
                as_json: JsonOpt = False) -> None:
        """Undo a force-match: both items re-open."""
        from recon.queue import actions

        _act(workspace, actions.unmatch, item_id, actor=_actor(by), note=note, as_json=as_json)

    @q.command("bulk")
    @command
    def bulk(action: Annotated[str, typer.Argument(help="assign | resolve | write-off | reopen")],
             since: Since = None, until: Until = None, channel: Channel = None, layer: Layer = None,
             kind: Kind = None, state: StateOpt = "active", assignee: Assignee = None,
             min_amount: MinAmount = None, older_than: OlderThan = None,
             to: Annotated[str | None, typer.Option("--to", help="assign: the assignee.")] = None,
             accept: Annotated[str, typer.Option(help="resolve: ours | channel")] = "ours",
             account: Annotated[str | None, typer.Option(help="write-off: the account.")] = None,
             note: Note = "", by: By = None,
             yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
             workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """Apply one action to every item a filter selects (one transaction: all or nothing)."""
        from recon.core.accounting import accounting_of
        from recon.queue import actions
        from recon.queue.query import select_items

        accounting = accounting_of(open_workspace(workspace))
        fns = {"assign": lambda c, i, **k: actions.assign(c, i, to or "", **k),
               "resolve": {"ours": actions.accept_ours,
                           "channel": lambda c, i, **k: actions.accept_channel(c, i, accounting=accounting, **k)}.get(accept),
               "write-off": lambda c, i, **k: actions.write_off(c, i, account=account or "", **k),
               "reopen": actions.reopen}
        fn = fns.get(action)
        if fn is None:
            raise ConfigError(f"bulk: unknown action {action!r} (or --accept {accept!r}); use assign, resolve, write-off, reopen")
        if action == "assign" and not to:
            raise ConfigError("bulk assign needs --to")
        ws, engine, th = _context(workspace)
        flt = _filter(ws.today(), since, until, channel, layer, kind, state, assignee, min_amount, older_than)
        with engine.connect() as conn:
            items = select_items(conn, flt, th, ws.today(), "id")
        if not items:
            console().print("no items match the filter", markup=False)
            return
        if not yes:
            console().print(_table(items[:20], f"{len(items)} item(s) selected (first 20 shown)"))
            typer.confirm(f"{action} {len(items)} item(s)?", abort=True)
        with engine.begin() as conn:
            done = [fn(conn, i.id, actor=_actor(by), note=note) for i in items]
        _print_done(done, as_json)

    @q.command("requery")
    @command
    def requery(ids: Annotated[list[int] | None, typer.Argument(
                    help="Queue item ids; none: every eligible item the filters select.")] = None,
                since: Since = None, until: Until = None, channel: Channel = None, kind: Kind = None,
                state: StateOpt = "active", assignee: Assignee = None, min_amount: MinAmount = None,
                older_than: OlderThan = None, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """Ask the channel's order-query API about items (主动查询) and record the answers on them."""
        from jobs import logs
        from jobs.requery.run import requery_items

        ws = open_workspace(workspace)
        logs.configure(ws.root)  # every request and answer goes to logs/detail.log, without secrets
        flt = _filter(ws.today(), since, until, channel, 1, kind, state, assignee, min_amount, older_than)
        run = requery_items(ws, tuple(ids or ()), flt)
        if as_json:
            print_json(run.as_dict())
            return
        out = console()
        for line in run.lines:
            out.print(f"{line.outcome} {line.item_id} {line.channel} {line.status}: {line.note}", markup=False,
                      soft_wrap=True)
        for note in run.notes:
            out.print(f"NOTE {note}", markup=False, soft_wrap=True)
        out.print(f"{len(run.lines)} item(s) asked", markup=False)

    @q.command("export")
    @command
    def export(out: Annotated[Path, typer.Option("--out", "-o", help="Workbook to write (.xlsx).")],
               since: Since = None, until: Until = None, channel: Channel = None, layer: Layer = None,
               kind: Kind = None, state: StateOpt = "active", assignee: Assignee = None,
               min_amount: MinAmount = None, older_than: OlderThan = None,
               workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """Export items to a workbook with resolution (drop-down) and note columns to fill in."""
        from recon.queue.excel_roundtrip import export_queue
        from recon.queue.query import select_items

        ws, engine, th = _context(workspace)
        flt = _filter(ws.today(), since, until, channel, layer, kind, state, assignee, min_amount, older_than)
        with engine.connect() as conn:
            items = select_items(conn, flt, th, ws.today(), "severity")
        export_queue(items, out, ws.settings.report.language)
        if as_json:
            print_json({"path": str(out), "items": len(items)})
        else:
            console().print(f"OK {out}: {len(items)} item(s)", markup=False)

    @q.command("import")
    @command
    def import_(path: Annotated[Path, typer.Argument(help="A workbook made by `recon queue export`.")],
                by: By = None, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """Apply the resolutions filled in an exported workbook (idempotent; reports conflicts)."""
        from recon.core.accounting import accounting_of
        from recon.queue.excel_roundtrip import import_queue

        ws, engine, _ = _context(workspace)
        if not path.exists():
            raise ConfigError(f"{path}: not found")
        report = import_queue(engine, path, actor=_actor(by), accounting=accounting_of(ws))
        # rows not applied are refused input: said on stderr, and the exit says so (4), even with --json
        for p in report.conflicts:
            err_console.print(f"CONFLICT {p} (next: recon queue export a fresh workbook and fill it again)",
                              markup=False, soft_wrap=True)
        for p in report.invalid:
            err_console.print(f"ERROR {p} (next: correct the row, then recon queue import {path} again)",
                              markup=False, soft_wrap=True)
        if as_json:
            print_json(report.as_dict())
        else:
            out = console()
            for line in report.applied:
                out.print(f"OK {line}", markup=False)
            for line in report.already:
                out.print(f"ALREADY {line}", markup=False)
            out.print(f"{len(report.applied)} applied, {len(report.already)} already applied, "
                      f"{len(report.conflicts)} conflict(s), {len(report.invalid)} invalid", markup=False)
        if report.conflicts or report.invalid:
            raise typer.Exit(int(ExitCode.STAGE_FAILED))
