"""`recon parse`: one statement file to a standardized bill (Parquet)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commands.common import JsonOpt, QuietOpt, WorkspaceOpt, command, console, print_json


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
    from recon.errors import StatementRejected

    try:
        _parse_one(file, out, format_id, channel, date, workspace, as_json, quiet)
    except StatementRejected as exc:
        _report_refusal(exc, file, as_json)
        raise


def _report_refusal(exc, file: Path, as_json: bool) -> None:
    """With --json every problem of a refused file goes to stdout; the terminal lines (headline,
    the next ones up to ten, the count) are printed by the common error handler, exit 4."""
    if as_json:
        print_json({"file": str(file), "rejected": True, "problem_count": exc.problem_count,
                    "problems": [p.as_dict() for p in exc.problems]})


def _parse_one(file: Path, out: Path, format_id: str | None, channel: str | None, date: str | None,
               workspace: Path | None, as_json: bool, quiet: bool) -> None:
    from jobs.catalog import open_workspace
    from jobs.ingest import parse_statement
    from recon.config.settings import CONFIG_NAME

    # Inside a workspace (named, $RECON_WORKSPACE, or the current folder) its rules, channel and
    # quarantine apply; outside one, the built-in rules and the default business zone.
    inside = workspace is not None or (Path.cwd() / CONFIG_NAME).exists()
    ws = open_workspace(workspace) if inside else None
    fid, parsed = parse_statement(file, out, ws, format_id=format_id, channel=channel, date=date)
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
