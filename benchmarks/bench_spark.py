"""Layer 1 on Spark (local mode) next to DuckDB, on the same generated day, in the same run.

    .venv/bin/python benchmarks/bench_spark.py --rows 1000000 [--master local[2]] [--keep DIR]

Generates the day of bench_match.py (N rows a side, ~1% of rows broken in known ways), then, each in
a fresh process: the DuckDB layer-1 job (`match_day`), the Spark start-up (a local session with
recon's forced settings, until it answers a query), and the Spark layer-1 job on that session.
Prints wall time, rows/s and peak RSS of the process tree (the JVM included), and whether the two
engines wrote byte-identical results/<D>/layer1.parquet. Spark locally pays a fixed cost per
statement: it is for days one machine cannot hold, not for speed on one machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_match import DAY, generate


def tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and every process below it (the Spark JVM is a child)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(child for child, parent in parents.items() if parent == current)
    return total


def child(kind: str, root: Path, master: str) -> None:
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], tree_rss(os.getpid()))

    threading.Thread(target=sample, daemon=True).start()
    from jobs.catalog import open_workspace
    from recon.config.settings import SparkSettings
    from recon.matching.layer1_day import match_day

    ws = open_workspace(root)
    result: dict = {}
    start = time.perf_counter()
    if kind == "duckdb":
        result["outcomes"] = match_day(ws, DAY).totals()
    else:
        from recon.matching.spark_engine import SparkMatcher

        matcher = SparkMatcher.from_settings(SparkSettings(master=master), root)
        matcher.spark.sql("SELECT 1").collect()
        result["startup"] = time.perf_counter() - start
        start = time.perf_counter()
        result["outcomes"] = match_day(ws, DAY, matchers={"spark": matcher}, engine_override="spark").totals()
    result["wall"] = time.perf_counter() - start
    done.set()
    result["rss"] = max(peak[0], tree_rss(os.getpid()))
    print(json.dumps(result))


def measure(kind: str, root: Path, master: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--dir", str(root), "--master", master],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows a side")
    parser.add_argument("--master", default="local[2]", help="Spark master for the Spark run")
    parser.add_argument("--keep", type=Path, help="keep the generated workspaces under this folder")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.dir, args.master)
        return
    base = Path(tempfile.mkdtemp(prefix=f"bench-spark-{args.rows}-", dir=args.keep))
    start = time.perf_counter()
    for name in ("duckdb", "spark"):
        generate(base / name, args.rows, "2GB")
    print(f"{args.rows:,} rows a side: generated in {time.perf_counter() - start:.1f} s")
    duck, spark = measure("duckdb", base / "duckdb", args.master), measure("spark", base / "spark", args.master)
    print(f"  spark start-up ({args.master}) {spark['startup']:7.2f} s")
    for name, m in (("layer-1 job, DuckDB", duck), (f"layer-1 job, Spark {args.master}", spark)):
        print(f"  {name:28} wall {m['wall']:7.2f} s  {2 * args.rows / m['wall']:12,.0f} rows/s  "
              f"peak RSS {m['rss'] / 2**30:5.2f} GiB")
    same = all((base / n / "results" / str(DAY) / "layer1.parquet").read_bytes() ==
               (base / "duckdb" / "results" / str(DAY) / "layer1.parquet").read_bytes() for n in ("spark",))
    print(f"  ratio spark/duckdb: {spark['wall'] / duck['wall']:.1f}x   layer1.parquet byte-identical: {same}   "
          f"outcomes: {duck['outcomes']}")
    if duck["outcomes"] != spark["outcomes"] or not same:
        raise SystemExit("the engines disagree")
    if args.keep is None:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
