"""The local drop folder: another system (or the demo) drops statement files into a folder.

`[channels.X.fetch] transport = "local"`, `path = "drop/wechat_{date:%Y%m%d}.csv"` (relative to
the workspace; a glob is allowed in the file name). The rules for "is it done?" are the folder
rules of `jobs.transports.folder`. The copy is checked against the size seen at discovery and
after the copy, so a file rewritten mid-copy is not taken.
"""

from __future__ import annotations

import os
from pathlib import Path

from jobs.transports.base import Downloaded, RemoteFile, TransientFault, copy_hashed
from jobs.transports.folder import FolderTransport
from jobs.transports.options import FetchOptions


class LocalTransport(FolderTransport):
    path_key = "path"
    same_clock = True

    def __init__(self, options: FetchOptions) -> None:
        options.require("path")
        super().__init__(options)

    def __enter__(self) -> LocalTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _abs(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.options.root / p

    def listdir(self, folder: str) -> list[str] | None:
        try:
            return os.listdir(self._abs(folder))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def stat(self, path: str) -> tuple[int, float] | None:
        try:
            st = os.stat(self._abs(path))
        except FileNotFoundError:
            return None
        return st.st_size, st.st_mtime

    def read_small(self, path: str, limit: int = 4096) -> bytes:
        with open(self._abs(path), "rb") as fh:
            return fh.read(limit)

    def source(self, path: str) -> str:
        return f"file://{self._abs(path)}"

    def download(self, remote: RemoteFile, dest: Path) -> Downloaded:
        src = self._abs(str(remote.handle))
        try:
            with open(src, "rb") as fh:
                size, sha = copy_hashed(iter(lambda: fh.read(1 << 20), b""), dest)
        except FileNotFoundError:
            raise TransientFault(f"{remote.source} vanished during the copy") from None
        after = self.stat(str(remote.handle))
        if after is None or after[0] != size or (remote.size is not None and remote.size != size):
            raise TransientFault(f"{remote.source} changed during the copy ({remote.size} -> {size} bytes)")
        return Downloaded(dest, size, sha, remote_size=after[0])
