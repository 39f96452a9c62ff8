"""What a rule change would do over history: every stored day of a range re-matched, nothing written.

Before a new rule file touches the queue, a person wants to know what it would move over weeks of
days, not one: which rows leave LOCAL_ONLY for MATCHED, on which days, and how much money that is.
Each stored day (its results, its parsed bill and our side in the workspace) is matched again by
`match_day` itself, as a dry run, and compared with its stored results by input row (diff.py).

Days are chained as a real span would run them: a row a changed rule leaves PENDING on day D is
carried into D+1 from D's what-if rows, not from D's stored ones; those rows live in a scratch
folder under the workspace's temp dir, removed at the end. Nothing else is written: not the
results, the queue, the ledger, fingerprints or the run registry. With --jobs N, channels run side
by side in worker processes, each walking its days in order (one channel's days cannot overlap).

A day without stored results, or a channel-day without its bill or internal export, is reported
as skipped with the reason; a history has holes (weekends, days never run) and that is no error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from dataclasses import dataclass, field
from pathlib import Path

from recon import internal
from recon.config.ruleset import MatchRules
from recon.errors import ConfigError, NotReady, StageFailed
from recon.matching import diff, engine
from recon.matching.diff import OutcomeCount, Transition
from recon.matching.layer1 import Matcher
from recon.matching.layer1_day import match_day, results_path, rules_for
from recon.matching.policy import transaction_channels
from recon.workspace import Workspace


@dataclass(frozen=True, slots=True)
class ChannelWhatIf:
    channel: str
    transitions: tuple[Transition, ...]
    counts: tuple[OutcomeCount, ...]  # result rows per outcome, stored vs. would be

    def as_dict(self) -> dict:
        return {"channel": self.channel, "rows_changed": sum(t.rows for t in self.transitions),
                "transitions": [{k: v for k, v in t.as_dict().items() if k != "channel"} for t in self.transitions],
                "counts": [{k: v for k, v in c.as_dict().items() if k != "channel"} for c in self.counts]}


@dataclass(frozen=True, slots=True)
class DayWhatIf:
    business_date: dt.date
    channels: tuple[ChannelWhatIf, ...]

    @property
    def transitions(self) -> tuple[Transition, ...]:
        return tuple(t for c in self.channels for t in c.transitions)

    def as_dict(self) -> dict:
        return {"business_date": self.business_date.isoformat(),
                "rows_changed": sum(t.rows for t in self.transitions),
                "channels": [c.as_dict() for c in self.channels]}


@dataclass(frozen=True, slots=True)
class Skipped:
    business_date: dt.date
    channel: str | None  # None: the whole day
    reason: str

    def as_dict(self) -> dict:
        return {"business_date": self.business_date.isoformat(), "channel": self.channel, "reason": self.reason}


@dataclass(frozen=True)
class WhatIf:
    since: dt.date
    until: dt.date
    channels: tuple[str, ...]
    days: tuple[DayWhatIf, ...] = ()
    skipped: tuple[Skipped, ...] = field(default=())

    def totals(self) -> tuple[Transition, ...]:
        """Every day's transitions added up per (channel, side, before, after)."""
        return diff.add_up([t for d in self.days for t in d.transitions])

    def as_dict(self) -> dict:
        totals = self.totals()
        return {
            "dry_run": True,
            "since": self.since.isoformat(), "until": self.until.isoformat(), "channels": list(self.channels),
            "days": [d.as_dict() for d in self.days],
            "totals": {"days_compared": len(self.days),
                       "days_changed": sum(1 for d in self.days if d.transitions),
                       "rows_changed": sum(t.rows for t in totals),
                       "transitions": [t.as_dict() for t in totals]},
            "skipped": [s.as_dict() for s in self.skipped],
        }


def days_in(since: dt.date, until: dt.date) -> list[dt.date]:
    return [since + dt.timedelta(days=n) for n in range((until - since).days + 1)]


# (workspace folder) -> Workspace, and (workspace, channels, forced engine) -> layer-1 matchers: what a
# worker process needs to open the workspace and start its engines (jobs.catalog, commands.common)
OpenWorkspace = Callable[[Path], Workspace]
BuildMatchers = Callable[[Workspace, list[str], str | None], dict]
ChannelDays = dict[dt.date, "ChannelWhatIf | Skipped"]


def what_if(ws: Workspace, since: dt.date, until: dt.date, channel: str | None = None, *,
            rules_override: MatchRules | None = None, matchers: Mapping[str, Matcher] | None = None,
            engine_override: str | None = None, on_step: Callable[[int], None] | None = None,
            jobs: int = 1, opener: OpenWorkspace | None = None,
            build_matchers: BuildMatchers | None = None) -> WhatIf:
    """Every stored day from `since` to `until` re-matched (with `rules_override`, else the rules in
    force) and compared with its stored results.

    `on_step(n)`: n more channel-days done (progress; there are days x channels in all). Layer 1's
    engines are `matchers`, else `build_matchers` makes them (in each worker process). With `jobs` > 1
    (and `opener` to open the workspace in a worker), channels run side by side in worker
    processes, each channel's days in order, as `recon run --jobs` does.
    """
    if channel:
        ws.settings.channel(channel)  # an unknown channel is a config error, before any work
    names = tuple(c for c in transaction_channels(ws) if channel in (None, c))
    if channel and not names:
        raise ConfigError(f"channel {channel} is not matched line by line (a bank or payout-only channel): "
                          "layer 1 has nothing to re-match")
    step = on_step or (lambda n: None)
    stored_days, skipped = [], []
    for day in days_in(since, until):
        stored = results_path(ws, day)
        if stored.exists():
            stored_days.append(day)
        else:
            skipped.append(Skipped(day, None, f"no stored results ({_rel(ws, stored)}): the day was never matched"))
            step(len(names))
    with _scratch(ws.temp_dir) as scratch:
        if jobs > 1 and len(names) > 1 and opener is not None:
            found = _in_processes(ws, names, stored_days, scratch, jobs, rules_override, engine_override,
                                  opener, build_matchers, step)
        else:
            if matchers is None and build_matchers is not None:
                matchers = build_matchers(ws, list(names), engine_override)
            found = {name: _channel_days(ws, name, stored_days, scratch / f"channel-{i}", rules_override,
                                         matchers, engine_override, step) for i, name in enumerate(names)}
    days = []
    for day in stored_days:
        outcomes = [found[name][day] for name in names]
        skipped.extend(o for o in outcomes if isinstance(o, Skipped))
        compared = tuple(o for o in outcomes if isinstance(o, ChannelWhatIf))
        if compared:
            days.append(DayWhatIf(day, compared))
    skipped.sort(key=lambda s: (s.business_date, s.channel is not None, s.channel or ""))
    return WhatIf(since, until, names, tuple(days), tuple(skipped))


def _channel_days(ws: Workspace, name: str, days: list[dt.date], scratch: Path, rules_override: MatchRules | None,
                  matchers: Mapping[str, Matcher] | None, engine_override: str | None,
                  step: Callable[[int], None]) -> ChannelDays:
    """One channel's stored days in order, each re-matched and compared (or why it was skipped)."""
    scratch.mkdir()
    kept: dict[dt.date, Path] = {}  # day -> that day's what-if rows, carried into the next days
    found: ChannelDays = {}
    window = (rules_override or rules_for(ws, name)).pending_days  # how far back a carry reads
    con = engine.connect(threads=1)  # comparing two files of one channel-day: small next to matching
    try:
        for day in days:
            found[day] = _one(ws, name, day, scratch / f"{day}.parquet", kept, con, rules_override, matchers,
                              engine_override)
            for old in [d for d in kept if (day - d).days >= window]:  # a year's what-if is not kept on disk
                kept.pop(old).unlink()
            step(1)
    finally:
        con.close()
    return found


def _one(ws: Workspace, name: str, day: dt.date, keep: Path, kept: dict[dt.date, Path], con,
         rules_override: MatchRules | None, matchers: Mapping[str, Matcher] | None,
         engine_override: str | None) -> ChannelWhatIf | Skipped:
    missing = _missing_input(ws, name, day)
    if missing:
        return Skipped(day, name, missing)
    try:
        summary = match_day(ws, day, name, rules_override=rules_override, dry_run=True, matchers=matchers,
                            engine_override=engine_override, keep=keep,
                            earlier=lambda d: kept.get(d) or results_path(ws, d))
    except (NotReady, StageFailed) as exc:  # an input refused: that channel-day is not compared
        return Skipped(day, name, exc.message)
    kept[day] = keep
    return ChannelWhatIf(name, diff.transitions(con, results_path(ws, day), keep, name),
                         tuple(c for c in summary.counts if c.channel == name))


def _worker(opener: OpenWorkspace, root: str, name: str, days: list[dt.date], scratch: str,
            rules: MatchRules | None, engine_override: str | None, build_matchers: BuildMatchers | None) -> ChannelDays:
    """One channel's days in a worker process (module-level, so a spawned process can run it)."""
    ws = opener(Path(root))
    matchers = build_matchers(ws, [name], engine_override) if build_matchers else None
    return _channel_days(ws, name, days, Path(scratch), rules, matchers, engine_override, lambda n: None)


def _in_processes(ws: Workspace, names: tuple[str, ...], days: list[dt.date], scratch: Path, jobs: int,
                  rules_override: MatchRules | None, engine_override: str | None, opener: OpenWorkspace,
                  build_matchers: BuildMatchers | None, step: Callable[[int], None]) -> dict[str, ChannelDays]:
    found: dict[str, ChannelDays] = {}
    with ProcessPoolExecutor(max_workers=min(jobs, len(names)), mp_context=get_context("spawn")) as pool:
        running = {pool.submit(_worker, opener, str(ws.root), name, days, str(scratch / f"channel-{i}"), rules_override,
                               engine_override, build_matchers): name for i, name in enumerate(names)}
        for future in as_completed(running):
            found[running[future]] = future.result()
            step(len(days))
    return found


def _missing_input(ws: Workspace, channel: str, day: dt.date) -> str | None:
    """Why `channel` cannot be re-matched on `day` from the workspace alone, or None."""
    bill = ws.bill_path(channel, day)
    if not bill.exists():
        return f"no parsed bill ({_rel(ws, bill)})"
    cfg = ws.settings.channel(channel).internal
    if cfg.source == "file" and cfg.path:
        ours = ws.resolve(internal.expand(cfg.path, day))
        if not ours.exists():
            return f"no internal export ({_rel(ws, ours)})"
    return None  # sql and core sources are read from the store as the real run reads them


def _rel(ws: Workspace, path: Path) -> str:
    return str(path.relative_to(ws.root)) if path.is_relative_to(ws.root) else str(path)


@contextlib.contextmanager
def _scratch(temp_dir: Path) -> Iterator[Path]:
    """A scratch folder under the workspace's temp dir; the folders made for it are removed after,
    so a workspace that had no temp dir has none afterwards either."""
    made = [p for p in (temp_dir, *temp_dir.parents) if not p.exists()]
    temp_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix="whatif-", dir=temp_dir) as folder:
            yield Path(folder)
    finally:
        for path in made:  # innermost first; a folder something else filled meanwhile stays
            with contextlib.suppress(OSError):
                path.rmdir()
