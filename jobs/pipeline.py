"""Doing what is due for a day, safely from cron: skip what is done, redo what changed, wait politely.

For each business date the stages run in the order data flows: per channel fetch -> parse, then for
the day match (all layers) -> report. Each stage's state lives in the run registry with the hash of
its inputs; a stage is skipped when it SUCCEEDED on the same inputs, so a corrected statement
re-runs only the parse of its channel and what depends on it. A channel whose statement is not
published yet is WAITING until its next attempt; a channel that failed does not stop the others,
but the day is only matched once every channel has a bill (a day is never matched on part of its
statements). Leases on (date, channel) and (date, "*") keep two runs off the same day: the second
exits 5 at once. Every output is written atomically, so a kill -9 anywhere followed by a re-run
gives the same results as an uninterrupted run.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl
import sqlalchemy as sa

from jobs import alerts, fingerprints, logs, meter, stages
from jobs.failures import Outcome, next_step, of_error, split_hint
from jobs.lease import LeaseLost, hold
from jobs.registry import DAY, State, get, record
from recon.clock import on_screen, utcnow
from recon.crash import crashpoint
from recon.errors import ExitCode, Locked, NotReady, NotWritable, ReconError, most_urgent
from recon.files import check_claim, sweep_temp
from recon.money import fmt
from recon.workspace import Workspace

LOG = logging.getLogger("recon.pipeline")
CHANNEL_STAGES = (stages.Stage.FETCH, stages.Stage.PARSE)
DAY_STAGES = (stages.Stage.MATCH, stages.Stage.CLEAR, stages.Stage.REPORT)
ALL_STAGES = tuple(s.value for s in (*CHANNEL_STAGES, *DAY_STAGES))


@dataclass
class DayRun:
    date: dt.date
    states: dict[tuple[str, str], State] = field(default_factory=dict)  # (channel, stage) -> state
    messages: list[str] = field(default_factory=list)  # progress worth a line on stdout
    outcomes: list[Outcome] = field(default_factory=list)  # what did not finish: stderr, one line each
    refused: ExitCode | None = None  # a part of the day that could not start (locked, misconfigured)
    usage: dict[tuple[str, str], meter.Usage] = field(default_factory=dict)  # stages run: time, peak memory

    @property
    def exit_code(self) -> ExitCode:
        codes = [o.code for o in self.outcomes]
        if self.refused is not None:
            codes.append(self.refused)
        values = set(self.states.values())
        if State.FAILED in values:
            codes.append(ExitCode.STAGE_FAILED)
        if State.MANUAL in values:
            codes.append(ExitCode.MANUAL)
        if State.WAITING in values or State.PENDING in values:
            codes.append(ExitCode.NOT_READY)
        return most_urgent(codes)

    def absorb(self, other: DayRun) -> None:
        """Add another part of the same day (run in another process) to this one."""
        self.states.update(other.states)
        self.usage.update(other.usage)
        self.messages.extend(other.messages)
        self.outcomes.extend(other.outcomes)
        if other.refused is not None:
            self.refused = most_urgent([self.refused or other.refused, other.refused])


def run_day(ws: Workspace, date: dt.date, engine, *, channels: list[str] | None = None,
            force: tuple[str, ...] = (), now: dt.datetime | None = None, recheck: bool = True,
            on_stage: Callable[[str, str, State], None] | None = None, part: str = "all",
            matchers: dict | None = None, match_engine: str | None = None, sweep: bool = True) -> DayRun:
    """Run every due stage of `date`; `force` names stages to redo even on unchanged inputs.

    `part` is "all", "channels" (fetch and parse of `channels` only) or "day" (match, clear and
    report, once every channel's parse has succeeded): `jobs.span` runs the two halves in separate
    processes. `matchers` / `match_engine` choose layer 1's engines (commands.common.matchers_for).
    `recheck` looks at the source of a fetched day again (a corrected statement is taken). Temp files
    are removed only where this run holds the lease, and (`sweep`) anywhere once older than a lease.
    """
    names = channels or sorted(ws.settings.channels)
    now = now or utcnow()
    result = DayRun(date)
    ttl = dt.timedelta(seconds=ws.settings.defaults.lease_seconds)
    if sweep:  # temp files older than a lease: their writer is gone, whoever it was
        sweep_temp(ws.root, older_than=ttl.total_seconds())
    held = names if part == "channels" else [*names, DAY]
    with hold(engine, date, held, ttl=ttl, zone=ws.zone), fingerprints.hashed_once():
        _sweep_held(ws, date, names if part != "day" else [], day=part != "channels")
        for channel in names if part != "day" else ():
            for stage in CHANNEL_STAGES:
                state = _channel_stage(ws, engine, date, channel, stage, force, now, result, recheck)
                result.states[(channel, stage.value)] = state
                if on_stage:
                    on_stage(channel, stage.value, state)
                if state is not State.SUCCEEDED:
                    break
        if part == "channels":
            return result
        parsed = {c: result.states.get((c, stages.Stage.PARSE.value)) or _recorded(engine, date, c) for c in names}
        ready = all(state is State.SUCCEEDED for state in parsed.values())
        for stage in DAY_STAGES:
            if not ready:
                result.states[(DAY, stage.value)] = State.PENDING
                continue
            state = _day_stage(ws, engine, date, stage, force, result, matchers, match_engine)
            result.states[(DAY, stage.value)] = state
            if on_stage:
                on_stage(DAY, stage.value, state)
            ready = state is State.SUCCEEDED
    return result


def _sweep_held(ws: Workspace, date: dt.date, channels: list[str], *, day: bool) -> None:
    """A crashed run's temp files in the folders this run now holds the lease of (never another's)."""
    for channel in channels:
        sweep_temp(ws.raw_dir(channel, date))
        sweep_temp(ws.bill_path(channel, date).parent, names=f"{date.isoformat()}.*")
    if day:
        for folder in (ws.results_dir(date), ws.clearing_dir(date), ws.report_path(date).parent):
            sweep_temp(folder)


def _recorded(engine, date: dt.date, channel: str) -> State | None:
    """The parse state another process recorded for (date, channel)."""
    previous = get(engine, date, channel, stages.Stage.PARSE.value)
    return previous.state if previous else None


def _channel_stage(ws, engine, date, channel, stage, force, now, result: DayRun, recheck: bool = False) -> State:
    previous = get(engine, date, channel, stage.value)
    cfg = ws.settings.channel(channel)
    if stage is stages.Stage.FETCH:
        if cfg.fetch is None:  # statements are put into raw/ by another process
            return State.SUCCEEDED
        if previous and stage.value not in force:
            if previous.state is State.SUCCEEDED:
                if recheck:
                    _recheck_source(ws, engine, date, channel, now)
                return State.SUCCEEDED
            if previous.state is State.WAITING and previous.next_attempt_at and previous.next_attempt_at > now:
                result.outcomes.append(Outcome(
                    date, channel, stage.value, "WAITING", ExitCode.NOT_READY,
                    f"{split_hint(previous.error or 'not published yet')[0]}; next attempt at "
                    f"{on_screen(previous.next_attempt_at, ws.channel_zone(channel))}",
                    "nothing: a later recon run tries again"))
                return State.WAITING
        return _attempt(ws, engine, date, channel, stage, None, result,
                        lambda: stages.fetch(ws, date, channel, now, force=stage.value in force, recheck=recheck))
    inputs = fingerprints.parse_inputs(ws, channel, date)
    bill = ws.bill_path(channel, date)
    if (previous and previous.state is State.SUCCEEDED and previous.input_hash == inputs
            and bill.exists() and stage.value not in force):
        return State.SUCCEEDED
    return _attempt(ws, engine, date, channel, stage, inputs, result, lambda: stages.parse(ws, date, channel))


def _recheck_source(ws, engine, date, channel, now) -> None:
    """A fetched day's source, looked at again: a file changed since it was fetched is taken as the
    next revision (the parse stage sees new inputs and re-runs); otherwise nothing is written."""
    outcome = stages.fetch(ws, date, channel, now, recheck=True)
    if outcome.fetch is not None and outcome.fetch.flags:
        record(engine, date, channel, stages.Stage.FETCH.value, State.SUCCEEDED, detail=outcome.detail)
        LOG.warning("fetch %s %s: %s", channel, date, outcome.detail)


def _day_stage(ws, engine, date, stage, force, result: DayRun, matchers=None, match_engine=None) -> State:
    previous = get(engine, date, DAY, stage.value)
    inputs = fingerprints.day_inputs(ws, date, stage.value)
    output = {stages.Stage.MATCH: ws.results_dir(date) / "layer1.parquet",
              stages.Stage.CLEAR: ws.clearing_dir(date) / "settlements.csv",
              stages.Stage.REPORT: ws.report_path(date)}[stage]
    if (previous and previous.state is State.SUCCEEDED and previous.input_hash == inputs
            and output.exists() and stage.value not in force):
        return State.SUCCEEDED
    func = {stages.Stage.MATCH: functools.partial(stages.match, matchers=matchers, engine=match_engine),
            stages.Stage.CLEAR: stages.clear, stages.Stage.REPORT: stages.report}[stage]
    # REPORT's inputs include the results files, so a fresh match makes the report due as well.
    state = _attempt(ws, engine, date, DAY, stage, inputs, result, lambda: func(ws, date))
    if state is State.SUCCEEDED and stage is stages.Stage.MATCH:
        _alert_on_amount(ws, date)
    return state


def _alert_on_amount(ws: Workspace, date: dt.date) -> None:
    """Tell ops when a day's layer-1 discrepancies put more than the threshold at stake."""
    threshold = ws.settings.alerts.discrepancy_threshold
    path = ws.results_dir(date) / "layer1.parquet"
    if threshold is None or not path.exists():
        return
    # scanned: only the six columns this reads leave the file, not the whole day's results
    at_stake = (pl.scan_parquet(path)
                .filter(~pl.col("outcome").is_in(["MATCHED", "AUTO_RESOLVED", "PENDING"]))
                .with_columns(currency=pl.coalesce("our_currency", "their_currency"),
                              stake=pl.coalesce("diff_amount", "their_amount", "our_amount").abs())
                .group_by("currency").agg(pl.col("stake").sum()).sort("currency").collect())
    for currency, amount in at_stake.iter_rows():
        if amount is not None and amount > threshold:
            text = f"{date}: discrepancies put {fmt(amount, currency)} at stake (threshold {threshold})"
            LOG.warning(text)
            alerts.send(ws.settings.alerts.webhook_env, "DISCREPANCY_AMOUNT", date, "*", text, amount=amount,
                        currency=currency)


def _attempt(ws, engine, date, channel, stage, inputs, result: DayRun, func) -> State:
    try:
        record(engine, date, channel, stage.value, State.RUNNING, starting=True)
    except sa.exc.OperationalError as exc:  # a read-only or full store: nothing started, nothing to undo
        raise NotWritable(f"{ws.store_url().split('?')[0]}: cannot record the run: {exc.orig}",
                          hint="free space or make the workspace writable, then recon run") from None
    crashpoint(f"start-{stage.value}")
    try:
        with meter.measure() as usage:
            outcome = func()
    except NotReady as exc:
        result.usage[(channel, stage.value)] = usage
        return _waiting(ws, engine, date, channel, stage, exc, result, usage)
    except LeaseLost:
        raise  # the day is another run's now: not even its state is ours to write
    except Locked as exc:  # a `recon fetch` by hand holds the channel-day: the next run goes on
        _best_effort(engine, date, channel, stage, State.PENDING, str(exc))
        result.outcomes.append(of_error(date, channel, stage.value, exc, state="LOCKED"))
        return State.PENDING
    except OSError as exc:  # a full disk or read-only folder: the stage stays retryable, never RUNNING
        result.usage[(channel, stage.value)] = usage
        return _failed(ws, engine, date, channel, stage, inputs, result, usage, NotWritable(
            f"{exc.filename or ws.root}: cannot write: {exc.strerror or exc}",
            hint=f"free space or make the workspace writable; the next recon run retries {stage.value}"))
    except ReconError as exc:
        result.usage[(channel, stage.value)] = usage
        return _failed(ws, engine, date, channel, stage, inputs, result, usage, exc)
    except BaseException:
        _best_effort(engine, date, channel, stage, State.FAILED, "interrupted or crashed; the next run retries it")
        raise
    result.usage[(channel, stage.value)] = usage
    crashpoint(f"end-{stage.value}")
    check_claim()  # taken over while working: stop before recording what is now another run's
    state, next_at = _state_of(outcome)
    failed = state in (State.FAILED, State.MANUAL)
    record(engine, date, channel, stage.value, state, input_hash=inputs, detail=outcome.detail,
           error=outcome.detail if failed else None, next_attempt_at=next_at,
           outputs=(outcome.detail,) if stage is stages.Stage.REPORT else ())
    code = outcome.fetch.exit_code if outcome.fetch is not None else ExitCode.OK
    logs.digest(stage.value, channel, date, state.value, int(code), usage.seconds, peak_mib=usage.peak_mib)
    if state in (State.FAILED, State.MANUAL, State.WAITING):
        message, step = split_hint(outcome.detail)
        if state is State.WAITING:
            step = "nothing: a later recon run tries again"
        result.outcomes.append(Outcome(date, channel, stage.value, state.value, code, message,
                                       step or next_step(date, channel, stage.value)))
    if failed:
        if stage is not stages.Stage.FETCH:  # jobs.fetch logs its own outcome
            LOG.error("%s %s %s %s: %s", stage.value, channel, date, state.value, outcome.detail)
        alerts.send(ws.settings.alerts.webhook_env, state.value, date, channel, f"{stage.value}: {outcome.detail}")
    return state


def _failed(ws, engine, date, channel, stage, inputs, result: DayRun, usage: meter.Usage,
            exc: ReconError) -> State:
    _best_effort(engine, date, channel, stage, State.FAILED, str(exc), inputs)
    logs.digest(stage.value, channel, date, "FAILED", int(exc.exit_code), usage.seconds, peak_mib=usage.peak_mib)
    LOG.error("%s %s %s FAILED: %s", stage.value, channel, date, exc)
    result.outcomes.append(of_error(date, channel, stage.value, exc))
    alerts.send(ws.settings.alerts.webhook_env, "FAILED", date, channel, f"{stage.value}: {exc}")
    return State.FAILED


def _best_effort(engine, date, channel, stage, state: State, error: str, inputs: str | None = None) -> None:
    """Record how a stage ended even when the store itself is failing (the disk that filled up)."""
    try:
        record(engine, date, channel, stage.value, state, input_hash=inputs, error=error)
    except sa.exc.SQLAlchemyError as exc:
        LOG.error("could not record %s %s %s as %s: %s", stage.value, channel, date, state.value, exc)


def _state_of(outcome: stages.StageResult) -> tuple[State, dt.datetime | None]:
    """A fetch outcome may say WAITING, MANUAL or FAILED; every other stage that returns SUCCEEDED."""
    fetched = outcome.fetch
    if fetched is None:
        return State.SUCCEEDED, None
    name = fetched.state.value
    next_at = fetched.next_attempt_at
    return {"MANUAL": (State.MANUAL, None), "WAITING": (State.WAITING, next_at),
            "FAILED": (State.FAILED, None)}.get(name, (State.SUCCEEDED, None))


def _waiting(ws, engine, date, channel, stage, exc: NotReady, result: DayRun, usage: meter.Usage) -> State:
    record(engine, date, channel, stage.value, State.WAITING, error=str(exc))
    logs.digest(stage.value, channel, date, "WAITING", int(exc.exit_code), usage.seconds, peak_mib=usage.peak_mib)
    result.outcomes.append(of_error(date, channel, stage.value, exc, state="WAITING"))
    return State.WAITING
