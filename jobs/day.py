"""The stages of one business day, in the order data flows: fetch -> parse -> match -> clear -> report.

Each stage is a plain function of (workspace, date, channel) that reads what the previous stage
wrote in the workspace and writes its own outputs atomically, so any stage can be re-run alone and
a crash between stages loses nothing. The run registry (which stages are done, leases, retries)
sits on top of these functions in jobs/pipeline.py; this module only knows how to do each stage once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

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
    fetch: object | None = None  # the fetcher's outcome (state, next_attempt_at) for FETCH


def fetch(ws: Workspace, date: dt.date, channel: str, now: dt.datetime | None = None) -> StageResult:
    from jobs.fetch import fetch_day

    outcome = fetch_day(ws, channel, date, now)
    return StageResult(Stage.FETCH, channel, date, str(getattr(outcome, "message", outcome)), fetch=outcome)


def parse(ws: Workspace, date: dt.date, channel: str) -> StageResult:
    from recon.ingest import ingest_day

    result = ingest_day(ws, channel, date)
    return StageResult(Stage.PARSE, channel, date, f"{result.rows} rows from {len(result.files)} file(s)")


def match(ws: Workspace, date: dt.date, channel: str | None = None) -> StageResult:
    from recon.reconcile import reconcile_day

    summary = reconcile_day(ws, date, channel)
    return StageResult(Stage.MATCH, channel, date, str(summary))


def clear(ws: Workspace, date: dt.date, channel: str | None = None) -> StageResult:
    from recon.clearing import clear_day

    summary = clear_day(ws, date)
    return StageResult(Stage.CLEAR, None, date, f"{len(summary.settlements)} settlement line(s), "
                                                f"{summary.cleared} cleared, {summary.held} held")


def report(ws: Workspace, date: dt.date, channel: str | None = None) -> StageResult:
    from recon.report.workbook import write_report

    result = write_report(ws, date)
    return StageResult(Stage.REPORT, None, date, str(result.path))
