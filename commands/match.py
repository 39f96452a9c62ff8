"""`recon match`: the three layers for a day, or with --dry-run, what re-matching would change.

Thin: parses the options, calls `recon.matching.day.reconcile_day` (layer 1, then layers 2 and 3, then
the queue), prints layer 1's outcomes and the other layers' findings as tables (or JSON). A dry run
(or `--rules FILE`) only compares layer 1 with the stored results and writes nothing. A missing
bill exits 3 (not ready), a bad rule file exits 2 naming the file, key and reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commands.common import (
    ChannelOpt,
    DateOpt,
    EngineOpt,
    JsonOpt,
    QuietOpt,
    WorkspaceOpt,
    check_engine,
    command,
    console,
    matchers_for,
    open_workspace,
    print_json,
)
from recon.clock import parse_date

DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show what would change against the stored results; write nothing.")]
RulesOpt = Annotated[Path | None, typer.Option("--rules", help="Match with this rule file instead (implies --dry-run).",
                                               exists=False, dir_okay=False)]


def register(app: typer.Typer) -> None:
    app.command("match")(match)


@command
def match(date: DateOpt, channel: ChannelOpt = None, dry_run: DryRunOpt = False, rules: RulesOpt = None,
          engine: EngineOpt = None, workspace: WorkspaceOpt = None, json: JsonOpt = False,
          quiet: QuietOpt = False) -> None:
    """Match our transactions against each channel's bill for a day (layer 1)."""
    from jobs.stages import reconcile
    from recon.errors import ConfigError
    from rules.loader import load_rules_file

    ws = open_workspace(workspace)
    day = parse_date(date, ws.today())
    override = None
    if rules is not None:
        if not rules.exists():
            raise ConfigError(f"--rules: {rules} does not exist")
        override = load_rules_file(rules).match
    engine = check_engine(engine)
    matchers = matchers_for(ws, [channel] if channel else None, engine)
    result = reconcile(ws, day, channel, rules_override=override, dry_run=dry_run or rules is not None,
                       matchers=matchers, engine=engine)
    summary, others = result.layer1, result.layers23
    if json:
        print_json({**summary.as_dict(), **({"layers23": _layers23(others)} if others is not None else {})})
    elif not quiet:
        out = console()
        _print(summary, out)
        if others is not None:
            _print_layers23(others, out)
            for note in others.notes:
                out.print(f"  note: {note}", markup=False)


def _print_layers23(others, out) -> None:
    from rich.table import Table

    from recon.matching.layers23 import OK_KINDS, WAITING_KINDS

    table = Table(title=f"layers 2 and 3, {others.date}: {others.discrepancies} discrepancies")
    for col in ("layer", "kind", "rows"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for layer, kind, rows in others.kinds:
        style = None if kind in OK_KINDS or kind in WAITING_KINDS else "bold"
        table.add_row(str(layer), kind, str(rows), style=style)
    out.print(table)


def _layers23(others) -> dict:
    from dataclasses import asdict

    return asdict(others)


def _print(summary, out) -> None:
    from rich.table import Table

    if summary.dry_run:
        table = Table(title=f"layer 1, {summary.business_date}: stored vs. would be (dry run)")
        for col in ("channel", "outcome", "stored", "new", "change"):
            table.add_column(col, justify="right" if col in ("stored", "new", "change") else "left")
        for c in summary.counts:
            table.add_row(c.channel, c.outcome, str(c.stored), str(c.new), f"{c.new - c.stored:+d}")
        out.print(table)
        moves = Table(title="rows changing outcome")
        for col in ("channel", "before", "after", "rows"):
            moves.add_column(col)
        for m in summary.changes:
            moves.add_row(m.channel, m.before or "(new)", m.after or "(gone)", str(m.rows))
        out.print(moves if summary.changes else "no row would change outcome")
        return
    if not summary.channels:
        out.print("layer 1: nothing to match line by line (bank and payout-only channels are read by layers 2 and 3)")
        return
    table = Table(title=f"layer 1, {summary.business_date}")
    for col in ("channel", "ours", "theirs", "outcome", "rows"):
        table.add_column(col)
    for ch in summary.channels:
        for i, (outcome, rows) in enumerate(ch.outcomes):
            first = i == 0
            table.add_row(ch.channel if first else "", str(ch.our_rows) if first else "",
                          str(ch.their_rows) if first else "", outcome, str(rows))
    out.print(table)
    out.print(f"wrote {summary.path}")
