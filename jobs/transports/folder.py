"""Discovery for transports that see a folder (SFTP, a local drop folder): when is a file *done*?

A folder cannot say whether a file in it is finished: the producer may still be writing it. So a
file is taken only when one of these holds:

* a done-marker is configured and present: `{name}.done` beside each file, or one marker for the
  day (a path template such as `READY_{date:%Y%m%d}`); a day marker with no data file beside it is
  the channel saying "no activity" (EMPTY, the marker's content kept as proof);
* otherwise its size and mtime are the same across two looks `stable_wait` seconds apart, and it is
  not empty (a local file last modified more than `stable_wait` ago by our own clock counts as
  settled at the first look; a remote server's clock is never trusted for that).

Names ending in `.part`, `.filepart`, `.tmp` etc. and hidden files are never taken, and every name
goes through `safe_name` before it is used for anything.
"""

from __future__ import annotations

import datetime as dt
import time
from abc import ABC, abstractmethod

from jobs.transports.base import (
    Availability,
    Discovery,
    RemoteFile,
    marker_for,
    pick,
    safe_name,
    split_pattern,
    unstable,
)
from jobs.transports.options import FetchOptions
from recon.internal import expand


class FolderTransport(ABC):
    path_key = "remote_path"
    same_clock = False  # True when mtimes come from our own clock: an old enough file needs no 2nd look

    def __init__(self, options: FetchOptions) -> None:
        self.options = options

    # --- primitives a concrete transport provides -----------------------------------------
    @abstractmethod
    def listdir(self, folder: str) -> list[str] | None: ...  # None: the folder does not exist

    @abstractmethod
    def stat(self, path: str) -> tuple[int, float] | None: ...  # (size, mtime); None: missing

    @abstractmethod
    def read_small(self, path: str, limit: int = 4096) -> bytes: ...

    @abstractmethod
    def source(self, path: str) -> str: ...  # where a file came from, without credentials

    # --- discovery ------------------------------------------------------------------------
    def discover(self, date: dt.date) -> Discovery:
        template = getattr(self.options, self.path_key)
        folder, pattern, is_glob = split_pattern(expand(template, date))
        names = self.listdir(folder)
        if names is None:
            return Discovery(Availability.NOT_READY, detail=f"{self.source(folder)} does not exist yet")
        chosen = [safe_name(n) for n in pick(names, pattern, is_glob)]
        marker = self.options.done_marker
        if marker and "{name}" in marker:
            chosen = [n for n in chosen if marker_for(marker, date, n) in names]
        elif marker:
            day_marker = self._join(folder, marker_for(marker, date))
            if self.stat(day_marker) is None:
                return Discovery(Availability.NOT_READY, detail=f"done marker {self.source(day_marker)} not there yet")
            if not chosen:
                proof = {"done_marker": self.source(day_marker),
                         "content": self.read_small(day_marker).decode("utf-8", "replace")}
                return Discovery(Availability.EMPTY, detail="done marker present and no statement file", proof=proof)
        if not chosen:
            return Discovery(Availability.NOT_READY, detail=f"no file matching {self.source(self._join(folder, pattern))} yet")
        paths = {n: self._join(folder, n) for n in chosen}
        first = {n: self.stat(p) or (0, 0.0) for n, p in paths.items()}
        settled = self.same_clock and all(
            size and time.time() - mtime >= self.options.stable_wait for size, mtime in first.values())
        if not marker and not settled:
            time.sleep(self.options.stable_wait)
            second = {n: self.stat(p) or (0, 0.0) for n, p in paths.items()}
            moving = unstable(first, second)
            if moving:
                return Discovery(Availability.NOT_READY,
                                 detail=f"{', '.join(moving)} still being written (size changing or zero)")
        files = tuple(RemoteFile(name=n, source=self.source(p), size=first[n][0], mtime=first[n][1], handle=p)
                      for n, p in paths.items())
        return Discovery(Availability.READY, files=files)

    @staticmethod
    def _join(folder: str, name: str) -> str:
        return name if name.startswith("/") else f"{folder.rstrip('/')}/{name}"
