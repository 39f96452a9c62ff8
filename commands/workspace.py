"""`recon init` and `recon demo`: making a workspace, and the guided tour on bundled samples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commands.common import JsonOpt, QuietOpt, command, console, print_json


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
    from rich.progress import Progress

    from jobs.demo import demo_days, run_demo

    with Progress(disable=quiet or as_json, transient=True) as bar:
        task = bar.add_task("reconciling sample days", total=len(demo_days()))
        result = run_demo(directory.resolve(), on_day=lambda day: bar.advance(task))
    if as_json:
        print_json({"workspace": str(result.root), "days": [d.date.isoformat() for d in result.days],
                    "reports": [str(d.report) for d in result.days], "summary": [d.as_dict() for d in result.days],
                    "parsed": [s.as_dict() for s in result.samples], "requery": result.requery.as_dict()})
        return
    out = console(quiet)
    out.print(_samples_table(result.samples))
    out.print(_days_table(result.days))
    q = result.requery
    out.print(f"re-query: item {q.item} ({q.kind} {q.key}, {q.date}) asked the channel at {q.asked}: {q.outcome}: "
              f"{q.note}  (try: recon queue show {q.item})", markup=False, soft_wrap=True)
    for day in result.days:
        out.print(f"report: {day.report}", markup=False)
    out.print(f"workspace: {result.root}  (try: recon queue list -w {result.root})", markup=False)


def _samples_table(samples):  # -> rich.table.Table
    from rich.table import Table

    table = Table(title="bundled statements of the other channels: identified, parsed, self-checked")
    for col in ("statement", "format", "rows", "checks passed"):
        table.add_column(col, justify="right" if col in ("rows", "checks passed") else "left", overflow="fold")
    for s in samples:
        table.add_row(s.file, s.format, str(s.rows), str(s.checks))
    return table


def _days_table(days):  # -> rich.table.Table
    from rich.table import Table

    table = Table(title="recon demo: discrepancies found per layer", caption="WeChat Pay trade and fund-flow bills, ICBC MT940")
    for col in ("date", "layer-1 rows", "matched", "pending", "layer 1", "layer 2", "layer 3"):
        table.add_column(col, justify="left" if col == "date" else "right")
    for d in days:
        issues = d.rows - d.matched - d.pending
        table.add_row(d.date.isoformat(), str(d.rows), str(d.matched), str(d.pending), str(issues),
                      str(sum(d.layer2.values())), str(sum(d.layer3.values())))
    return table
