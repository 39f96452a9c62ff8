"""Benchmark: stripe.balance, paypal.stl, adyen.settlement on 1,000,000-line files vs bare polars.

For each format a synthetic file (parsers/synth_intl.py, totals consistent) is written to a temp
dir; then, each in a fresh subprocess so peak RSS is per run, we time (a) `polars.read_csv` of the
same file with every column as a string, the floor for reading it at all, and (b) the full parser
(decode, checks, standardized bill, schema validation). Prints lines/s, wall time, peak RSS and
the ratio parser / polars (goal: within 2x).

    .venv/bin/python benchmarks/bench_parsers_intl.py [--lines 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FORMATS = {"stripe.balance": ("stripe.csv", "stripe"), "paypal.stl": ("paypal_stl.csv", "paypal"),
           "adyen.settlement": ("adyen_sdr.csv", "adyen")}

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, fmt, path, rules = sys.argv[1:5]
t0 = time.perf_counter()
if mode == "polars":
    import polars as pl
    # PayPal rows have different widths per row type: read it as ragged strings, no quoting games.
    pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True, has_header=fmt != "paypal.stl")
    n = None
else:
    from parsers.base import ParseContext
    from parsers.registry import parse_file
    from rules.loader import load_rules
    _, parsed = parse_file(Path(path), ParseContext(channel="bench", rules=load_rules(rules)), fmt)
    n = parsed.bill.height
wall = time.perf_counter() - t0
print(json.dumps({"wall": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rows": n}))
"""


def run(mode: str, fmt: str, path: Path, rules: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, mode, fmt, str(path), rules], check=True,
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from parsers.synth_intl import write_adyen, write_paypal, write_stripe

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        write_stripe(d / "stripe.csv", args.lines - 1)
        write_paypal(d / "paypal_stl.csv", args.lines - 12)
        write_adyen(d / "adyen_sdr.csv", args.lines - 1)
        print(f"generated 3 x {args.lines:,} lines in {time.perf_counter() - t0:.1f}s")
        print(f"{'format':18} {'lines':>9} {'MB':>6} {'polars s':>9} {'parser s':>9} {'ratio':>6} {'lines/s':>10} {'RSS pl':>7} {'RSS parser':>10}")
        for fmt, (name, rules) in FORMATS.items():
            path = d / name
            lines = sum(1 for _ in open(path, "rb"))
            base = run("polars", fmt, path, rules)
            ours = run("parser", fmt, path, rules)
            print(f"{fmt:18} {lines:>9,} {path.stat().st_size / 1e6:>6.0f} {base['wall']:>9.2f} {ours['wall']:>9.2f} "
                  f"{ours['wall'] / base['wall']:>6.2f} {lines / ours['wall']:>10,.0f} {base['rss_mb']:>6.0f}M {ours['rss_mb']:>9.0f}M")


if __name__ == "__main__":
    main()
