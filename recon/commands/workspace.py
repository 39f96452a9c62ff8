"""`recon init` and `recon demo`: making a workspace, and the guided tour on bundled samples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recon.commands.common import JsonOpt, QuietOpt, command, console, print_json


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("demo")(demo)


@command
def init(directory: Annotated[Path, typer.Argument(help="Folder for the new workspace.")]) -> None:
    """Create a workspace with a commented recon.toml."""
    from recon.workspace import init_workspace

    path = init_workspace(directory)
    typer.echo(f"created {path}; add a [channels.<name>] table, then: recon run --date yesterday -w {directory}")


@command
def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo workspace (rebuilt if it is one).")] = Path("demo-workspace"),
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Build a workspace from sample_statements/, reconcile every sample day, print the summary."""
    from recon.demo import run_demo

    result = run_demo(directory.resolve(), progress=not quiet and not as_json)
    if as_json:
        print_json({"workspace": str(result.root), "days": [d.isoformat() for d in result.days],
                    "reports": [str(p) for p in result.reports], "summary": result.summary,
                    "parsed": result.formats})
        return
    out = console(quiet)
    out.print(result.formats_table)
    out.print(result.table)
    for path in result.reports:
        out.print(f"report: {path}", markup=False)
    out.print(f"workspace: {result.root}  (try: recon queue list -w {result.root})", markup=False)
