"""`recon run`, `recon rerun`, `recon status`: the day pipeline as cron and ops use it."""

from __future__ import annotations

import datetime as dt
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
    err_console,
    exit_with,
    matchers_for,
    open_workspace,
    print_json,
)
from recon.clock import parse_date

GLYPHS = {"SUCCEEDED": ("✔", "green"), "RUNNING": ("▶", "cyan"), "WAITING": ("…", "yellow"),
          "PENDING": ("·", "dim"), "FAILED": ("✘", "red"), "MANUAL": ("!", "bold red")}
LogFormatOpt = Annotated[str, typer.Option("--log-format", help="Log files as 'text' or 'json' lines.")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="With --since: the last date of the range (default: yesterday).")]
MIN_FREE_BYTES = 16 * 2**20  # below this a run would fill the disk mid-stage: refuse before starting
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes: channels in parallel, each channel's days in order.")]


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("rerun")(rerun)
    app.command("status")(status)


def _engine(ws):
    from recon.store.engine import open_store

    return open_store(ws.store_url())


def _due_dates(ws, engine) -> list[dt.date]:
    """Every day of the look-back window up to yesterday: unfinished days continue, and finished ones
    are looked at again (a statement corrected at the source, a changed rule set or internal export
    re-runs what it feeds; a day whose inputs did not change does nothing)."""
    today = ws.today()
    return [today - dt.timedelta(days=n) for n in range(ws.settings.defaults.lookback_days, 0, -1)]


def _date_range(ws, since: str, until: str | None) -> list[dt.date]:
    from recon.errors import ConfigError

    first, last = parse_date(since, ws.today()), parse_date(until or "yesterday", ws.today())
    if last < first:
        raise ConfigError(f"--until {last} is before --since {first}")
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _run_dates(ws, dates, channel, force, quiet, as_json, log_format, jobs=1, engine=None) -> None:
    from rich.progress import Progress

    import os
    import shutil

    from jobs import logs
    from jobs.requery.run import requery_due
    from jobs.span import run_span
    from recon.errors import NotWritable, most_urgent

    if not os.access(ws.root, os.W_OK):  # checked before any lease or registry row is written
        raise NotWritable(f"{ws.root}: the workspace is not writable (read-only or no permission)",
                          hint="make it writable, then recon run; recon status still reads it")
    if (free := shutil.disk_usage(ws.root).free) < MIN_FREE_BYTES:
        raise NotWritable(f"{ws.root}: only {free // 1024} KiB free, a run needs {MIN_FREE_BYTES // 2**20} MiB at least",
                          hint="free space, then recon run")

    logs.configure(ws.root, log_format)
    engine = check_engine(engine)
    results = []
    out = console(quiet or as_json)
    channels = [channel] if channel else None
    per_day = len(channels or ws.settings.channels) * 2 + 3
    with Progress(console=out, transient=True, disable=quiet or as_json or not out.is_terminal) as bar:
        task = bar.add_task("running", total=len(dates) * per_day)
        if jobs > 1:
            results = run_span(ws, dates, jobs=jobs, channels=channels, force=force, match_engine=engine,
                               build_matchers=matchers_for, on_done=lambda run: bar.advance(task, len(run.states)))
        else:
            store, matchers = _engine(ws), matchers_for(ws, channels, engine)
            for date in dates:
                bar.update(task, description=f"{date}")
                results.append(_one_day(ws, date, store, channels=channels, force=force, matchers=matchers,
                                        match_engine=engine, on_stage=lambda *_: bar.advance(task)))
    asked = requery_due(ws, channels=channels)  # after matching: ask the channels about due queue items
    summary = [_summary_row(ws, r) for r in results]
    _print_outcomes([o for r in results for o in r.outcomes], as_json or log_format == "json")
    for message in asked.errors:
        err_console.print(f"FAILED requery: {message}", markup=False, soft_wrap=True)
    if as_json:
        print_json(summary)
    else:
        _print_summary(out, summary)
        for message in (m for r in results for m in r.messages):
            out.print(message, markup=False)
        for line in asked.lines:
            out.print(f"requery {line.outcome} item {line.item_id} ({line.channel}): {line.note}", markup=False,
                      soft_wrap=True)
        for message in asked.notes:
            out.print(f"requery {message}", markup=False, soft_wrap=True)
    exit_with(most_urgent([*(r.exit_code for r in results), asked.exit_code]))


def _one_day(ws, date, store, **kwargs):
    """One day's run; a day that cannot start (held by another run) is reported with the others."""
    import sqlalchemy as sa

    from jobs.failures import Outcome
    from jobs.pipeline import DayRun, run_day
    from recon.errors import Locked, NotWritable

    try:
        try:
            return run_day(ws, date, store, **kwargs)
        except sa.exc.OperationalError as exc:  # the store refused a write: a full disk, a read-only file
            raise NotWritable(f"{ws.store_url().split('?')[0]}: cannot write the store: {exc.orig}",
                              hint=f"free space or make the store writable; the next recon run retries {date}") from None
    except (Locked, NotWritable) as exc:
        run = DayRun(date, refused=exc.exit_code)
        state = "LOCKED" if isinstance(exc, Locked) else "FAILED"
        run.outcomes.append(Outcome(date, "*", "run", state, exc.exit_code, exc.message, exc.hint or ""))
        return run


def _print_outcomes(outcomes, as_json: bool) -> None:
    """Every stage that did not finish, one line each on stderr, whatever --quiet says."""
    import json

    for outcome in outcomes:
        if as_json:
            err_console.print(json.dumps(outcome.as_dict(), ensure_ascii=False), markup=False, soft_wrap=True)
        else:
            err_console.print(outcome.line(), markup=False, soft_wrap=True)


def _summary_row(ws, result) -> dict:
    import polars as pl

    path = ws.results_dir(result.date) / "layer1.parquet"
    matched = discrepancies = rows = 0
    if path.exists():
        frame = pl.read_parquet(path, columns=["outcome"])
        rows = frame.height
        matched = frame.filter(pl.col("outcome").is_in(["MATCHED", "AUTO_RESOLVED"])).height
        discrepancies = frame.filter(~pl.col("outcome").is_in(["MATCHED", "AUTO_RESOLVED", "PENDING"])).height
    return {"date": result.date.isoformat(), "exit_code": int(result.exit_code),
            "stages": {f"{c}/{s}": st.value for (c, s), st in result.states.items()},
            "rows": rows, "matched_pct": round(100 * matched / rows, 2) if rows else None,
            "discrepancies": discrepancies, "messages": result.messages,
            # the stages this run did (skipped ones took nothing): wall seconds and peak memory
            "usage": {f"{c}/{s}": u.as_dict() for (c, s), u in result.usage.items()}}


def _print_summary(out, summary) -> None:
    from rich.table import Table

    table = Table(title="recon run")
    for col in ("date", "stages", "rows", "matched %", "discrepancies"):
        table.add_column(col)
    for row in summary:
        states = " ".join(f"[{GLYPHS[v][1]}]{k} {GLYPHS[v][0]}[/]" for k, v in row["stages"].items())
        table.add_row(row["date"], states, str(row["rows"]),
                      "-" if row["matched_pct"] is None else f"{row['matched_pct']:.2f}", str(row["discrepancies"]))
    out.print(table)


@command
def run(
    date: Annotated[str | None, typer.Option("--date", "-d", help="Business date; default: every due day up to yesterday.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="First date of a range of days (with --until).")] = None,
    until: UntilOpt = None,
    channel: ChannelOpt = None,
    jobs: JobsOpt = 1,
    engine: EngineOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    log_format: LogFormatOpt = "text",
) -> None:
    """Run every stage that is due (safe to start from cron every few minutes)."""
    from commands.check import static_or_exit

    ws = open_workspace(workspace)
    static_or_exit(ws)  # a setting's typo is exit 2 now, not a late statement at the deadline
    if since:
        dates = _date_range(ws, since, until)
    else:
        dates = [parse_date(date, ws.today())] if date else _due_dates(ws, _engine(ws))
    _run_dates(ws, dates, channel, (), quiet, as_json, log_format, jobs, engine)


@command
def rerun(
    date: Annotated[str | None, typer.Option("--date", "-d", help="The day to re-run.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Re-run every day with a FAILED or MANUAL stage.")] = False,
    since: Annotated[str | None, typer.Option("--since", help="Re-run every day from this date (to --until); with --failed: only the failed ones.")] = None,
    until: UntilOpt = None,
    channel: ChannelOpt = None,
    from_stage: Annotated[str, typer.Option("--from-stage", help="fetch, parse, match or report.")] = "parse",
    jobs: JobsOpt = 1,
    engine: EngineOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    log_format: LogFormatOpt = "text",
) -> None:
    """Re-run days: results are replaced, queue resolutions survive."""
    from jobs.pipeline import ALL_STAGES
    from jobs.registry import State, reset, runs
    from recon.errors import ConfigError

    if from_stage not in ALL_STAGES:
        raise ConfigError(f"--from-stage must be one of {', '.join(ALL_STAGES)}")
    from commands.check import static_or_exit

    ws = open_workspace(workspace)
    static_or_exit(ws)
    engine_ = _engine(ws)
    if failed:
        start = parse_date(since, ws.today()) if since else None
        dates = sorted({r.business_date for r in runs(engine_, since=start, states=(State.FAILED, State.MANUAL))})
        if until:
            dates = [d for d in dates if d <= parse_date(until, ws.today())]
    elif since:
        dates = _date_range(ws, since, until)
    elif date:
        dates = [parse_date(date, ws.today())]
    else:
        raise ConfigError("recon rerun needs --date D, --since D1 [--until D2] or --failed")
    stages = ALL_STAGES[ALL_STAGES.index(from_stage):]
    for d in dates:
        reset(engine_, d, channel, stages)
    _run_dates(ws, dates, channel, stages, quiet, as_json, log_format, jobs, engine)


@command
def status(
    since: Annotated[str | None, typer.Option("--since", help="First date shown (default: the look-back window).")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Channel x day grid of stage states."""
    from rich.table import Table

    from jobs.registry import runs

    ws = open_workspace(workspace)
    start = parse_date(since, ws.today()) if since else ws.today() - dt.timedelta(days=ws.settings.defaults.lookback_days)
    rows = runs(_engine(ws), since=start)
    if as_json:
        print_json([{"date": r.business_date.isoformat(), "channel": r.channel, "stage": r.stage,
                     "state": r.state.value, "attempts": r.attempts,
                     "next_attempt_at": r.next_attempt_at.replace(tzinfo=None).isoformat() + "Z" if r.next_attempt_at else None,
                     "error": r.error} for r in rows])
        return
    channels = sorted({r.channel for r in rows} | set(ws.settings.channels))
    zone = ws.zone
    legend = "  ".join(f"{glyph} {state.lower()}" for state, (glyph, _) in GLYPHS.items())
    table = Table(title=f"recon status since {start} (times in {zone.key})",
                  caption=f"{legend}  ×N attempts  next: the next attempt; day: match, clear, report")
    table.add_column("date")
    for c in channels:
        table.add_column("day" if c == "*" else c)
    for d in sorted({r.business_date for r in rows}):
        cells = []
        for c in channels:
            mine = [r for r in rows if r.business_date == d and r.channel == c]
            cells.append(" ".join(
                f"[{GLYPHS[r.state.value][1]}]{r.stage[:5]}{GLYPHS[r.state.value][0]}"
                + (f"×{r.attempts}" if r.attempts > 1 else "")
                + (f" next {r.next_attempt_at.astimezone(zone):%m-%d %H:%M}" if r.next_attempt_at else "") + "[/]"
                for r in mine) or "")
        table.add_row(d.isoformat(), *cells)
    console().print(table)
