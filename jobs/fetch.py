"""Fetch one channel's statement for one business day, safely, from cron every few minutes.

Library entry point (the day pipeline and `recon fetch` call it):

    fetch_day(ws, channel, date, now=None, *, force=False) -> FetchOutcome

`FetchOutcome(channel, date, state, files, message, next_attempt_at, attempts, flags, exit_code)`:

| state   | means                                                     | exit |
|---------|-----------------------------------------------------------|------|
| FETCHED | files verified and in raw/<channel>/<D>/ (manifest.json)   | 0    |
| EMPTY   | the channel says "no activity"; its answer is the proof (for a bank on a closed day of the settlement.toml calendar, the calendar is) | 0 |
| WAITING | not published yet, or the server kept failing: retry at next_attempt_at | 3 |
| MANUAL  | still nothing at the channel's deadline: a person must look | 6  |
| FAILED  | permanent fault (auth, unsafe archive, bad answer): 4; config or host key: 2 | 4/2 |

One call is one *attempt* of the channel's escalating schedule (jobs.schedule), whose position is
kept in the store (jobs.fetch_state), so separate processes continue it. A call before the next
attempt is due contacts nobody and answers WAITING. Finished, MANUAL and permanently FAILED days
are not touched again unless `force` (after a person fixed something, or to re-check a finished
day: an unchanged file changes nothing, a changed one is kept beside the first and flagged), with
two exceptions that make recovery need no flag: a MANUAL day is looked at again on every call (a
person dropping the statement into the source is all it takes), and `recheck=True` (what `recon
run` and `rerun` pass for a finished day) compares the source with what was fetched: a changed
file is fetched as the next revision, a source that is gone or unreachable changes nothing.

Within an attempt, transient faults (timeouts, 5xx, dropped connections, a failed hash) are
retried with exponential backoff (tenacity), honouring Retry-After; each try starts from
discovery, so an expired download URL is asked for again. Permanent faults stop at once.
Downloads go to `.tmp-` files, are verified (remote size before and after, channel hash on the
decompressed bill, non-empty, safe archive), then promoted by jobs.fetch_promote.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import logging
import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from jobs import fetch_state, schedule
from jobs.lease import hold
from jobs.fetch_promote import Staged, current_names, promote, read_manifest, record_empty, same_as_fetched
from jobs.transports import archive, load_transport
from jobs.transports.base import (
    Availability,
    Discovery,
    FetchFault,
    IntegrityFault,
    RemoteFile,
    TransientFault,
    Unavailable,
    file_digest,
    hash_algorithm,
)
from jobs.transports.options import FetchOptions
from recon.clock import on_screen, utcnow
from recon.errors import ConfigError, ExitCode, ReconError
from recon.files import TEMP_PREFIX
from recon.matching.policy import LayerSettings
from recon.workspace import Workspace

log = logging.getLogger("recon.fetch")


class FetchState(str, enum.Enum):
    FETCHED = "FETCHED"
    EMPTY = "EMPTY"
    WAITING = "WAITING"
    MANUAL = "MANUAL"
    FAILED = "FAILED"


DONE = (FetchState.FETCHED, FetchState.EMPTY)


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    channel: str
    date: dt.date
    state: FetchState
    files: tuple[str, ...] = ()
    message: str = ""
    next_attempt_at: dt.datetime | None = None
    attempts: int = 0
    flags: tuple[str, ...] = ()
    exit_code: ExitCode = field(default=ExitCode.OK)

    def as_dict(self) -> dict:
        return {"channel": self.channel, "date": self.date.isoformat(), "state": self.state.value,
                "files": list(self.files), "message": self.message, "attempts": self.attempts,
                "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
                "flags": list(self.flags), "exit_code": int(self.exit_code)}


_EXIT = {FetchState.FETCHED: ExitCode.OK, FetchState.EMPTY: ExitCode.OK, FetchState.WAITING: ExitCode.NOT_READY,
         FetchState.MANUAL: ExitCode.MANUAL, FetchState.FAILED: ExitCode.STAGE_FAILED}


def fetch_day(ws, channel: str, date: dt.date, now: dt.datetime | None = None, *, force: bool = False,
              recheck: bool = False) -> FetchOutcome:
    """One attempt at channel/date (see the module docstring). `now` is for tests and replays."""
    now = now or utcnow()
    try:
        options = FetchOptions.for_channel(ws, channel)
        deadline = schedule.deadline_at(options.deadline, date, ws.settings.channel_zone(channel),
                                         setting=options.setting("deadline"))
        waits = schedule.waits(options.retry, setting=options.setting("retry"))
    except ConfigError as exc:
        return FetchOutcome(channel, date, FetchState.FAILED, message=str(exc), exit_code=exc.exit_code)
    eng = fetch_state.engine(ws)
    folder = ws.raw_dir(channel, date)
    with _lock(ws, channel, date):
        before = fetch_state.load(eng, channel, date)
        if before is not None:
            held = _unchanged(before, folder, now, ws.channel_zone(channel))
            if held is not None and (force or recheck) and held.state in DONE:
                # a finished day, asked again: a changed file is taken, a vanished one changes nothing
                return _recheck(options, before, held, folder, now)
            if held is not None and not force:
                return held
        attempts = (before.attempts if before else 0) + 1
        first = before.first_attempt_at if before and before.first_attempt_at else now
        state, next_at, message, files, flags, code = _attempt(options, date, folder, now, deadline, waits, attempts,
                                                               quiet_day=_bank_holiday(ws, channel, date),
                                                               zone=ws.channel_zone(channel))
        fetch_state.save(eng, fetch_state.DayState(
            channel, date, state.value, attempts, first, now, next_at,
            None if state in DONE else message))
    level = logging.INFO if state in DONE or state is FetchState.WAITING else logging.ERROR
    log.log(level, "%s %s %s: %s", channel, date, state.value, message)
    return FetchOutcome(channel, date, state, tuple(files), message, next_at, attempts, tuple(flags), code)


def _unchanged(before: fetch_state.DayState, folder: Path, now: dt.datetime, zone) -> FetchOutcome | None:
    """The answer for a day that is not due: finished, needing a person, or waiting its turn."""
    state = FetchState(before.state)
    names = tuple(current_names(read_manifest(folder)))
    common = dict(files=names, next_attempt_at=before.next_attempt_at, attempts=before.attempts,
                  exit_code=_EXIT[state])
    if state in DONE:
        return FetchOutcome(before.channel, before.business_date, state,
                            message=f"already {state.value.lower()} (use --force to check the channel again)", **common)
    if state is FetchState.WAITING and not schedule.is_due(now, before.next_attempt_at):
        return FetchOutcome(before.channel, before.business_date, state,
                            message=f"next attempt due at {on_screen(before.next_attempt_at, zone)} ({before.last_error})", **common)
    if state is FetchState.FAILED and before.next_attempt_at is None:
        return FetchOutcome(before.channel, before.business_date, state,
                            message=f"{before.last_error} (next: fix it, then recon fetch --date "
                                    f"{before.business_date} --channel {before.channel} --force)", **common)
    return None


def _recheck(options: FetchOptions, before: fetch_state.DayState, held: FetchOutcome, folder: Path,
             now: dt.datetime) -> FetchOutcome:
    """A finished day, looked at again: a changed source file becomes the next revision; a source
    that no longer has the file, or cannot be reached now, leaves the day as it was."""
    try:
        with load_transport(options) as transport:  # a look first: sizes and times, nothing downloaded
            found = transport.discover(before.business_date)
        if found.state is Availability.READY and same_as_fetched(read_manifest(folder), found.files):
            return dataclasses.replace(held, message="source re-checked: unchanged")
        result = _with_retries(options, before.business_date, folder)
    except ReconError as exc:
        log.info("%s %s: source re-check skipped: %s", before.channel, before.business_date, exc)
        return dataclasses.replace(held, message=f"source not re-checked ({exc}); the day keeps what was fetched")
    if isinstance(result, Discovery):
        return dataclasses.replace(held, message=f"the source has nothing now ({result.detail or result.state.value}); "
                                                 "the day keeps what was fetched")
    files, flags = promote(folder, options.channel, before.business_date, result, now)
    if not flags:
        return dataclasses.replace(held, message="source re-checked: unchanged")
    message = f"{len(files)} file(s) in {folder}; {'; '.join(flags)}"
    log.warning("%s %s: %s", before.channel, before.business_date, message)
    return FetchOutcome(before.channel, before.business_date, FetchState.FETCHED, tuple(files), message,
                        None, before.attempts, tuple(flags), ExitCode.OK)


def _bank_holiday(ws: Workspace, channel: str, date: dt.date) -> str | None:
    """Why no statement is expected: a bank channel on a day its calendar says banks are closed."""
    if ws.catalog.kind(channel) != "bank":
        return None
    if LayerSettings.of(ws).calendar.is_business_day(date):
        return None
    return f"{date} is not a business day in the calendar (settlement.toml): no bank statement expected"


def _attempt(options: FetchOptions, date: dt.date, folder: Path, now: dt.datetime, deadline: dt.datetime,
             waits: tuple[dt.timedelta, ...], attempts: int, *, quiet_day: str | None = None, zone=dt.timezone.utc):
    name = f"{options.channel} {date}"
    _not_yet = functools.partial(_not_yet_at, zone=zone, source=_source_setting(options))
    try:
        result = _with_retries(options, date, folder)
    except ConfigError as exc:  # includes a refused host key
        return FetchState.FAILED, None, str(exc), [], [], exc.exit_code
    except TransientFault as exc:
        later = dt.timedelta(seconds=exc.retry_after) if exc.retry_after else None
        return _not_yet(name, now, deadline, waits, attempts, f"still failing after {options.transient_attempts} "
                        f"tries: {exc}", not_before=now + later if later else None)
    except FetchFault as exc:
        return FetchState.FAILED, None, str(exc), [], [], ExitCode.STAGE_FAILED
    if isinstance(result, Discovery):
        if result.state is Availability.EMPTY:
            record_empty(folder, options.channel, date, result.proof or {}, result.detail, now)
            return FetchState.EMPTY, None, f"no activity: {result.detail}", current_names(read_manifest(folder)), [], ExitCode.OK
        if quiet_day:  # nothing published, and nothing was expected: a closed day, not a late one
            record_empty(folder, options.channel, date, {"calendar": quiet_day}, quiet_day, now)
            return FetchState.EMPTY, None, f"no statement: {quiet_day}", [], [], ExitCode.OK
        return _not_yet(name, now, deadline, waits, attempts, f"not published yet: {result.detail}")
    files, flags = promote(folder, options.channel, date, result, now)
    message = f"{len(files)} file(s) in {folder}" + (f"; {'; '.join(flags)}" if flags else "")
    return FetchState.FETCHED, None, message, files, flags, ExitCode.OK


def _source_setting(options: FetchOptions) -> str:
    """The setting that says where the statement is looked for, for messages."""
    for key in ("path", "remote_path", "url"):
        if getattr(options, key, None):
            return options.setting(key)
    return options.setting("transport")


def _not_yet_at(name, now, deadline, waits, attempts, reason, not_before=None, *, zone, source: str):
    next_at = schedule.next_attempt(now, attempts, waits, deadline, not_before=not_before)
    if next_at is None:
        message = (f"no statement by the deadline {on_screen(deadline, zone)} after {attempts} attempt(s): {reason} "
                   f"(setting {source}) (next: a person gets the statement there; the next recon run takes it)")
        return FetchState.MANUAL, None, message, [], [], ExitCode.MANUAL
    return (FetchState.WAITING, next_at, f"{reason}; attempt {attempts + 1} at {on_screen(next_at, zone)}", [], [],
            ExitCode.NOT_READY)


def _with_retries(options: FetchOptions, date: dt.date, folder: Path) -> Discovery | list[Staged]:
    def wait(state) -> float:
        exc = state.outcome.exception()
        if getattr(exc, "retry_after", None) is not None:
            return exc.retry_after
        base = min(options.backoff * 2 ** (state.attempt_number - 1), options.backoff_max)
        return base * random.uniform(0.8, 1.0)  # jitter: channels retrying together drift apart

    def too_long(state) -> bool:  # a Retry-After beyond our budget ends the attempt; the schedule waits
        return (getattr(state.outcome.exception(), "retry_after", None) or 0) > options.backoff_max

    retrying = Retrying(stop=stop_after_attempt(options.transient_attempts) | too_long, wait=wait,
                        retry=retry_if_exception_type(TransientFault), reraise=True,
                        before_sleep=lambda s: log.warning("%s %s: %s; retrying", options.channel, date,
                                                           s.outcome.exception()))
    for try_ in retrying:
        with try_:
            return _one_try(options, date, folder)
    raise AssertionError("unreachable")  # pragma: no cover


def _one_try(options: FetchOptions, date: dt.date, folder: Path) -> Discovery | list[Staged]:
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[Staged] = []
    try:
        with load_transport(options) as transport:
            found = transport.discover(date)
            if found.state is not Availability.READY:
                return found
            for remote in found.files:
                staged.extend(_stage(transport, remote, folder, options))
    except Unavailable as exc:
        _discard(staged)
        return exc.discovery
    except BaseException:
        _discard(staged)
        raise
    return staged


def _stage(transport, remote: RemoteFile, folder: Path, options: FetchOptions) -> list[Staged]:
    """Download one remote file under a temporary name, unpack it, verify it; nothing promoted."""
    token = f"{TEMP_PREFIX}{uuid.uuid4().hex}"
    part = folder / f"{token}.part"
    items: list[archive.Unpacked] = []
    keep_part = False
    try:
        got = transport.download(remote, part)
        kind = archive.kind_of(part) if options.unpack else "plain"
        if kind == "gzip":
            name = remote.name[:-3] if remote.name.lower().endswith(".gz") else remote.name
            items = [archive.gunzip(part, folder / f"{token}.0", name=name, limit=options.max_unpacked_bytes)]
        elif kind == "zip":
            items = archive.unzip(part, folder, limit=options.max_unpacked_bytes, temp_prefix=f"{token}.")
        else:
            items, keep_part = [archive.Unpacked(remote.name, part, got.size, got.sha256, "")], True
        packed = None if keep_part else {"name": remote.name, "size": got.size, "sha256": got.sha256}
        return [_verified(item, remote, got.remote_size, packed, len(items)) for item in items]
    except BaseException:
        keep_part = False
        for item in items:
            item.path.unlink(missing_ok=True)
        raise
    finally:
        if not keep_part:
            part.unlink(missing_ok=True)


def _verified(item: archive.Unpacked, remote: RemoteFile, remote_size, packed, count: int) -> Staged:
    if item.size == 0:
        raise IntegrityFault(f"{remote.source}: {item.name} is empty; a statement always has a header")
    digest = None
    if remote.hash_type and remote.hash_value:
        if count != 1:
            raise IntegrityFault(f"{remote.source}: the channel hash covers one file, the archive holds {count}")
        algo = hash_algorithm(remote.hash_type, where=remote.source)  # CRC32 & co: one clear line, not a crash
        actual = item.sha1 if algo == "sha1" and item.sha1 else file_digest(item.path, algo)
        if actual.lower() != remote.hash_value.lower():
            raise IntegrityFault(f"{remote.source}: {remote.hash_type} mismatch on the decompressed bill "
                                 f"(channel says {remote.hash_value}, got {actual})")
        digest = {"type": remote.hash_type, "value": remote.hash_value.lower()}
    return Staged(item.name, item.path, item.size, item.sha256, remote.source, item.name if packed else remote.name,
                  remote_size, digest, packed, remote.mtime)


def _discard(staged: list[Staged]) -> None:
    for item in staged:
        Path(item.temp).unlink(missing_ok=True)


def _lock(ws, channel: str, date: dt.date):
    """One fetch per channel-day at a time, by the same leases every run takes (jobs.lease)."""
    ttl = dt.timedelta(seconds=ws.settings.defaults.lease_seconds)
    return hold(fetch_state.engine(ws), date, [f"fetch/{channel}"], ttl=ttl, zone=ws.zone)
