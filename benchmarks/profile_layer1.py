"""Where layer 1 spends: each SQL file of the cascade and each Python step of one channel-day, timed.

    nice .venv/bin/python benchmarks/profile_layer1.py WORKSPACE DATE

WORKSPACE is one bench_day.py or bench_match.py left with --keep (its day already parsed). Runs
`match_day` with every `engine.run` statement file and the explain / write steps wrapped in timers,
and prints them by total time, wall and CPU (all of DuckDB's threads): on a shared machine the wall
time drifts with the neighbours, the CPU seconds much less, so a change shows where it moved the cost.
The peak column is each step's own resident high-water mark (Linux; reset before the step, as
jobs.meter does), so the step that sets the day's peak memory shows.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobs import meter  # noqa: E402
from jobs.catalog import open_workspace  # noqa: E402
from recon.matching import engine, fx, layer1, layer1_day, passes, proposals  # noqa: E402

SPENT: dict[str, float] = defaultdict(float)
CPU: dict[str, float] = defaultdict(float)
PEAK: dict[str, int] = defaultdict(int)


def timed(label: str, func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        meter._reset_peak()
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            key = label if label != "engine.run" else f"sql/{args[1]}"
            SPENT[key] += time.perf_counter() - start
            CPU[key] += time.process_time() - cpu
            PEAK[key] = max(PEAK[key], meter.peak_bytes())
    return wrapper


def main() -> None:
    root, day = Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2])
    engine.run = timed("engine.run", engine.run)
    for name in ("_near_misses", "_reasons", "check_coverage", "summarize", "copy", "register_side"):
        setattr(layer1, name, timed(name, getattr(layer1, name)))
    passes.Free.shrink = timed("Free.shrink", passes.Free.shrink)
    fx.settle = timed("fx.settle", fx.settle)
    proposals.propose = timed("proposals.propose", proposals.propose)
    layer1_day.internal_input = timed("internal_input (checks our export)", layer1_day.internal_input)
    layer1_day._write = timed("layer1_day._write (final sorted file)", layer1_day._write)
    ws = open_workspace(root)
    start, cpu = time.perf_counter(), time.process_time()
    summary = layer1_day.match_day(ws, day)
    total, total_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{'step':44} {'wall':>8}   {'cpu':>8}   {'peak MiB':>8}")
    for label, seconds in sorted(SPENT.items(), key=lambda kv: -CPU[kv[0]]):
        print(f"{label:44} {seconds:8.2f} s {CPU[label]:8.2f} s {PEAK[label] / 2**20:8,.0f}")
    print(f"{'match_day total':44} {total:8.2f} s {total_cpu:8.2f} s   {summary.totals()}")


if __name__ == "__main__":
    main()
