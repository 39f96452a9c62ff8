"""What each stage reads, as one hash: a stage whose hash did not change is not run again.

`recon run` skips a stage that SUCCEEDED on the same inputs, so everything a stage reads must be in
its fingerprint, or a change is silently ignored (a tolerance edited in a rule file, a corrected
internal export), and nothing it does not read may be, or a finished day is redone for nothing.
- parse: the raw files, the channel's format/account/zone settings and its resolved rule set
  (status-code maps, currency exponents);
- match: the day's bills, our internal side, every channel's settings and resolved rule set, the
  settlement rules of layers 2 and 3, and the earlier days' results that carried rows come from,
  as far back as the longest cross-day wait (`pending_days`) of any channel's rules;
- clear: the day's results, the clearing and accounting rules, and the queue items that decide
  what is held or released on the day (its own items, and those closed during it);
- report: the results, the clearing output, the report settings and the day's queue items.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import sqlalchemy as sa

from jobs.ingest import raw_files
from recon import internal
from recon.clock import window_utc
from recon.errors import ReconError
from recon.files import sha256_file
from recon.matching.internal_source import load_internal
from recon.store.engine import open_store
from recon.store.tables.queue import queue_items
from recon.workspace import Workspace

CLEARING_RULES = ("clearing", "accounting")
LAYER_RULES = ("settlement",)


# The file hashes of one run (`hashed_once`): by path and the file's version.
_RUN_HASHES: ContextVar[dict[tuple, str] | None] = ContextVar("run_hashes", default=None)


@contextmanager
def hashed_once() -> Iterator[None]:
    """Within the block each version of a file is hashed once: a day's stages fingerprint the same
    bills and results again (match, clear and report all read them). A version is the file's inode,
    size and modification time; every output is written to a new file and renamed into place, so a
    rewritten file is a new inode. The memo ends with the block (one run), so nothing outlives it."""
    token = _RUN_HASHES.set({})
    try:
        yield
    finally:
        _RUN_HASHES.reset(token)


def sha256_of(path: Path) -> str:
    """The file's sha256, streaming; inside `hashed_once`, once per version of the file."""
    memo = _RUN_HASHES.get()
    if memo is None:
        return sha256_file(path)
    st = path.stat()
    key = (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in memo:
        memo[key] = sha256_file(path)
    return memo[key]


def digest(parts: list[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def files_hash(paths) -> str:
    return digest([f"{p.name}:{sha256_of(p)}" for p in sorted(paths)])


def parse_inputs(ws: Workspace, channel: str, date: dt.date) -> str:
    cfg = ws.settings.channel(channel)
    return digest([files_hash(raw_files(ws, channel, date)),
                   cfg.model_dump_json(include={"format", "account", "timezone", "rules"}), _rule_set(ws, channel)])


def day_inputs(ws: Workspace, date: dt.date, stage: str) -> str:
    bills = [ws.bill_path(c, date) for c in sorted(ws.settings.channels)]
    parts = [files_hash([b for b in bills if b.exists()])]
    results = files_hash(sorted(ws.results_dir(date).glob("*.parquet")))
    if stage == "report":
        parts += [results, files_hash(sorted(ws.clearing_dir(date).glob("*.csv"))),
                  ws.settings.report.model_dump_json(), _queue(ws, date, with_version=True)]
    elif stage == "clear":
        # resolving a queue item releases held transactions: the queue is an input of clearing
        parts += [results, _rule_files(ws, CLEARING_RULES), _queue(ws, date, with_version=False)]
    else:
        earlier = [ws.results_dir(date - dt.timedelta(days=n)) / "layer1.parquet"
                   for n in range(1, carried_days(ws) + 1)]
        parts += [files_hash([p for p in earlier if p.exists()]), _internal(ws, date), _rule_files(ws, LAYER_RULES)]
        for channel in sorted(ws.settings.channels):
            cfg = ws.settings.channel(channel)
            parts += [channel, cfg.model_dump_json(exclude={"fetch", "requery"}), _rule_set(ws, channel)]
    return digest(parts)


def carried_days(ws: Workspace) -> int:
    """How many earlier days' results the match of a day reads: the longest cross-day wait."""
    waits = [1]
    for channel in ws.settings.channels:
        try:
            waits.append(ws.catalog.rule_set(channel).match.pending_days)
        except ReconError:
            continue  # the match stage itself will say what is wrong with the rules
    return max(waits)


def _rule_set(ws: Workspace, channel: str) -> str:
    try:
        return ws.catalog.rule_set(channel).model_dump_json()
    except ReconError as exc:
        return str(exc)


def _rule_files(ws: Workspace, names: tuple[str, ...]) -> str:
    # built-in and workspace files share names: the folder is part of what is hashed
    return digest([f"{p.parent.name}/{p.name}:{sha256_of(p)}" for p in ws.catalog.rule_files() if p.stem in names])


def _queue(ws: Workspace, date: dt.date, *, with_version: bool) -> str:
    """The queue items of the day, and those closed during it (their release is cleared on the day)."""
    start, end = window_utc(date, ws.zone)
    c = queue_items.c
    columns = [c.id, c.status, c.resolution] + ([c.version] if with_version else [])
    query = (sa.select(*columns)
             .where(sa.or_(c.business_date == date, sa.and_(c.closed_at >= start, c.closed_at < end)))
             .order_by(c.id))
    with open_store(ws.store_url()).connect() as conn:
        return digest([repr(tuple(r)) for r in conn.execute(query)])


def _internal(ws: Workspace, date: dt.date) -> str:
    """Our side of the day as the match reads it. An export file is hashed as bytes, streaming: cron
    fingerprints every day of its look-back window on each start, and reading the file into a frame
    only to hash it cost more than the check saves. SQL and core sources can only be read."""
    parts = []
    for channel in sorted(ws.settings.channels):
        cfg = ws.settings.channel(channel).internal
        if cfg.source == "file" and cfg.path and (path := ws.resolve(internal.expand(cfg.path, date))).is_file():
            parts.append(f"{channel}:{sha256_of(path)}")
            continue
        try:
            parts.append(repr(load_internal(ws, channel, date).sort("txn_id").hash_rows().to_list()))
        except ReconError as exc:
            parts.append(str(exc))
    return digest(parts)
