"""What a rule change would do over history: every stored day of a range re-matched, nothing written.

Before a new rule file touches the queue, a person wants to know what it would move over weeks of
days, not one: which rows leave LOCAL_ONLY for MATCHED, on which days, and how much money that is.
Each stored day (its results, its parsed bill and our side in the workspace) is matched again by
`match_day` itself, as a dry run, and compared with its stored results by input row (diff.py).

Days are chained as a real span would run them: a row a changed rule leaves PENDING on day D is
carried into D+1 from D's what-if rows, not from D's stored ones; those rows live in a scratch
folder under the workspace's temp dir, removed at the end. Nothing else is written: not the
results, the queue, the ledger, fingerprints or the run registry.

A day without stored results, or a channel-day without its bill or internal export, is reported
as skipped with the reason; a history has holes (weekends, days never run) and that is no error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from recon import internal
from recon.config.ruleset import MatchRules
from recon.errors import ConfigError, NotReady, StageFailed
from recon.matching import diff, engine
from recon.matching.diff import OutcomeCount, Transition
from recon.matching.layer1 import Matcher
from recon.matching.layer1_day import match_day, results_path
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


def what_if(ws: Workspace, since: dt.date, until: dt.date, channel: str | None = None, *,
            rules_override: MatchRules | None = None, matchers: Mapping[str, Matcher] | None = None,
            engine_override: str | None = None,
            on_day: Callable[[dt.date], None] | None = None) -> WhatIf:
    """Every stored day from `since` to `until` re-matched (with `rules_override`, else the rules in
    force) and compared with its stored results; `on_day` is called after each day (progress)."""
    if channel:
        ws.settings.channel(channel)  # an unknown channel is a config error, before any work
    names = tuple(c for c in transaction_channels(ws) if channel in (None, c))
    if channel and not names:
        raise ConfigError(f"channel {channel} is not matched line by line (a bank or payout-only channel): "
                          "layer 1 has nothing to re-match")
    days: list[DayWhatIf] = []
    skipped: list[Skipped] = []
    kept: dict[tuple[dt.date, str], Path] = {}  # (day, channel) -> that day's what-if rows
    with _scratch(ws.temp_dir) as scratch:
        con = engine.connect(threads=1)  # comparing two files of one channel-day: small next to matching
        try:
            for day in days_in(since, until):
                stored = results_path(ws, day)
                if not stored.exists():
                    skipped.append(Skipped(day, None,
                                           f"no stored results ({_rel(ws, stored)}): the day was never matched"))
                else:
                    compared = []
                    for name in names:
                        missing = _missing_input(ws, name, day)
                        if missing:
                            skipped.append(Skipped(day, name, missing))
                            continue
                        keep = scratch / f"{day}-{len(kept)}.parquet"
                        try:
                            summary = match_day(ws, day, name, rules_override=rules_override, dry_run=True,
                                                matchers=matchers, engine_override=engine_override, keep=keep,
                                                earlier=lambda d, n=name: kept.get((d, n)) or results_path(ws, d))
                        except (NotReady, StageFailed) as exc:  # an input refused: that channel-day is not compared
                            skipped.append(Skipped(day, name, exc.message))
                            continue
                        kept[(day, name)] = keep
                        compared.append(ChannelWhatIf(name, diff.transitions(con, stored, keep, name),
                                                      tuple(c for c in summary.counts if c.channel == name)))
                    if compared:
                        days.append(DayWhatIf(day, tuple(compared)))
                if on_day:
                    on_day(day)
        finally:
            con.close()
    return WhatIf(since, until, names, tuple(days), tuple(skipped))


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
