"""The run registry: which stage of which (date, channel) is in which state, kept in the store.

Cron starts `recon run` every few minutes; each start must know what is already done, what is
waiting for a statement and until when, and what failed and why. One row per (business_date,
channel, stage) holds the state (PENDING, RUNNING, WAITING, SUCCEEDED, FAILED, MANUAL), attempts,
timings, the hash of the stage's inputs (so a corrected statement re-runs only what it feeds), its
outputs and the error text. Day-level stages (match, report) use the channel "*".
Rows are upserted by their natural key, so a re-run updates instead of duplicating.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import Engine

from jobs.lease import holder_is_dead
from recon.clock import utcnow
from recon.redact import mask_pans
from recon.store.tables.runs import leases, stage_runs

DAY = "*"


class State(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    WAITING = "WAITING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    MANUAL = "MANUAL"


@dataclass(frozen=True, slots=True)
class StageRun:
    business_date: dt.date
    channel: str
    stage: str
    state: State
    attempts: int
    input_hash: str | None
    outputs: tuple[str, ...]
    detail: str | None
    error: str | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    next_attempt_at: dt.datetime | None

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


def _row(r: sa.Row) -> StageRun:
    return StageRun(r.business_date, r.channel, r.stage, State(r.state), r.attempts, r.input_hash,
                    tuple(json.loads(r.outputs or "[]")), r.detail, r.error, r.started_at, r.finished_at,
                    r.next_attempt_at)


def get(engine: Engine, date: dt.date, channel: str, stage: str) -> StageRun | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(stage_runs).where(
            stage_runs.c.business_date == date, stage_runs.c.channel == channel, stage_runs.c.stage == stage)).first()
    return _row(row) if row else None


def record(engine: Engine, date: dt.date, channel: str, stage: str, state: State, *,
           input_hash: str | None = None, outputs: tuple[str, ...] = (), detail: str | None = None,
           error: str | None = None, next_attempt_at: dt.datetime | None = None, starting: bool = False) -> None:
    """Upsert one stage's state; `starting=True` counts an attempt and stamps the start time."""
    now = utcnow()
    key = {"business_date": date, "channel": channel, "stage": stage}
    # error and detail are free text (an exception may quote a statement line): no card number stored
    error, detail = (None if v is None else mask_pans(v) for v in (error, detail))
    values = {"state": state.value, "updated_at": now, "error": error, "detail": detail,
              "next_attempt_at": next_attempt_at}
    if starting:
        values |= {"started_at": now, "finished_at": None}
    else:
        values |= {"finished_at": now, "input_hash": input_hash, "outputs": json.dumps(list(outputs))}
    with engine.begin() as conn:
        where = sa.and_(*(stage_runs.c[k] == v for k, v in key.items()))
        attempts = stage_runs.c.attempts + (1 if starting else 0)
        updated = conn.execute(stage_runs.update().where(where).values(**values, attempts=attempts)).rowcount
        if not updated:
            conn.execute(stage_runs.insert().values(**key, **values, attempts=1 if starting else 0))


def reset(engine: Engine, date: dt.date, channel: str | None, stages: tuple[str, ...]) -> int:
    """Mark stages PENDING (for `recon rerun`): their inputs are treated as changed."""
    with engine.begin() as conn:
        where = [stage_runs.c.business_date == date, stage_runs.c.stage.in_(stages)]
        if channel:
            where.append(stage_runs.c.channel.in_([channel, DAY]))
        return conn.execute(stage_runs.update().where(*where).values(
            state=State.PENDING.value, input_hash=None, next_attempt_at=None, updated_at=utcnow())).rowcount


INTERRUPTED = "interrupted: no run holds it any more (the next recon run retries it)"


def runs(engine: Engine, since: dt.date | None = None, states: tuple[State, ...] = ()) -> list[StageRun]:
    """Stage rows, oldest first. A RUNNING row no live lease covers is shown as what it is: a stage
    whose run died (killed, or unable to record its end on a full disk), FAILED and retryable."""
    query = sa.select(stage_runs).order_by(stage_runs.c.business_date, stage_runs.c.channel, stage_runs.c.stage)
    if since:
        query = query.where(stage_runs.c.business_date >= since)
    with engine.connect() as conn:
        rows = [_row(r) for r in conn.execute(query)]
        live = {(r.business_date, r.channel) for r in conn.execute(
            sa.select(leases.c.business_date, leases.c.channel, leases.c.holder).where(leases.c.expires_at > utcnow()))
            if not holder_is_dead(r.holder)}
    rows = [replace(r, state=State.FAILED, error=INTERRUPTED)
            if r.state is State.RUNNING and (r.business_date, r.channel) not in live else r for r in rows]
    return [r for r in rows if not states or r.state in states]
