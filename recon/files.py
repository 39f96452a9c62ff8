"""Atomic file output: a reader sees the old file or the whole new one, never half of either.

Every output recon writes (bills, results, reports, quarantine copies) goes to a temporary name in
the same directory, is flushed and fsynced, then renamed over the target with `os.replace`, and the
directory is fsynced so the rename survives a power cut. A crash at any point leaves at most a
`.tmp-*` file, which `sweep_temp` removes on the next run.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import random
import string
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from recon.crash import crashpoint

TEMP_PREFIX = ".tmp-"
# Set by whoever holds a claim on what is being written (jobs.lease): called before every replace,
# it raises when the claim was lost, so a run taken over never overwrites the new holder's outputs.
_GUARD: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar("write_guard", default=None)


@contextlib.contextmanager
def guarded_writes(check: Callable[[], None]) -> Iterator[None]:
    """Run `check` (and any outer claim's check) before every atomic replace in this context."""
    outer = _GUARD.get()

    def both() -> None:
        if outer is not None:
            outer()
        check()

    token = _GUARD.set(both)
    try:
        yield
    finally:
        _GUARD.reset(token)


def check_claim() -> None:
    """Raise if the claim on what this context writes was lost (see `guarded_writes`)."""
    if (guard := _GUARD.get()) is not None:
        guard()


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` atomically."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{target.name}.", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        crashpoint("before-replace")  # the temp file is complete, the target not yet replaced
        check_claim()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def scratch_beside(source: Path) -> Iterator[Path]:
    """A new, empty private file beside `source`, removed however the block ends.

    Named `.tmp-<source name>.<letters>` so a crash's leftover is swept with the rest (`sweep_temp`),
    and the random part is letters after the whole name, so whatever reads a date or a code out of
    the file's name finds the source's. A read-only folder falls back to the system temp folder."""
    source = Path(source)
    for folder in (source.parent, Path(tempfile.gettempdir())):
        for _ in range(100):
            tail = "".join(random.choices(string.ascii_lowercase, k=10))
            tmp = folder / f"{TEMP_PREFIX}{source.name}.{tail}"
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            except OSError:  # a read-only or vanished folder: try the next
                break
            os.close(fd)
            try:
                yield tmp
            finally:
                tmp.unlink(missing_ok=True)
            return
    raise FileExistsError(f"no temporary file could be created beside {source}")


def write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sweep_temp(root: Path, *, older_than: float | None = None, names: str = "*") -> list[Path]:
    """Remove temporary files a crashed run left below `root`; returns what it removed.

    Another live run may be writing under the same root: callers sweep only folders whose claim
    they hold, or files older than `older_than` seconds (a claim's TTL: their writer is gone).
    `names` narrows the files to a glob after the prefix (one day's, `2026-11-20.*`)."""
    removed = []
    cutoff = time.time() - older_than if older_than is not None else None
    if root.exists():
        for path in root.rglob(f"{TEMP_PREFIX}{names}"):
            try:
                if not path.is_file() or (cutoff is not None and path.stat().st_mtime > cutoff):
                    continue
            except FileNotFoundError:  # its writer renamed it just now
                continue
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
