"""`recon parse`: one statement file to a standardized bill (Parquet)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from recon.commands.common import JsonOpt, QuietOpt, WorkspaceOpt, command, console, parse_date, print_json


def register(app: typer.Typer) -> None:
    app.command("parse")(parse)


@command
def parse(
    file: Annotated[Path | None, typer.Argument(help="The statement file (plain, gzip or zip).", exists=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the bill (.parquet).")] = None,
    format_id: Annotated[str | None, typer.Option("--format", "-f", help="Format id; identified from the content when omitted.")] = None,
    channel: Annotated[str | None, typer.Option("--channel", "-c", help="Channel name (inside a workspace: its format, rules and account apply).")] = None,
    date: Annotated[str | None, typer.Option("--date", "-d", help="Business date of the statement, when the file does not say.")] = None,
    list_formats: Annotated[bool, typer.Option("--list-formats", help="List the format ids and exit.")] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Parse one statement into the standardized bill; a file that fails its own checks exits 4."""
    from parsers.registry import format_ids, get_parser

    if list_formats:
        rows = [{"format": f, "description": get_parser(f).description} for f in format_ids()]
        if as_json:
            print_json(rows)
        else:
            for row in rows:
                console(quiet).print(f"{row['format']:<20} {row['description']}", markup=False)
        return
    from recon.errors import ConfigError

    if file is None or out is None:
        raise ConfigError("recon parse needs FILE and --out OUT.parquet (or --list-formats)")
    if not file.is_file():
        raise ConfigError(f"{file}: no such file")
    _parse_one(file, out, format_id, channel, parse_date(date) if date else None, workspace, as_json, quiet)


def _parse_one(file: Path, out: Path, format_id: str | None, channel: str | None, date: dt.date | None,
               workspace: Path | None, as_json: bool, quiet: bool) -> None:
    from parsers.base import ParseContext
    from parsers.registry import identify, parse_file
    from recon.errors import StatementRejected
    from recon.files import atomic_path
    from recon.ingest import channel_rules
    from recon.quarantine import quarantine

    ws = _maybe_workspace(workspace)
    cfg = ws.settings.channel(channel) if ws and channel else None  # an unknown channel is a config error
    try:
        fid = format_id or (cfg.format if cfg else None) or identify(file)
        where_known = {"zone": ws.settings.channel_zone(channel)} if cfg else {}  # else the parser default
        ctx = ParseContext(channel=channel or fid.split(".")[0], rules=channel_rules(ws, fid, cfg.rules if cfg else None),
                           account=(cfg.account or None) if cfg else None, bill_date=date, source_name=str(file),
                           **where_known)
        fid, parsed = parse_file(file, ctx, fid)
    except StatementRejected as exc:
        if ws is not None:
            where = quarantine(ws.quarantine_dir, file, exc.problem, channel=channel, date=date)
            exc.hint = f"quarantined in {where.relative_to(ws.root)}"
        raise
    with atomic_path(out) as tmp:
        parsed.bill.write_parquet(tmp)
    if parsed.balances is not None:
        with atomic_path(out.with_suffix(".balances.parquet")) as tmp:
            parsed.balances.write_parquet(tmp)
    summary = {"file": str(file), "format": fid, "rows": parsed.bill.height, "out": str(out),
               "checks": list(parsed.checks), "warnings": [str(w) for w in parsed.warnings]}
    if as_json:
        print_json(summary)
        return
    out_console = console(quiet)
    out_console.print(f"OK {file} [{fid}] {parsed.bill.height} rows -> {out}", markup=False)
    for check in parsed.checks:
        out_console.print(f"   checked: {check}", markup=False)
    for warning in parsed.warnings:
        out_console.print(f"   warning: {warning}", markup=False)


def _maybe_workspace(path: Path | None):
    """The workspace when one is named (option or $RECON_WORKSPACE, which Typer fills in) or the
    current folder is one; else None, and the built-in rules apply."""
    from recon.config import CONFIG_NAME
    from recon.workspace import Workspace

    if path is None and not (Path.cwd() / CONFIG_NAME).exists():
        return None
    return Workspace.open(path)
