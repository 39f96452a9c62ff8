"""Shared by the profile_*_stage.py scripts: a stage re-run with some of its steps wrapped in timers,
each step's wall time, CPU time (all threads: on a shared machine the CPU seconds drift much less than
the wall) and its own peak resident memory (Linux: the high-water mark reset before each step, as
jobs.meter does), next to the resident memory it started from.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import time
from pathlib import Path
from typing import Any, Callable

DAY = dt.date(2026, 11, 20)  # bench_day.py's day


def stage_args(doc: str) -> argparse.Namespace:
    """WORKSPACE (one `bench_day.py --keep` left behind), its DATE, --runs."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("date", nargs="?", type=dt.date.fromisoformat, default=DAY)
    parser.add_argument("--runs", type=int, default=1)
    return parser.parse_args()


def rss() -> int:
    """The process's resident memory now (Linux), in bytes; 0 where /proc is not there."""
    try:
        return next(int(line.split()[1]) * 1024 for line in Path("/proc/self/status").read_text().splitlines()
                    if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0


class Steps:
    """Timers around named functions. Wrap inner steps first: their peaks are their own, and an outer
    step's total includes its inner ones."""

    def __init__(self) -> None:
        from jobs import meter
        self._meter = meter
        self.spent: dict[str, list[float]] = {}

    def wrap(self, owner: Any, name: str, label: str) -> None:
        """Time `owner.name` as `label`; a step the code under test does not have is left out."""
        func = getattr(owner, name, None) if owner is not None else None
        if func is None:
            return
        meter, spent = self._meter, self.spent

        @functools.wraps(func)
        def wrapper(*a, **k):
            meter._reset_peak()
            before = rss()
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return func(*a, **k)
            finally:
                got = spent.setdefault(label, [0.0, 0.0, 0, before])
                got[0] += time.perf_counter() - start
                got[1] += time.process_time() - cpu
                got[2] = max(got[2], meter.peak_bytes())
        setattr(owner, name, wrapper)

    def run(self, whole: str, stage: Callable[[], object], runs: int) -> None:
        """Run `stage` `runs` times and print each run's table of steps and the whole stage."""
        import recon
        print(f"code: {Path(recon.__file__).parent}")
        for run in range(runs):
            self.spent.clear()
            self._meter._reset_peak()
            start, cpu = time.perf_counter(), time.process_time()
            stage()
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            peak = max([self._meter.peak_bytes(), *(p for _, _, p, _ in self.spent.values())])  # steps reset the mark
            print(f"run {run + 1}: {'step':44} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'RSS before':>11}")
            for label, (w, c, p, b) in self.spent.items():
                print(f"       {label:44} {w:8.2f} {c:8.2f} {p / 2**20:9,.0f} {b / 2**20:11,.0f}")
            print(f"       {whole:44} {wall:8.2f} {cpu:8.2f} {peak / 2**20:9,.0f}")
