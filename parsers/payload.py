"""A statement's payload as a plain file, inflated a chunk at a time under the statement size cap.

A gzip payload or a zip member is inflated into a temporary file beside the statement (README:
"Statement size"), so inflating costs a chunk of memory whatever the payload inflates to, and the
parser reads that file by path exactly as it reads an uncompressed statement. The cap is enforced
while writing: a bomb costs at most the cap on disk and a chunk in memory before it is refused.
"""

from __future__ import annotations

import contextlib
import gzip
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from recon.errors import StatementRejected
from recon.files import scratch_beside

# The largest statement a parser reads, packed or not. A parser holds at most one statement (or one
# zip member) in memory and peaks at a few times its size; the cap bounds that.
MAX_STATEMENT_BYTES = 512 << 20
CHUNK = 1 << 20


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _too_large(path: Path, what: str, limit: int) -> StatementRejected:
    return StatementRejected(str(path), None, f"{what} exceeds {limit} bytes (the statement size cap)", code="too_large")


def _inflate(read: Callable[[int], bytes], out: Path, limit: int, what: str, path: Path,
             damaged: tuple[type[BaseException], ...], reason: Callable[[BaseException], str]) -> None:
    """Write everything `read` yields to `out`, a chunk at a time, refused as soon as it passes
    `limit`. An error reading (one of `damaged`) is the statement's fault; one writing is not."""
    written = 0
    with open(out, "wb") as fh:
        while True:
            try:
                block = read(CHUNK)
            except damaged as exc:
                raise StatementRejected(str(path), None, reason(exc), code="truncated") from None
            if not block:
                return
            written += len(block)
            if written > limit:
                raise _too_large(path, what, limit)
            fh.write(block)


@contextlib.contextmanager
def plain_statement(path: Path, *, limit: int = MAX_STATEMENT_BYTES) -> Iterator[Path]:
    """`path` itself when it is not gzip (refused over the cap before it is read), else its payload
    inflated into a temporary file that is removed however the block ends."""
    limit = min(limit, MAX_STATEMENT_BYTES)
    if not is_gzip(path):
        size = path.stat().st_size
        if size > limit:
            raise StatementRejected(str(path), None, f"statement is {size} bytes, more than {limit} "
                                    "(the statement size cap)", code="too_large")
        yield path
        return
    with scratch_beside(path) as tmp:
        with gzip.open(path, "rb") as gz:
            _inflate(gz.read, tmp, limit, "gzip payload", path, (OSError, EOFError, zlib.error),
                     lambda exc: f"gzip stream is damaged or truncated: {exc}")
        yield tmp


@contextlib.contextmanager
def member_file(path: Path, member: str, *, limit: int) -> Iterator[Path]:
    """One zip member inflated into a temporary file, refusing a member that inflates beyond
    `limit` (a zip bomb) whatever its header claims; the file is removed however the block ends."""
    limit = min(limit, MAX_STATEMENT_BYTES)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
        if info.file_size > limit:
            raise StatementRejected(str(path), None, f"zip member {member!r} inflates to {info.file_size} bytes "
                                    f"(limit {limit})", code="too_large")
        with scratch_beside(path) as tmp:
            try:
                fh = zf.open(info)
            except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as exc:  # offsets the directory lies about
                raise StatementRejected(str(path), None, f"damaged zip: member {member!r} cannot be read ({exc})",
                                        code="truncated") from None
            with fh:  # the header's size can lie: count what really comes out
                _inflate(fh.read, tmp, limit, f"zip member {member!r}", path,
                         (OSError, zipfile.BadZipFile, zlib.error, EOFError),
                         lambda exc: f"damaged zip: member {member!r} cannot be read ({exc})")
            yield tmp


def open_member_bytes(path: Path, member: str, *, limit: int) -> bytes:
    """One zip member's bytes (for parsers that read a member from memory), inflated via `member_file`."""
    with member_file(path, member, limit=limit) as tmp:
        return tmp.read_bytes()


def read_payload(path: Path, *, limit: int = MAX_STATEMENT_BYTES) -> bytes:
    """A file's bytes, gunzipped when it is gzip; a truncated gzip is a rejection, not a prefix."""
    with plain_statement(path, limit=limit) as plain:
        return plain.read_bytes()
