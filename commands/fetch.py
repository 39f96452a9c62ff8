"""`recon fetch --date D [--channel C] [--wait] [--force]`: download the statements that are due.

Made for cron every few minutes: each run makes at most one attempt per channel-day when the
channel's escalating schedule says it is due (jobs.fetch), prints one line per channel, and exits
with what cron needs to know: 0 fetched or empty, 3 waiting (retry scheduled), 4 failed, 6 MANUAL
(past the deadline), 2 configuration or host-key problems, 5 another fetch holds the day.
`--wait` stays in one process and follows the schedule until every channel is done or needs a
person, with a progress display on a terminal and silence without one.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated

import typer

from commands.common import (
    ChannelOpt,
    DateOpt,
    JsonOpt,
    QuietOpt,
    WorkspaceOpt,
    command,
    console,
    err_console,
    exit_with,
    open_workspace,
    print_json,
)
from recon.clock import parse_date, utcnow
from recon.errors import ConfigError, most_urgent

WaitOpt = Annotated[bool, typer.Option("--wait", help="Keep trying on the channel's schedule until done or past the deadline.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Try now even if finished, MANUAL or not yet due (re-checks a finished day).")]
_LABEL = {"FETCHED": "OK", "EMPTY": "OK", "WAITING": "WAITING", "MANUAL": "ERROR", "FAILED": "ERROR"}


def register(app: typer.Typer) -> None:
    @app.command("fetch")
    @command
    def fetch(date: DateOpt, channel: ChannelOpt = None, wait: WaitOpt = False, force: ForceOpt = False,
              workspace: WorkspaceOpt = None, json: JsonOpt = False, quiet: QuietOpt = False) -> None:
        """Download what is due for a business date (every channel with a [fetch] table, or one)."""
        from jobs.fetch import fetch_day

        ws = open_workspace(workspace)
        day = parse_date(date, ws.today())
        if channel:
            ws.settings.channel(channel)
            names = [channel]
        else:
            names = sorted(n for n, c in ws.settings.channels.items() if c.fetch is not None)
            if not names:
                raise ConfigError(f"no channel in {ws.config_path} has a [channels.<name>.fetch] table")
        out = console(quiet or json)
        outcomes = {n: fetch_day(ws, n, day, force=force) for n in names}
        for o in outcomes.values():
            _show(o, out)
        if wait:
            outcomes = _follow(ws, day, outcomes, out, fetch_day)
        if json:
            print_json([o.as_dict() for o in outcomes.values()])
        exit_with(most_urgent(o.exit_code for o in outcomes.values()))


def _show(outcome, out) -> None:
    label = _LABEL[outcome.state.value]
    line = f"{label} {outcome.channel} {outcome.date} {outcome.state.value}: {outcome.message}"
    if outcome.state.value in ("FAILED", "MANUAL", "WAITING"):  # every non-zero exit says why on stderr
        err_console.print(f"[bold red]{line}[/]" if err_console.is_terminal else line,
                          markup=err_console.is_terminal, highlight=False)
    else:
        out.print(line, markup=False)


def _follow(ws, day: dt.date, outcomes: dict, out, fetch_day) -> dict:
    """Sleep until the earliest due attempt, try the due channels, repeat while any is WAITING."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    waiting = lambda: [o for o in outcomes.values() if o.state.value == "WAITING"]  # noqa: E731
    show = out.is_terminal and not out.quiet
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn(),
                  console=out, transient=True, disable=not show) as progress:
        while waiting():
            due = min(o.next_attempt_at for o in waiting())
            total = max((due - utcnow()).total_seconds(), 0.0)
            names = ", ".join(o.channel for o in waiting())
            task = progress.add_task(f"waiting for {names}", total=total or 1)
            while (left := (due - utcnow()).total_seconds()) > 0:
                progress.update(task, completed=total - left)
                time.sleep(min(left, 1.0))
            progress.remove_task(task)
            for o in waiting():
                if o.next_attempt_at <= utcnow():
                    outcomes[o.channel] = fetch_day(ws, o.channel, day)
                    _show(outcomes[o.channel], out)
    return outcomes
