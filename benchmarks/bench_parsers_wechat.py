"""WeChat Pay trade bill parser vs a bare polars.read_csv of the same file (1,000,000 lines).

    .venv/bin/python benchmarks/bench_parsers_wechat.py [--lines 1000000] [--repeat 3]

The floor reads the file as strings with no checks at all; the parser decodes strictly, splits on
the backtick grammar, validates every amount, id and time, and checks the summary totals. Each run
is a fresh child process, so its peak RSS is its own, and floor and parser runs alternate, so a
busy machine slows both alike. Imports happen before the clock starts in both children (the
parser's, plugins and schema library included, cost a fixed fraction of a second per process,
printed apart). Prints, over `--repeat` runs of each, the best lines/s, wall and CPU time (user +
system, steadier than wall on a shared machine), the highest peak RSS, and the ratios parser /
floor (goal: within 2x).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHILD = r'''
import json, os, resource, sys, time
from pathlib import Path
path, mode = Path(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
import polars as pl
if mode == "parser":
    from zoneinfo import ZoneInfo
    from parsers.base import ParseContext
    from parsers.registry import get_parser
    from rules.loader import load_rules
    parser, rules = get_parser("wechatpay.trade"), load_rules("wechatpay")
imports = time.perf_counter() - start
cpu0, start = os.times(), time.perf_counter()
if mode == "floor":
    rows = pl.read_csv(path, infer_schema=False, quote_char=None, truncate_ragged_lines=True).height
else:
    rows = parser.parse(path, ParseContext(channel="wechat", rules=rules, zone=ZoneInfo("Asia/Shanghai"))).bill.height
wall, cpu1 = time.perf_counter() - start, os.times()
print(json.dumps({"rows": rows, "wall": wall, "cpu": cpu1.user + cpu1.system - cpu0.user - cpu0.system,
                  "imports": imports, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def generate(path: Path, lines: int) -> None:
    from tests.synth.wechat import TradeRow, bill_lines

    rng = random.Random(1)
    start = dt.datetime(2026, 11, 20)

    def rows():
        for i in range(lines):
            amount = Decimal(rng.randint(1, 999_999)) / 100
            yield TradeRow(start + dt.timedelta(seconds=i % 86_400), f"42000{i:023d}", f"S{i:013d}", amount,
                           (amount * Decimal("0.006")).quantize(Decimal("0.01")))

    with open(path, "w", encoding="utf-8") as fh:
        for line in bill_lines(rows(), "1900000109"):
            fh.write(line + "\n")


def run(path: Path, mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), mode], capture_output=True, text=True,
                         check=True, cwd=REPO)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wechat_20261120.csv"
        generate(path, args.lines)
        size = path.stat().st_size / (1 << 20)
        runs: dict[str, list[dict]] = {"floor": [], "parser": []}
        for _ in range(args.repeat):
            for mode in runs:
                runs[mode].append(run(path, mode))
    assert all(r["rows"] == args.lines for r in runs["parser"]), "the parser lost or invented rows"
    best = {mode: min(rs, key=lambda r: r["wall"]) | {"cpu": min(r["cpu"] for r in rs),
                                                      "rss_mib": max(r["rss_mib"] for r in rs)}
            for mode, rs in runs.items()}
    floor, parser = best["floor"], best["parser"]
    print(f"wechatpay.trade, {args.lines:,} lines, {size:.0f} MiB, best of {args.repeat} runs each")
    for name, r in (("polars.read_csv (floor)", floor), ("recon parser", parser)):
        print(f"  {name:<24} {args.lines / r['wall']:>10,.0f} lines/s  wall {r['wall']:6.2f} s  "
              f"cpu {r['cpu']:6.2f} s  peak RSS {r['rss_mib']:6.0f} MiB")
    print(f"  ratio parser/floor: wall {parser['wall'] / floor['wall']:.2f}x, cpu {parser['cpu'] / floor['cpu']:.2f}x, "
          f"peak RSS {parser['rss_mib'] / floor['rss_mib']:.2f}x")
    print(f"  (not timed: imports, {parser['imports']:.2f} s for the parser, {floor['imports']:.2f} s for polars alone)")


if __name__ == "__main__":
    main()
