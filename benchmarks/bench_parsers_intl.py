"""Benchmark: stripe.balance, paypal.stl, adyen.settlement on 1,000,000-line files vs bare polars.

For each format a synthetic file (parsers/synth_intl.py, totals consistent) is written to a temp
dir; then, each in a fresh subprocess so peak RSS is per run, we time (a) `polars.read_csv` of the
same file with every column as a string, the floor for reading it at all, and (b) the full parser
(decode, checks, standardized bill, schema validation) through `parsers.registry.parse_file`.
Prints lines/s, wall time, peak RSS and the ratio parser / polars (goal: within 2x).

Fairness: both clocks start after the child's imports (polars alone, or polars plus the parser
stack; both import times are printed apart), floor and parser alternate `--repeat` times and the
best run of each is compared (the machine is shared; every run is printed, and the CPU seconds of
the best runs, which vary less than wall time when other work competes for the cores). The PayPal floor reads
every column of the body, from its CH line: the older floor read the ragged file with the width of
its first row (RH, 6 fields) and so dropped 16 of the 22 columns; it is still timed and printed.

    .venv/bin/python benchmarks/bench_parsers_intl.py [--lines 1000000] [--repeat 2]
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
import polars as pl
if mode == "parser":
    from zoneinfo import ZoneInfo
    from parsers.base import ParseContext
    from parsers.registry import get_parser, parse_file
    from rules.loader import load_rules
    ctx = ParseContext(channel="bench", rules=load_rules(rules), zone=ZoneInfo("Asia/Shanghai"))
    get_parser(fmt)
def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime
imported, cpu0 = time.perf_counter(), cpu()
if mode == "polars" and fmt == "paypal.stl":
    # The body from the CH line on, every column (SB rows are the widest): what the parser reads.
    head = open(path, "rb").read(1 << 16).split(b"\n")
    ch = next(i for i, line in enumerate(head) if line.lstrip(b"\xef\xbb\xbf").startswith((b'"CH"', b"CH,")))
    width = head[ch].count(b",") + 1
    pl.read_csv(path, has_header=False, skip_lines=ch, schema={f"c{i}": pl.String for i in range(width)})
elif mode == "narrow":
    pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True, has_header=False)  # the older PayPal floor
elif mode == "polars":
    pl.read_csv(path, infer_schema=False)
else:
    n = parse_file(Path(path), ctx, fmt)[1].bill.height
done = time.perf_counter()
print(json.dumps({"wall": done - imported, "cpu": cpu() - cpu0, "imports": imported - t0,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(mode: str, fmt: str, path: Path, rules: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, mode, fmt, str(path), rules], check=True,
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def best(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["wall"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2, help="alternating floor/parser runs per format; the best of each counts")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.synth.intl import write_adyen, write_paypal, write_stripe

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        write_stripe(d / "stripe.csv", args.lines - 1)
        write_paypal(d / "paypal_stl.csv", args.lines - 12)
        write_adyen(d / "adyen_sdr.csv", args.lines - 1)
        print(f"generated 3 x {args.lines:,} lines in {time.perf_counter() - t0:.1f}s; best of {args.repeat} runs each")
        print(f"{'format':18} {'lines':>9} {'MB':>5} {'polars s':>9} {'parser s':>9} {'ratio':>6} {'lines/s':>10} "
              f"{'RSS pl':>7} {'RSS parser':>10} {'cpu pl/parser':>14}  {'imports pl/parser':>17}  parser runs")
        for fmt, (name, rules) in FORMATS.items():
            path = d / name
            lines = sum(1 for _ in open(path, "rb"))
            floors, ours = [], []
            for _ in range(args.repeat):
                floors.append(run("polars", fmt, path, rules))
                ours.append(run("parser", fmt, path, rules))
            base, me = best(floors), best(ours)
            walls = ", ".join(f"{r['wall']:.2f}" for r in ours)
            print(f"{fmt:18} {lines:>9,} {path.stat().st_size / 1e6:>5.0f} {base['wall']:>9.2f} {me['wall']:>9.2f} "
                  f"{me['wall'] / base['wall']:>6.2f} {lines / me['wall']:>10,.0f} {base['rss_mb']:>6.0f}M {me['rss_mb']:>9.0f}M"
                  f" {base['cpu']:>6.2f}/{me['cpu']:.2f}s"
                  f"  {base['imports']:>8.2f}/{me['imports']:.2f}s  {walls}")
            if fmt == "paypal.stl":
                narrow = best([run("narrow", fmt, path, rules) for _ in range(args.repeat)])
                print(f"{'  older floor':18} {'':>9} {'':>5} {narrow['wall']:>9.2f} {'':>9} {me['wall'] / narrow['wall']:>6.2f}"
                      f" {'':>10} {narrow['rss_mb']:>6.0f}M  (first-row width: 6 of 22 columns)")


if __name__ == "__main__":
    main()
