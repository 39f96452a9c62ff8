"""Wall time and peak memory of one stage, so users see where their night goes.

Peak memory is the process's resident high-water mark (VmHWM) during the stage: DuckDB, Polars and
Python all allocate in this process, so it is what the machine had to give. Linux lets a process
reset its own high-water mark (writing "5" to /proc/self/clear_refs), so each stage gets its own
peak. Where that is refused (another OS, a locked-down /proc) the figure is the process's peak so
far, an upper bound, and `own_peak` says so.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CLEAR_REFS = Path("/proc/self/clear_refs")
STATUS = Path("/proc/self/status")
RESET_PEAK = "5"  # proc(5): "reset the peak resident set size ("high water mark") to the current RSS"


@dataclass(slots=True)
class Usage:
    """What one stage took: seconds of wall time and the peak resident memory in bytes."""

    seconds: float = 0.0
    peak_bytes: int = 0
    own_peak: bool = False  # False: the peak is the process's so far, not the stage's alone

    @property
    def peak_mib(self) -> int:
        return round(self.peak_bytes / 2**20)

    def as_dict(self) -> dict[str, float | int | bool]:
        return {"seconds": round(self.seconds, 3), "peak_mib": self.peak_mib}


def _reset_peak() -> bool:
    try:
        CLEAR_REFS.write_text(RESET_PEAK)
    except OSError:
        return False
    return True


def peak_bytes() -> int:
    """The process's resident high-water mark since the last reset (or since it started)."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # reported in kB
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # bytes on macOS, kB elsewhere


@contextmanager
def measure() -> Iterator[Usage]:
    """Time the block and take its memory peak; the Usage is filled in when the block ends."""
    usage = Usage(own_peak=_reset_peak())
    started = time.perf_counter()
    try:
        yield usage
    finally:
        usage.seconds = time.perf_counter() - started
        usage.peak_bytes = peak_bytes()
