"""Many channel-days at once: `recon run|rerun --since D1 --until D2 --jobs N`.

The problem: re-matching a year after a rule change, or catching up dozens of channels, one day at a
time leaves cores idle. What can run side by side: the fetch and parse of different channels (and
of different days). What cannot: a channel's days out of order (a PENDING row of day D is carried
into D+1's match), and a day's match before all of its statements are parsed. So each channel walks
its days in order, channels in parallel; a day's own stages (layers 1-3, clearing, report) start
once every channel has that day, and after the previous day's stages, in day order.

Work runs in N worker processes (spawned, each with its own store and DuckDB connections), sharing
the store through the leases every run takes: a task finding its day held by another run gets
`Locked`, as a second `recon run` would. Each task sweeps crashed runs' temp files only in the folders
its leases cover; older ones (past a lease's TTL) are swept once, here, before any worker starts.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

from jobs import pipeline
from jobs.catalog import open_workspace
from jobs.failures import of_error
from recon.errors import ReconError
from recon.files import sweep_temp
from recon.store.engine import open_store
from recon.workspace import Workspace

# (workspace, channels, forced engine) -> layer-1 matchers by engine name; module-level, so picklable
BuildMatchers = Callable[[Workspace, list[str], str | None], dict]


@functools.cache
def _store(url: str):
    return open_store(url)


def _task(root: str, date: dt.date, channel: str | None, channels: list[str], force: tuple[str, ...],
          match_engine: str | None, build_matchers: BuildMatchers) -> pipeline.DayRun:
    """One unit in a worker: a channel's fetch and parse of a day, or (channel None) the day's stages."""
    ws = open_workspace(Path(root))
    engine = _store(ws.store_url())
    try:
        if channel is not None:
            return pipeline.run_day(ws, date, engine, channels=[channel], force=force, part="channels", sweep=False)
        return pipeline.run_day(ws, date, engine, channels=channels, force=force, part="day", sweep=False,
                                matchers=build_matchers(ws, channels, match_engine), match_engine=match_engine)
    except ReconError as exc:  # a lease held elsewhere, a config error: reported with the day, not raised
        run = pipeline.DayRun(date, refused=exc.exit_code)
        run.outcomes.append(of_error(date, channel or "*", "run", exc, state=type(exc).__name__.upper()))
        return run


def run_span(ws: Workspace, dates: list[dt.date], *, jobs: int, build_matchers: BuildMatchers,
             channels: list[str] | None = None, force: tuple[str, ...] = (), match_engine: str | None = None,
             on_done: Callable[[pipeline.DayRun], None] | None = None) -> list[pipeline.DayRun]:
    """Every due stage of `dates` in `jobs` processes; one merged DayRun per date, in date order.

    `build_matchers` makes layer 1's engines in each worker (a Spark session is per process)."""
    names = channels or sorted(ws.settings.channels)
    dates = sorted(dates)
    if not dates:
        return []
    sweep_temp(ws.root, older_than=ws.settings.defaults.lease_seconds)  # each task sweeps what it holds
    merged = {d: pipeline.DayRun(d) for d in dates}
    next_day = {c: 0 for c in names}  # index into dates of each channel's next day
    parsed = {d: 0 for d in dates}  # channels done with each day
    days_done = 0  # day stages finished, in order
    running: dict[Future, tuple[dt.date, str | None]] = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        def submit(date: dt.date, channel: str | None) -> None:
            future = pool.submit(_task, str(ws.root), date, channel, names, force, match_engine, build_matchers)
            running[future] = (date, channel)

        def advance() -> None:
            # the next day's stages, once all its channels are in and the day before it is done
            if days_done < len(dates) and parsed[dates[days_done]] == len(names) \
                    and not any(ch is None for _, ch in running.values()):
                submit(dates[days_done], None)

        for channel in names:
            submit(dates[0], channel)
        advance()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                date, channel = running.pop(future)
                run = future.result()
                merged[date].absorb(run)
                if on_done:
                    on_done(run)
                if channel is None:
                    days_done += 1
                else:
                    parsed[date] += 1
                    next_day[channel] += 1
                    if next_day[channel] < len(dates):
                        submit(dates[next_day[channel]], channel)
            advance()
    return [merged[d] for d in dates]
