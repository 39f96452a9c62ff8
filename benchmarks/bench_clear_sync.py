"""Queue sync and clearing of one day, timed alone on a workspace `bench_day.py --keep` left behind.

    nice .venv/bin/python benchmarks/bench_clear_sync.py WORKSPACE [--runs 2] [--only clear]
    PYTHONPATH=/path/to/other/checkout nice .venv/bin/python benchmarks/bench_clear_sync.py WORKSPACE

`recon run` times matching and the queue sync as one stage (`*/match`); this times
`recon.queue.sync.sync_results` and `recon.clearing.clear_day` of the day separately, each re-run
on the same results (a re-run syncs nothing new and re-clears to the same files), and prints the
best CPU time (process time: all threads, so a loaded shared machine matters less) and wall time of
each, and the process's peak RSS after it (`--only clear` for the clear stage's own peak). Point
PYTHONPATH at another checkout to time its code on the same workspace (before/after).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))  # after PYTHONPATH: another checkout wins
DAY = dt.date(2026, 11, 20)  # bench_day.py's day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--only", choices=("queue sync", "clear"), help="time one stage (its own peak RSS)")
    args = parser.parse_args()

    import recon
    from jobs.catalog import open_workspace
    from recon.clearing import clear_day
    from recon.queue.sync import sync_results

    ws = open_workspace(args.workspace)
    print(f"code: {Path(recon.__file__).parent}")
    for name, run in (("queue sync", lambda: sync_results(ws, DAY)), ("clear", lambda: clear_day(ws, DAY))):
        if args.only not in (None, name):
            continue
        times = []
        for _ in range(args.runs):
            cpu, wall = time.process_time(), time.perf_counter()
            run()
            times.append((time.process_time() - cpu, time.perf_counter() - wall))
        cpu, wall = min(times)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        print(f"  {name:12} cpu {cpu:7.2f} s   wall {wall:7.2f} s   (best of {args.runs})   peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
