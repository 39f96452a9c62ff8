"""The channel half of a day (fetch -> parse) against a bare polars read of the same bill.

    nice .venv/bin/python benchmarks/bench_parse.py [--rows 200000] [--runs 3] [--before CHECKOUT] [--keep DIR]

The day is `bench_day.py`'s: one WeChat Pay trade bill of N lines in a local drop folder. Each run is
its own process on a fresh workspace: `jobs.pipeline.run_day(part="channels")`, each stage's wall
time and peak memory from the run (jobs.meter), its CPU time (every thread), and what the run spent around them (fingerprints,
leases, the run registry). The floor, in the same minute: polars reading the bill CSV, every column
as text. `--before DIR` runs a checkout of the previous code the same way, turn about with this one,
so a before/after pair shares the machine's load. Medians of `--runs`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# bench_day.DAY, not imported here: bench_day puts this checkout first on sys.path, and a child
# timing the code of `--before` must import nothing from this one
DAY = dt.date(2026, 11, 20)


def stages(root: Path) -> dict:
    """One channel half of the day; run with the code under test first on sys.path."""
    from jobs.catalog import open_workspace
    from jobs.pipeline import run_day
    from recon.store.engine import open_store

    ws = open_workspace(root)
    engine = open_store(ws.store_url())
    cpu = _cpu_of_stages()
    start, started = time.perf_counter(), time.process_time()
    run = run_day(ws, DAY, engine, part="channels")
    wall, spent = time.perf_counter() - start, time.process_time() - started
    import parsers.registry  # the code timed is the checkout asked for

    assert Path(parsers.registry.__file__).resolve().is_relative_to(Path(os.environ["BENCH_CODE"]).resolve())
    usage = {s: u.as_dict() | {"cpu": cpu[s]} for (_, s), u in run.usage.items()}
    states = {s: st.value for (_, s), st in run.states.items()}
    return {"wall": wall, "cpu": spent, "usage": usage, "states": states}


def _cpu_of_stages() -> dict[str, float]:
    """CPU seconds of each stage, every thread counted (polars' too): on a shared machine the wall
    time says as much about the neighbours as about the code."""
    from jobs import stages as module

    cpu: dict[str, float] = {}
    for name in ("fetch", "parse"):
        def timed(*args, _run=getattr(module, name), _name=name, **kwargs):
            started = time.process_time()
            try:
                return _run(*args, **kwargs)
            finally:
                cpu[_name] = time.process_time() - started
        setattr(module, name, timed)
    return cpu


def floor(root: Path) -> dict:
    from bench_day import floor_read

    started = time.process_time()
    return {"wall": floor_read(root)["op"], "cpu": time.process_time() - started}


def child(kind: str, root: Path) -> None:
    out = {"stages": stages, "floor": floor}[kind](root)
    out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def measure(kind: str, root: Path, code: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code), str(HERE)]), "BENCH_CODE": str(code)}
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--dir", str(root)], env=env,
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _row(label: str, runs: list[dict]) -> str:
    def med(f) -> float:
        return statistics.median(f(r) for r in runs)

    def pair(key: str) -> str:
        return f"{med(lambda r: r['usage'][key]['seconds']):6.2f} /{med(lambda r: r['usage'][key]['cpu']):5.2f}"

    around = med(lambda r: r["wall"] - r["usage"]["fetch"]["seconds"] - r["usage"]["parse"]["seconds"])
    around_cpu = med(lambda r: r["cpu"] - r["usage"]["fetch"]["cpu"] - r["usage"]["parse"]["cpu"])
    peak = med(lambda r: r["usage"]["parse"]["peak_mib"])
    spread = ", ".join(f"{r['usage']['parse']['seconds']:.2f}" for r in runs)
    return (f"  {label:8} {pair('fetch'):>14} {pair('parse'):>14} {around:6.2f} /{around_cpu:5.2f} {peak:9,.0f}"
            f"   parse wall: {spread}")


def bench(rows: int, base: Path, runs: int, before: Path | None) -> None:
    sys.path.insert(0, str(HERE))
    from bench_day import DAY as day  # the parent may import it: it times nothing itself
    from bench_day import _reset

    assert day == DAY, "bench_day's day changed: change DAY here too"
    codes = [("before", before)] if before else []
    codes.append(("after" if before else "this", REPO))
    found: dict[str, list[dict]] = {label: [] for label, _ in codes}
    floors = []
    for _ in range(runs):
        for label, code in codes:
            _reset(base)
            found[label].append(measure("stages", base, code))
            bad = {s: st for s, st in found[label][-1]["states"].items() if st != "SUCCEEDED"}
            if bad:
                raise SystemExit(f"{label}: stages did not succeed: {bad}")
        floors.append(measure("floor", base, REPO))
    print(f"\n{rows:,} bill lines; medians of {runs} (load {os.getloadavg()[0]:.1f} at the end)")
    print(f"  {'code':8} {'fetch wall/CPU s':>14} {'parse wall/CPU s':>14} {'around wall/CPU s':>13} {'parse MiB':>9}")
    for label, _ in codes:
        print(_row(label, found[label]))
    print(f"  floor: bare polars read of the bill CSV {statistics.median(f['wall'] for f in floors):.2f} s wall, "
          f"{statistics.median(f['cpu'] for f in floors):.2f} s CPU "
          f"(walls {', '.join(format(f['wall'], '.2f') for f in floors)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="bill lines (repeatable); default 200,000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=Path, help="a checkout of the previous code, timed turn about with this one")
    parser.add_argument("--keep", type=Path, help="keep the generated workspaces under this folder")
    parser.add_argument("--reuse", type=Path, help="a workspace kept by an earlier run (its --rows): not generated again")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.dir)
        return
    if args.reuse:
        bench((args.rows or [0])[0], args.reuse, args.runs, args.before.resolve() if args.before else None)
        return
    for rows in args.rows or [200_000]:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
        base = Path(tempfile.mkdtemp(prefix=f"bench-parse-{rows}-", dir=args.keep))
        subprocess.run([sys.executable, str(HERE / "bench_day.py"), "--child", "generate", "--dir", str(base),
                        "--rows", str(rows)], check=True, capture_output=True, text=True)
        bench(rows, base, args.runs, args.before.resolve() if args.before else None)
        if args.keep is None:
            shutil.rmtree(base)


if __name__ == "__main__":
    main()
