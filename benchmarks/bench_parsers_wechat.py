"""WeChat Pay trade bill parser vs a bare polars.read_csv of the same file (1,000,000 lines).

    .venv/bin/python benchmarks/bench_parsers_wechat.py [LINES]

Prints lines/s, wall and peak RSS of each (separate child processes, so each peak is its own).
The floor reads the file as strings with no checks at all; the parser decodes strictly, splits on
the backtick grammar, validates every amount, id and time, and checks the summary totals.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHILD = r'''
import json, resource, sys, time
from pathlib import Path
path, mode = Path(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
if mode == "floor":
    import polars as pl
    rows = pl.read_csv(path, infer_schema=False, quote_char=None, truncate_ragged_lines=True).height
else:
    from parsers.base import ParseContext
    from parsers.registry import get_parser
    from rules.loader import load_rules
    rows = get_parser("wechatpay.trade").parse(path, ParseContext(channel="wechat", rules=load_rules("wechatpay"))).bill.height
wall = time.perf_counter() - start
print(json.dumps({"rows": rows, "wall": wall, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def generate(path: Path, lines: int) -> None:
    from recon.synth.wechat import TradeRow, bill_lines

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
                         check=True, cwd=Path(__file__).resolve().parents[1])
    return json.loads(out.stdout)


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wechat_20261120.csv"
        generate(path, lines)
        size = path.stat().st_size / (1 << 20)
        floor, parser = run(path, "floor"), run(path, "parser")
    print(f"wechatpay.trade, {lines:,} lines, {size:.0f} MiB")
    for name, r in (("polars.read_csv (floor)", floor), ("recon parser", parser)):
        print(f"  {name:<24} wall {r['wall']:7.2f} s  {lines / r['wall']:>12,.0f} lines/s  peak RSS {r['rss_mib']:7.0f} MiB")
    print(f"  ratio parser/floor: {parser['wall'] / floor['wall']:.2f}x")


if __name__ == "__main__":
    main()
