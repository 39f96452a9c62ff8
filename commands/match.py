"""`recon match`: the three layers for a day, or with --dry-run, what re-matching would change.

Thin: parses the options, calls `recon.matching.day.reconcile_day` (layer 1, then layers 2 and 3, then
the queue), prints layer 1's outcomes and the other layers' findings as tables (or JSON). A dry run
(or `--rules FILE`) only compares layer 1 with the stored results and writes nothing. A missing
bill exits 3 (not ready), a bad rule file exits 2 naming the file, key and reason.

`--since D1 [--until D2]` is the what-if over history (recon.matching.whatif): every stored day of
the range re-matched as a dry run, outcome transitions per day and in total. A range is only ever
previewed here; re-matching it for real is `recon rerun --since D1 --until D2 --from-stage match`
(leases, run registry, queue), so this command refuses a range without --dry-run or --rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commands.common import (
    ChannelOpt,
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

DateOpt = Annotated[str | None, typer.Option(
    "--date", "-d", help="Business date, YYYY-MM-DD (or 'yesterday', 'today'); or a range with --since.")]
SinceOpt = Annotated[str | None, typer.Option(
    "--since", help="With --dry-run or --rules: re-match every stored day from this date (to --until), "
                    "show what would move.")]
UntilOpt = Annotated[str | None, typer.Option(
    "--until", help="With --since: the last date of the range (default: yesterday).")]
JobsOpt = Annotated[int, typer.Option(
    "--jobs", "-j", min=1,
    help="With --since: worker processes, channels side by side (each channel's days in order).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show what would change against the stored results; write nothing.")]
RulesOpt = Annotated[Path | None, typer.Option("--rules", help="Match with this rule file instead (implies --dry-run).",
                                               exists=False, dir_okay=False)]


def register(app: typer.Typer) -> None:
    app.command("match")(match)


@command
def match(date: DateOpt = None, since: SinceOpt = None, until: UntilOpt = None, channel: ChannelOpt = None,
          dry_run: DryRunOpt = False, rules: RulesOpt = None, engine: EngineOpt = None, jobs: JobsOpt = 1,
          workspace: WorkspaceOpt = None, json: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Match our transactions against each channel's bill for a day (layer 1); or preview a range."""
    from jobs.stages import reconcile
    from recon.errors import ConfigError
    from rules.loader import load_rules_file

    if date is not None and (since or until):
        raise ConfigError("--date and --since/--until exclude each other: one day, or a range")
    if until and not since:
        raise ConfigError("--until ends a range: give its first day with --since")
    if date is None and not since:
        raise ConfigError("recon match needs --date D (or --since D1 [--until D2] with --dry-run)",
                          hint="recon match --date yesterday")
    if jobs > 1 and not since:
        raise ConfigError("--jobs applies to a range (--since): one day's channels run in one process")
    if since and not (dry_run or rules is not None):
        raise ConfigError("recon match --since/--until only previews a range: add --dry-run (or --rules FILE)",
                          hint=f"to re-match the range for real: recon rerun --since {since}"
                               f"{f' --until {until}' if until else ''} --from-stage match")
    if since:  # a preview leaves even a workspace without log files as it was
        from jobs.catalog import open_workspace as open_quietly

        ws = open_quietly(workspace)
    else:
        ws = open_workspace(workspace)
    override = None
    if rules is not None:
        if not rules.exists():
            raise ConfigError(f"--rules: {rules} does not exist")
        override = load_rules_file(rules).match
    engine = check_engine(engine)
    if since:
        _what_if(ws, since, until, channel, override, rules, engine, jobs, as_json=json, quiet=quiet)
        return
    day = parse_date(date, ws.today())
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


def _what_if(ws, since: str, until: str | None, channel: str | None, override, rules: Path | None,
             engine: str | None, jobs: int, *, as_json: bool, quiet: bool) -> None:
    """The range preview: each stored day re-matched as a dry run, transitions per day and in total."""
    from rich.progress import Progress

    from jobs.catalog import open_workspace as open_quietly
    from recon.errors import ConfigError
    from recon.matching.policy import transaction_channels
    from recon.matching.whatif import days_in, what_if

    first, last = parse_date(since, ws.today()), parse_date(until or "yesterday", ws.today())
    if last < first:
        raise ConfigError(f"--until {last} is before --since {first}")
    out = console(quiet or as_json)
    steps = len(days_in(first, last)) * (1 if channel else max(len(transaction_channels(ws)), 1))
    with Progress(console=out, transient=True, disable=quiet or as_json or not out.is_terminal) as bar:
        task = bar.add_task("re-matching", total=steps)
        result = what_if(ws, first, last, channel, rules_override=override, engine_override=engine,
                         on_step=lambda n: bar.advance(task, n), jobs=jobs, opener=open_quietly,
                         build_matchers=matchers_for)
    if as_json:
        print_json({**result.as_dict(), "rules": str(rules) if rules is not None else None})
    elif not quiet:
        _print_what_if(result, rules, out)


def _print_what_if(result, rules: Path | None, out) -> None:
    from rich.table import Table

    def amounts(t) -> str:
        from recon.money import fmt

        return ", ".join(fmt(a, c) if c else str(a) for c, a in t.amounts)

    cols = ("channel", "side", "before", "after", "rows", "amount")
    with_rules = f" with {rules.name}" if rules is not None else " with the rules in force"
    days = Table(title=f"what-if{with_rules}, {result.since}..{result.until}: "
                       "outcome transitions per day (nothing written)")
    for col in ("date", *cols):
        days.add_column(col, justify="right" if col in ("rows", "amount") else "left")
    for day in result.days:
        moves = day.transitions or (None,)
        for i, t in enumerate(moves):
            date = str(day.business_date) if i == 0 else ""
            if t is None:
                days.add_row(date, ", ".join(c.channel for c in day.channels), "", "no change", "", "0", "")
            else:
                days.add_row(date, t.channel, t.side, t.before or "(new)", t.after or "(gone)", str(t.rows), amounts(t))
    out.print(days)
    totals = Table(title=f"total over {len(result.days)} day(s) compared, "
                         f"{sum(1 for d in result.days if d.transitions)} with changes")
    for col in cols:
        totals.add_column(col, justify="right" if col in ("rows", "amount") else "left")
    for t in result.totals():
        totals.add_row(t.channel, t.side, t.before or "(new)", t.after or "(gone)", str(t.rows), amounts(t))
    out.print(totals if result.totals() else "no row would change outcome on any day compared")
    for first, last, channel, reason in _runs(result.skipped):
        days = str(first) if first == last else f"{first}..{last}"
        out.print(f"skipped {days}{f' {channel}' if channel else ''}: {reason}", markup=False)


def _runs(skipped) -> list[tuple]:
    """Consecutive days skipped for one reason, as (first, last, channel, reason): a range reaching
    back before the first run is one line, not one per day (the day in a reason's path becomes <D>)."""
    import datetime as dt

    runs: list[list] = []
    open_runs: dict[tuple, list] = {}  # (channel, reason) -> its latest run
    for s in skipped:
        key = (s.channel, s.reason.replace(str(s.business_date), "<D>"))
        run = open_runs.get(key)
        if run is not None and s.business_date - run[1] == dt.timedelta(days=1):
            run[1] = s.business_date
        else:
            open_runs[key] = run = [s.business_date, s.business_date, *key]
            runs.append(run)
    return [(a, b, c, r if a != b else r.replace("<D>", str(a))) for a, b, c, r in runs]


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
