"""How fast does `recon` start? `recon --help` next to a bare `python -c pass` (the floor).

Cron starts recon every few minutes and people type it all day, so the command line imports only
Typer and rich at start; every heavy library (polars, duckdb, sqlalchemy, openpyxl, pydantic) is
imported inside the command that needs it. The goal is `recon --help` under 0.3 s on a quiet
machine. Timings are the best of N runs, each in a fresh process; the floor is measured in the same
run so a busy machine shows up in both figures.

    .venv/bin/python benchmarks/bench_cli_start.py [--runs 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

EXE = Path(sys.executable).with_name("recon")


def best(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    runs = ap.parse_args().runs
    floor = best([sys.executable, "-c", "pass"], runs)
    imports = best([sys.executable, "-c", "import cli"], runs)
    helped = best([str(EXE), "--help"], runs)
    print(f"python -c pass (floor)   {floor:6.3f} s")
    print(f"import cli               {imports:6.3f} s")
    print(f"recon --help             {helped:6.3f} s   ({helped - floor:.3f} s above the floor; goal < 0.300 s)")


if __name__ == "__main__":
    main()
