"""Where the match stage spends: layer 1, layers 2-3 and the queue sync of one day, each timed alone.

    nice .venv/bin/python benchmarks/profile_match_stage.py WORKSPACE [DATE] [--runs 2]
    PYTHONPATH=/path/to/other/checkout nice .venv/bin/python benchmarks/profile_match_stage.py WORKSPACE

WORKSPACE is one `bench_day.py --keep` left behind (its day already parsed and matched once).
Re-runs `jobs.stages.match` of the day (what `recon match --date D` and `recon run` run) with its
steps wrapped in timers and prints, per step, wall time, CPU time (all of DuckDB's and Polars'
threads: on a shared machine the wall time drifts with the neighbours, the CPU seconds much less)
and the step's own peak resident memory (Linux: the high-water mark reset before each step, as
jobs.meter does). A re-run writes the same results and syncs nothing new, so runs compare.
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
    from jobs import meter, stages
    from jobs.catalog import open_workspace
    from recon.matching import day, layer2_bills, layers23

    spent: dict[str, list[float]] = {}

    def timed(owner, name: str, label: str) -> None:
        func = getattr(owner, name)

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

    # inner steps first: their peaks are their own; a step's outer total includes its inner ones
    timed(layers23, "load_bills", "  layers 2-3: bills read")
    timed(layer2_bills, "crossday", "  layers 2-3: cross-day rows of layer 1")
    timed(day, "match_day", "layer 1 (match_day)")
    timed(day, "run_layers23", "layers 2-3 (run_layers23, incl. our side)")
    timed(stages, "sync_results", "queue sync (sync_results)")
    ws = open_workspace(args.workspace)
    print(f"code: {Path(recon.__file__).parent}")
    for run in range(args.runs):
        spent.clear()
        meter._reset_peak()
        start, cpu = time.perf_counter(), time.process_time()
        stages.match(ws, args.date)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        peak = max([meter.peak_bytes(), *(p for _, _, p, _ in spent.values())])  # steps reset the mark
        print(f"run {run + 1}: {'step':44} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'RSS before':>11}")
        for label, (w, c, p, b) in spent.items():
            print(f"       {label:44} {w:8.2f} {c:8.2f} {p / 2**20:9,.0f} {b / 2**20:11,.0f}")
        print(f"       {'whole match stage':44} {wall:8.2f} {cpu:8.2f} {peak / 2**20:9,.0f}")


if __name__ == "__main__":
    main()
