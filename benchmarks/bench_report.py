"""Benchmark: the day's report for a 100,000-discrepancy day, against the floor of openpyxl itself.

The floor writes the same rows to a bare openpyxl write-only workbook (no styles, no escaping, no
summary, no charts, no re-packing), which is the least any xlsx writer in Python pays. Each variant
runs in its own process so its peak RSS is its own. Run once: `.venv/bin/python benchmarks/bench_report.py`
(`--rows N` to change the size).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--variant", choices=("report", "floor"))
    parser.add_argument("--workspace", type=Path)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.workspace)))
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
