"""Unpacking downloaded gzip and zip statements without trusting the archive.

WeChat Pay ships its bills gzipped (and hashes the *decompressed* bill); Alipay ships a zip of
GBK-named CSVs. An archive from the network can lie: a member named `../../etc/cron.d/x` (zip
slip), a symlink entry, two members with one name, or a few kilobytes that inflate to terabytes
(a decompression bomb). So nothing here calls `extractall`, and no size in a header is believed:

* members are read into files recon names itself, in a folder recon chose, after `safe_name`
  accepted the member's (decoded) name; anything with a separator, `..` or a link is refused;
* every byte is counted as it is inflated, and the total stops at a limit;
* no nested archives are opened (depth 0).

A refused archive raises `UnsafeInput` (permanent); a truncated one raises `TransientFault`,
since a re-download usually fixes it.
"""

from __future__ import annotations

import gzip
import hashlib
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from jobs.transports.base import TransientFault, UnsafeInput, safe_name

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP = b"PK\x05\x06"
MAX_MEMBERS = 64
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Unpacked:
    """One file that came out of an archive, at a temporary `path` beside its final place."""

    name: str
    path: Path
    size: int
    sha256: str
    sha1: str


def kind_of(path: Path) -> str:
    """'gzip', 'zip' or 'plain', by the file's magic bytes (never by its name)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head in (ZIP_MAGIC, EMPTY_ZIP):
        return "zip"
    return "plain"


def _pump(read, dest: Path, budget: int, what: str) -> tuple[int, str, str]:
    sha256, sha1, size = hashlib.sha256(), hashlib.sha1(), 0  # sha1: WeChat's bill digest
    try:
        with open(dest, "wb") as out:
            while block := read(CHUNK):
                size += len(block)
                if size > budget:
                    raise UnsafeInput(f"{what} unpacks to more than {budget} bytes (limit max_unpacked_bytes)")
                sha256.update(block)
                sha1.update(block)
                out.write(block)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return size, sha256.hexdigest(), sha1.hexdigest()


def gunzip(src: Path, dest: Path, *, name: str, limit: int) -> Unpacked:
    """Inflate `src` into `dest`, counting bytes; `name` is the bill's final name."""
    try:
        with gzip.open(src, "rb") as fh:
            size, sha256, sha1 = _pump(fh.read, dest, limit, f"gzip {name}")
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise TransientFault(f"gzip {name} is truncated or corrupt ({exc}); downloading again") from None
    return Unpacked(safe_name(name), dest, size, sha256, sha1)


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's real name: zips without the UTF-8 flag (Alipay's) carry GBK bytes."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def unzip(src: Path, folder: Path, *, limit: int, temp_prefix: str) -> list[Unpacked]:
    """Read each member of `src` into `folder/<temp_prefix><n>`; refuse anything unsafe."""
    out: list[Unpacked] = []
    made: list[Path] = []  # every temp file written, removed again if the archive is refused
    seen: set[str] = set()
    budget = limit
    try:
        with zipfile.ZipFile(src) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise UnsafeInput(f"zip has {len(infos)} members (more than {MAX_MEMBERS})")
            for n, info in enumerate(infos):
                raw = member_name(info)
                if info.is_dir() and "/" not in raw.rstrip("/") and ".." not in raw:
                    continue  # a plain top-level folder entry holds nothing
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise UnsafeInput(f"zip member {raw!r} is a symbolic link")
                name = safe_name(raw, what="zip member name")
                if name.lower() in seen:
                    raise UnsafeInput(f"zip has two members named {name!r}")
                seen.add(name.lower())
                if name.lower().endswith((".zip", ".gz", ".tar", ".tgz", ".7z", ".rar")):
                    raise UnsafeInput(f"zip member {name!r} is itself an archive (nesting is refused)")
                dest = folder / f"{temp_prefix}{n}"
                made.append(dest)
                with zf.open(info) as fh:
                    size, sha256, sha1 = _pump(fh.read, dest, budget, f"zip member {name!r}")
                budget -= size
                out.append(Unpacked(name, dest, size, sha256, sha1))
    except zipfile.BadZipFile as exc:
        _discard(made)
        raise TransientFault(f"zip is truncated or corrupt ({exc}); downloading again") from None
    except (UnsafeInput, zlib.error, EOFError, OSError) as exc:
        _discard(made)
        if isinstance(exc, UnsafeInput):
            raise
        raise TransientFault(f"zip member could not be read ({exc}); downloading again") from None
    return out


def _discard(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
