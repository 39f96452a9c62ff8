"""The transport protocol: how a statement gets from a channel's server to a local temporary file.

A channel publishes its statement for day D somewhere (an SFTP folder, an HTTP URL, a signed API,
a local drop folder) at an hour of its own choosing, sometimes late, sometimes half-written. A
transport answers two questions and nothing more:

1. `discover(date)`: is the statement there? One of three answers, kept apart on purpose:
   READY (here are the files), NOT_READY (not published yet: wait), EMPTY (the channel says there
   was no activity that day, with its answer kept as proof). "Absent" is never "empty".
2. `download(remote, dest)`: copy one discovered file into `dest` (a temporary path recon owns),
   verifying what the transport can verify (remote size before and after, the channel's hash).

Everything else (promotion into `raw/`, the manifest, the retry schedule) is `jobs.fetch`'s job.
Faults are exceptions marked transient (retry within the attempt: timeouts, 5xx, dropped
connections) or permanent (auth failure, a bad name); a refused host key is a configuration error.
Remote names are data, never paths: `safe_name` rejects anything that could escape a folder.
"""

from __future__ import annotations

import datetime as dt
import enum
import fnmatch
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from recon.errors import ConfigError, ReconError, StageFailed


class Availability(enum.Enum):
    READY = "READY"
    NOT_READY = "NOT_READY"
    EMPTY = "EMPTY"


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One file a transport found. `source` is safe to store and print (no credentials)."""

    name: str  # validated by safe_name: usable as a local file name
    source: str
    size: int | None = None
    mtime: float | None = None
    hash_type: str | None = None  # the channel's own digest of the (decompressed) bill
    hash_value: str | None = None
    handle: object = field(default=None, compare=False, repr=False)  # transport-private (a URL, a path)


@dataclass(frozen=True, slots=True)
class Discovery:
    state: Availability
    files: tuple[RemoteFile, ...] = ()
    detail: str = ""  # why NOT_READY / EMPTY, in the channel's own words
    proof: dict | None = None  # EMPTY: the channel's answer, kept in the manifest


@dataclass(frozen=True, slots=True)
class Downloaded:
    """What `download` wrote: the bytes at `path` (decompression is fetch's job, see archive)."""

    path: Path
    size: int
    sha256: str
    remote_size: int | None = None


@runtime_checkable
class Transport(Protocol):
    """Built from (channel name, FetchOptions); used as a context manager around one try."""

    def __enter__(self) -> Transport: ...
    def __exit__(self, *exc: object) -> None: ...
    def discover(self, date: dt.date) -> Discovery: ...
    def download(self, remote: RemoteFile, dest: Path) -> Downloaded: ...


# --- faults ----------------------------------------------------------------------------------
class FetchFault(ReconError):
    """A fetch could not complete. `transient` decides whether the attempt retries it."""

    exit_code = StageFailed.exit_code


class TransientFault(FetchFault):
    """Timeouts, 5xx, dropped connections, an expired download URL: retry with backoff."""

    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentFault(FetchFault):
    """Auth failure, a refused request, bad data from the channel: retrying will not help."""


class UnsafeInput(PermanentFault):
    """A remote name or archive member that could escape its folder, or a decompression bomb."""


class IntegrityFault(TransientFault):
    """The bytes do not verify (channel hash, size, archive CRC): never promoted; fetched again."""


class Unavailable(ReconError):
    """Raised mid-download when the server answers "not yet" or "nothing": carries the Discovery."""

    def __init__(self, discovery: Discovery) -> None:
        super().__init__(discovery.detail or discovery.state.value)
        self.discovery = discovery


class HostKeyRefused(ConfigError):
    """The server's host key is unknown or changed: nothing was sent; an operator must decide."""


# --- helpers ---------------------------------------------------------------------------------
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\:]")


def safe_name(name: str, *, what: str = "remote file name") -> str:
    """Return `name` if it is a plain file name; refuse separators, `..`, control characters."""
    if not name or name in (".", "..") or name.startswith(".") or _BAD_NAME.search(name) or len(name) > 200:
        raise UnsafeInput(f"refusing {what} {name!r}: not a plain file name (no separators, '..' or control characters)")
    return name


def public_url(url: str) -> str:
    """A URL fit for manifests and messages: no user:password, no query (tokens, signatures)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def copy_hashed(chunks: Iterable[bytes], dest: Path, *, limit: int | None = None) -> tuple[int, str]:
    """Write chunks to `dest`, returning (bytes, sha256); refuse more than `limit` bytes."""
    digest = hashlib.sha256()
    size = 0
    with open(dest, "wb") as out:
        for chunk in chunks:
            size += len(chunk)
            if limit is not None and size > limit:
                raise UnsafeInput(f"download exceeds the limit of {limit} bytes")
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


# The hash types channels name their bills' digests with (WeChat Pay: SHA1; others SHA-256, MD5).
HASH_TYPES = {"sha256": "sha256", "sha1": "sha1", "md5": "md5"}


def hash_algorithm(hash_type: str, *, where: str) -> str:
    """hashlib's name for a channel's hash type ("SHA-256", "sha1", "MD5"); anything else is refused."""
    algo = HASH_TYPES.get(str(hash_type).strip().lower().replace("-", "").replace("_", ""))
    if algo is None:
        raise PermanentFault(f"{where}: hash type {str(hash_type)[:40]!r} is not supported "
                             f"(supported: SHA-256, SHA1, MD5)", hint="ask the channel for one of these")
    return algo


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(hash_algorithm(algorithm, where=str(path)))
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


# --- discovery helpers shared by the folder-like transports (local, sftp) ---------------------
PARTIAL_SUFFIXES = (".part", ".filepart", ".partial", ".tmp", ".crdownload", ".done")


def split_pattern(path: str) -> tuple[str, str, bool]:
    """('/outgoing/20240501', 'wechat_*.csv', True) for a path whose last part may be a glob."""
    folder, _, pattern = path.rpartition("/")
    return folder or ".", pattern, any(c in pattern for c in "*?[")


def pick(names: Iterable[str], pattern: str, is_glob: bool) -> list[str]:
    """Names matching the final-name pattern; partial uploads and hidden files are never taken."""
    chosen = [n for n in names if (fnmatch.fnmatchcase(n, pattern) if is_glob else n == pattern)]
    return sorted(n for n in chosen if not n.startswith(".") and not n.lower().endswith(PARTIAL_SUFFIXES))


def marker_for(template: str, date: dt.date, name: str | None = None) -> str:
    """Expand a done-marker template: `{name}.done` (per file) or a path with `{date:...}`."""
    try:
        return template.format(date=date, name=name or "")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"bad done_marker template {template!r}: {exc}") from None


def unstable(before: dict[str, tuple], after: dict[str, tuple]) -> list[str]:
    """Files whose (size, mtime) changed between two looks, or that are still zero bytes."""
    return sorted(n for n in before if after.get(n) != before[n] or not before[n][0])
