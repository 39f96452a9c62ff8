"""From a verified temporary file to `raw/<channel>/<D>/`, with the day's manifest beside it.

A parser may read `raw/<channel>/<D>/` at any moment, so nothing half-written or unverified may
ever carry a statement's name there. Downloads land under a `.tmp-` name (the prefix
`recon.files.sweep_temp` removes after a crash), are unpacked and verified, fsynced, and only then
*linked* to their final name: `os.link` refuses to overwrite, so a statement once promoted is
never replaced. The directory is fsynced, then `manifest.json` is rewritten atomically.

The manifest lists every file with its source (credentials stripped), size, sha256, fetch time
and revision. Fetching an unchanged file again changes nothing (not even the manifest). A remote
file that changed after its day was fetched is kept beside the first as `<stem>.rev2<suffix>`
and flagged `changed_after_fetch`: reconciliation against the first must not silently move.
An EMPTY day is recorded with the channel's answer as `proof`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from recon.files import fsync_dir, sha256_file, write_text

MANIFEST = "manifest.json"
CHANGED = "changed_after_fetch"


@dataclass(frozen=True, slots=True)
class Staged:
    """A verified file waiting at `temp` for its final `name`."""

    name: str
    temp: Path
    size: int
    sha256: str
    source: str
    remote_name: str
    remote_size: int | None = None
    channel_hash: dict | None = None
    archive: dict | None = None
    remote_mtime: float | None = None  # the source's modification time when found: a cheap "unchanged?"


def read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _write(folder: Path, manifest: dict) -> None:
    write_text(folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def _new(channel: str, date: dt.date, state: str) -> dict:
    return {"channel": channel, "date": date.isoformat(), "state": state, "files": [], "flags": []}


def _revision_name(name: str, revision: int) -> str:
    stem, dot, suffix = name.partition(".")
    return f"{stem}.rev{revision}{dot}{suffix}" if dot else f"{name}.rev{revision}"


def _link(temp: Path, target: Path) -> bool:
    """Give `temp` the name `target` unless that name exists; True if linked."""
    with open(temp, "rb+") as fh:
        os.fsync(fh.fileno())
    try:
        os.link(temp, target)
    except FileExistsError:
        return False
    temp.unlink(missing_ok=True)
    return True


def promote(folder: Path, channel: str, date: dt.date, staged: list[Staged], now: dt.datetime) -> tuple[list[str], list[str]]:
    """Promote staged files; returns (the day's current file names, flags raised now)."""
    manifest = read_manifest(folder) or _new(channel, date, "FETCHED")
    entries: list[dict] = manifest["files"]
    flags: list[str] = []
    changed = False
    for item in staged:
        same = [e for e in entries if e["remote_name"] == item.remote_name or e["name"] == item.name]
        if any(e["sha256"] == item.sha256 for e in same):
            item.temp.unlink(missing_ok=True)  # unchanged: nothing to do
            continue
        revision = 1 + max((e["revision"] for e in same), default=0)
        name = item.name if revision == 1 else _revision_name(item.name, revision)
        while not _link_or_keep(item, folder / name):
            revision += 1
            name = _revision_name(item.name, revision)
        entry = {"name": name, "revision": revision, "remote_name": item.remote_name, "source": item.source,
                 "size": item.size, "sha256": item.sha256, "fetched_at": now.isoformat(),
                 "remote_size": item.remote_size, "remote_mtime": item.remote_mtime, "channel_hash": item.channel_hash, "archive": item.archive,
                 "flags": [CHANGED] if revision > 1 else []}
        entries.append(entry)
        changed = True
        if revision > 1:
            flags.append(f"{CHANGED}: {item.remote_name} differs from the copy fetched before (kept as {name})")
    if changed:
        fsync_dir(folder)
        if flags and CHANGED not in manifest["flags"]:
            manifest["flags"].append(CHANGED)
        manifest["state"] = "FETCHED"
        _write(folder, manifest)
    return current_names(manifest), flags


def _link_or_keep(item: Staged, target: Path) -> bool:
    """Link the staged file to `target`; if `target` exists (a crash after a link, before the
    manifest) with the same bytes, adopt it; if with other bytes, report False to pick a new name."""
    if target.exists():
        if sha256_file(target) == item.sha256:
            item.temp.unlink(missing_ok=True)
            return True
        return False
    return _link(Path(item.temp), target) or _link_or_keep(item, target)


def record_empty(folder: Path, channel: str, date: dt.date, proof: dict, detail: str, now: dt.datetime) -> None:
    """An EMPTY day: the channel's answer is the evidence; written once, never over files."""
    manifest = read_manifest(folder)
    if manifest is not None:
        return  # already FETCHED or EMPTY: keep the first evidence
    manifest = _new(channel, date, "EMPTY")
    manifest["proof"] = {"detail": detail, "answer": proof, "recorded_at": now.isoformat()}
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder, manifest)


def same_as_fetched(manifest: dict | None, found) -> bool:
    """Every file a discovery found (`RemoteFile`s) has the size and mtime of its newest fetched
    revision: the source did not change, nothing needs downloading. Unknown is never "same"."""
    entries = (manifest or {}).get("files", [])
    if not found:
        return False
    for remote in found:
        mine = [e for e in entries if e["remote_name"] == remote.name]
        newest = max(mine, key=lambda e: e["revision"], default=None)
        if (newest is None or remote.size is None or remote.mtime is None
                or newest.get("remote_size") != remote.size or newest.get("remote_mtime") != remote.mtime):
            return False
    return True


def current_names(manifest: dict | None) -> list[str]:
    return [e["name"] for e in (manifest or {}).get("files", [])]
