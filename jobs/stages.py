"""The stages of one business day, in the order data flows: fetch -> parse -> match -> clear -> report.

Each stage is a plain function of (workspace, date, channel) that reads what the previous stage
wrote in the workspace and writes its own outputs atomically, so any stage can be re-run alone and
a crash between stages loses nothing. The run registry (which stages are done, leases, retries)
sits on top of these functions in jobs/pipeline.py; this module only knows how to do each stage once.
The commands that run one stage by hand (`recon fetch`, `match`, `clear`, `report`) call these too,
so a stage means the same thing from cron and from a person's terminal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from jobs.fetch import FetchOutcome, fetch_day
from jobs.ingest import ingest_day
from recon.clearing import clear_day
from recon.config.ruleset import MatchRules
from recon.matching.day import DayReconciliation, reconcile_day
from recon.matching.layer1 import Matcher
from recon.queue.sync import sync_results
from recon.report.workbook import write_report
from recon.workspace import Workspace


class Stage(StrEnum):
    FETCH = "fetch"
    PARSE = "parse"
    MATCH = "match"
    CLEAR = "clear"
    REPORT = "report"


@dataclass(frozen=True, slots=True)
class StageResult:
    stage: Stage
    channel: str | None
    date: dt.date
    detail: str
    fetch: FetchOutcome | None = None  # the fetcher's outcome (state, next_attempt_at) for FETCH


def fetch(ws: Workspace, date: dt.date, channel: str, now: dt.datetime | None = None, *, force: bool = False,
          recheck: bool = False) -> StageResult:
    outcome = fetch_day(ws, channel, date, now, force=force, recheck=recheck)
    return StageResult(Stage.FETCH, channel, date, outcome.message, fetch=outcome)


def parse(ws: Workspace, date: dt.date, channel: str) -> StageResult:
    result = ingest_day(ws, channel, date)
    return StageResult(Stage.PARSE, channel, date, f"{result.rows} rows from {len(result.files)} file(s)")


def reconcile(ws: Workspace, date: dt.date, channel: str | None = None, *,
              rules_override: MatchRules | None = None, dry_run: bool = False,
              matchers: Mapping[str, Matcher] | None = None, engine: str | None = None) -> DayReconciliation:
    """The three layers of a day, then the queue synced from every layer's results (unless a dry run).

    `matchers` / `engine`: layer 1's engines beyond DuckDB and a forced choice (commands.common.matchers_for).
    """
    summary = reconcile_day(ws, date, channel, rules_override=rules_override, dry_run=dry_run,
                            matchers=matchers, engine=engine)
    if not dry_run:
        sync_results(ws, date)
    return summary


def match(ws: Workspace, date: dt.date, channel: str | None = None, *,
          matchers: Mapping[str, Matcher] | None = None, engine: str | None = None) -> StageResult:
    return StageResult(Stage.MATCH, channel, date, str(reconcile(ws, date, channel, matchers=matchers, engine=engine)))


def clear(ws: Workspace, date: dt.date, channel: str | None = None) -> StageResult:
    summary = clear_day(ws, date)
    return StageResult(Stage.CLEAR, None, date, f"{len(summary.settlements)} settlement line(s), "
                                                f"{summary.cleared} cleared, {summary.held} held")


def report(ws: Workspace, date: dt.date, channel: str | None = None) -> StageResult:
    result = write_report(ws, date)
    return StageResult(Stage.REPORT, None, date, str(result.path))
