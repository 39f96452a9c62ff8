"""Benchmark: the day's report for a 100,000-discrepancy day, against the floor of openpyxl itself.

The floor writes the same rows to a bare openpyxl write-only workbook (no styles, no escaping, no
summary, no charts, no re-packing), which is the least any xlsx writer in Python pays. Each variant
runs in its own process so its peak RSS is its own. Run once: `.venv/bin/python benchmarks/bench_report.py`
(`--rows N` to change the size).

On a day kept by `benchmarks/bench_day.py --keep DIR` (the report stage of a whole `recon run`):

    nice .venv/bin/python benchmarks/bench_report.py --workspace WS --date 2026-11-20 [--code OLD] [--profile 30]

times gathering, building and saving the workbook (wall and CPU) and the peak RSS, each code in its
own process: `--code OLD` (a checkout of the previous code, e.g. `git worktree add OLD origin/main`)
first, then this one, and compares the two workbooks (md5, then every sheet, cell, format and print
setting with benchmarks/compare_workbooks.py). `--profile N` prints this code's cProfile top N.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "queue"))
DAY = dt.date(2025, 3, 14)
KINDS = ("AMOUNT_MISMATCH", "CHANNEL_ONLY", "LOCAL_ONLY", "FEE_MISMATCH", "STATUS_MISMATCH", "PENDING")


def make_day(root: Path, rows: int):
    from layers import make_ws, row, write_layer1

    ws = make_ws(root)
    out = []
    for i in range(rows):
        kind = KINDS[i % len(KINDS)]
        cents = Decimal(10_000 + i) / 100
        our = None if kind == "CHANNEL_ONLY" else str(cents)
        their = None if kind in ("LOCAL_ONLY", "PENDING") else str(cents + (Decimal("0.01") if kind == "AMOUNT_MISMATCH" else 0))
        out.append(row(kind, f"42000{i:023d}", our=our, their=their))
    out += [row("MATCHED", f"m{i:08d}") for i in range(rows // 10)]
    write_layer1(ws, out)
    return ws


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run_variant(variant: str, root: Path) -> dict:
    """Write one workbook from the prepared workspace; RSS is this process's own peak."""
    import polars as pl

    from jobs.catalog import open_workspace

    ws = open_workspace(root)
    before = peak_rss_mb()
    started = time.perf_counter()
    if variant == "report":
        from recon.report.workbook import write_report

        path = write_report(ws, DAY).path
    else:
        from openpyxl import Workbook

        frame = pl.read_parquet(ws.results_dir(DAY) / "layer1.parquet").filter(pl.col("outcome") != "MATCHED")
        wb = Workbook(write_only=True)
        sheet = wb.create_sheet("floor")
        sheet.append(frame.columns)
        for r in frame.iter_rows():
            sheet.append([v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v for v in r])
        path = root / "floor.xlsx"
        wb.save(path)
    wall = time.perf_counter() - started
    return {"variant": variant, "wall_s": round(wall, 2), "peak_rss_mb": round(peak_rss_mb(), 1),
            "rss_before_write_mb": round(before, 1), "size_mb": round(path.stat().st_size / 2**20, 2)}


def run_day(root: Path, day: dt.date, out: Path, profile: int) -> dict:
    """The report of a kept day by whichever recon is first on sys.path, phase by phase."""
    import cProfile
    import pstats

    import recon
    from jobs.catalog import open_workspace
    from recon.report import data, workbook

    ws = open_workspace(root)
    profiler = cProfile.Profile() if profile else None
    clock = lambda: (time.perf_counter(), time.process_time())  # noqa: E731
    marks = [clock()]
    if profiler:
        profiler.enable()
    gathered = data.gather(ws, day)
    marks.append(clock())
    wb = workbook.build_workbook(gathered, ws.settings.report.language)
    marks.append(clock())
    workbook.save_pinned(wb, out, day)
    marks.append(clock())
    if profiler:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(profile)
    spans = zip(("gather", "build", "save", "total"), marks[:3] + [marks[0]], marks[1:] + [marks[-1]], strict=True)
    phases = {name: [round(b[0] - a[0], 2), round(b[1] - a[1], 2)] for name, a, b in spans}
    return {"code": str(Path(recon.__file__).parent.parent), "phases": phases, "peak_rss_mb": round(peak_rss_mb(), 1)}


def bench_day(root: Path, day: str, old: Path | None, profile: int) -> None:
    from compare_workbooks import compare

    runs = []
    for code in ([old.resolve()] if old else []) + [REPO]:
        out = root.parent / f"report-{'old' if code != REPO else 'new'}-{root.name}.xlsx"
        cmd = [sys.executable, __file__, "--variant", "day", "--workspace", str(root), "--date", day,
               "--out", str(out), "--code", str(code), "--profile", str(profile if code == REPO else 0)]
        load = os.getloadavg()[0]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        if profile and code == REPO:
            print(done.stderr)
        runs.append((out, load, json.loads(done.stdout.strip().splitlines()[-1])))
    for out, load, r in runs:
        p = r["phases"]
        print(f"{r['code']}: " + "  ".join(f"{k} {w:.2f}/{c:.2f} s" for k, (w, c) in p.items())
              + f"  (wall/CPU)  peak RSS {r['peak_rss_mb']:,.0f} MB  load {load:.1f}  {out}")
    if old:
        (a, _, _), (b, _, _) = runs
        same = hashlib.md5(a.read_bytes()).digest() == hashlib.md5(b.read_bytes()).digest()
        print("workbooks byte-identical" if same else "workbooks differ in bytes")
        found = compare(str(a), str(b))
        print("content identical" if not found else "\n".join(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--variant", choices=("report", "floor", "day"))
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--date", help="with --workspace: the kept day's business date")
    parser.add_argument("--code", type=Path, help="with --workspace: the previous code's checkout, run first")
    parser.add_argument("--profile", type=int, default=0, help="with --workspace: print cProfile's top N")
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant == "day":
        sys.path.insert(0, str(args.code))  # before the first import of recon: the code measured
        print(json.dumps(run_day(args.workspace, dt.date.fromisoformat(args.date), args.out, args.profile)))
        return
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.workspace)))
        return
    if args.workspace:
        bench_day(args.workspace, args.date, args.code, args.profile)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        # The day is prepared in its own process so neither variant's peak RSS includes it.
        subprocess.run([sys.executable, "-c", f"import sys; sys.path[:0] = {sys.path[:2]!r}; "
                        f"import bench_report as b, pathlib; b.make_day(pathlib.Path({str(root)!r}), {args.rows})"],
                       check=True, cwd=Path(__file__).parent)
        results = []
        for variant in ("floor", "report"):
            done = subprocess.run([sys.executable, __file__, "--variant", variant, "--workspace", str(root)],
                                  capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    floor, rep = results
    for r in results:
        print(f"{r['variant']:>6}: {args.rows:,} discrepancies  wall {r['wall_s']:.2f} s  peak RSS {r['peak_rss_mb']:.0f} MB "
              f"(before writing {r['rss_before_write_mb']:.0f} MB)  file {r['size_mb']:.1f} MB")
    print(f"report / floor: wall x{rep['wall_s'] / floor['wall_s']:.2f}, "
          f"peak RSS +{rep['peak_rss_mb'] - floor['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
