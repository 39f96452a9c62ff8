"""Where the clear stage spends: holdback, month volume, fees and splits, posting and the files, each
timed alone with its own peak memory.

    nice .venv/bin/python benchmarks/profile_clear_stage.py WORKSPACE [DATE] [--runs 1]
    PYTHONPATH=/path/to/other/checkout nice .venv/bin/python benchmarks/profile_clear_stage.py WORKSPACE

WORKSPACE is one `bench_day.py --keep` left behind (its day already matched and cleared once).
Re-runs `recon.clearing.clear_day` of the day with its steps wrapped in timers and prints, per step,
wall time, CPU time (all threads: on a shared machine the CPU seconds drift much less than the wall)
and the step's own peak resident memory (Linux: the high-water mark reset before each step, as
jobs.meter does), next to the resident memory it started from. A re-run re-clears to the same files
and posts nothing new, so runs compare. An inner step's peak is its own; the outer step's total
includes the inner ones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import sys
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))  # after PYTHONPATH: another checkout wins
DAY = dt.date(2026, 11, 20)  # bench_day.py's day


def _rss() -> int:
    """The process's resident memory now (Linux), in bytes; 0 where /proc is not there."""
    try:
        return next(int(line.split()[1]) * 1024 for line in Path("/proc/self/status").read_text().splitlines()
                    if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("date", nargs="?", type=dt.date.fromisoformat, default=DAY)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    import recon
    import recon.clearing as clearing
    from jobs import meter
    from jobs.catalog import open_workspace
    from recon.clearing import holdback, output

    spent: dict[str, list[float]] = {}

    def timed(owner, name: str, label: str) -> None:
        func = getattr(owner, name, None) if owner is not None else None
        if func is None:  # a step the code under test does not have
            return

        @functools.wraps(func)
        def wrapper(*a, **k):
            meter._reset_peak()
            before = _rss()
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return func(*a, **k)
            finally:
                got = spent.setdefault(label, [0.0, 0.0, 0, before])
                got[0] += time.perf_counter() - start
                got[1] += time.process_time() - cpu
                got[2] = max(got[2], meter.peak_bytes())
        setattr(owner, name, wrapper)

    # inner steps first: their peaks are their own
    timed(holdback, "our_rows", "  holdback: our rows of layer 1")
    timed(output, "detail_lines", "  files: detail lines")
    timed(clearing, "classify_frame", "holdback (classify_frame)")
    timed(clearing, "month_volume", "month volume")
    timed(clearing, "check_day", "refusals of the whole day (check_day)")
    timed(clearing, "compute_frame", "fees, splits, settlements (compute_frame)")
    timed(clearing, "bookings", "bookings")
    timed(clearing, "post_day", "posting (post_day)")
    timed(clearing, "write_day", "files (write_day)")  # before DayFiles
    timed(getattr(output, "DayFiles", None), "add", "files: staged per batch (DayFiles.add)")
    ws = open_workspace(args.workspace)
    print(f"code: {Path(recon.__file__).parent}")
    for run in range(args.runs):
        spent.clear()
        meter._reset_peak()
        start, cpu = time.perf_counter(), time.process_time()
        clearing.clear_day(ws, args.date)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        peak = max([meter.peak_bytes(), *(p for _, _, p, _ in spent.values())])  # steps reset the mark
        print(f"run {run + 1}: {'step':44} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'RSS before':>11}")
        for label, (w, c, p, b) in spent.items():
            print(f"       {label:44} {w:8.2f} {c:8.2f} {p / 2**20:9,.0f} {b / 2**20:11,.0f}")
        print(f"       {'whole clear stage':44} {wall:8.2f} {cpu:8.2f} {peak / 2**20:9,.0f}")


if __name__ == "__main__":
    main()
