"""Benchmark: a 200,000-entry MT940 and camt.053 through their parsers, with bounded memory.

Writes both files with `tests.synth.bank` (100 daily statements of 2,000 entries, balances
chained), then parses each in a fresh subprocess so the peak RSS printed is that parse's alone:
wall time, entries per second, peak RSS, and the input size for scale. The camt parser streams
(1 MiB chunks, each `Ntry` detached once read), so its peak is the rows, not the XML tree.

    .venv/bin/python benchmarks/bench_bank_parsers.py [--entries 200000] [--keep DIR]
"""

from __future__ import annotations

from zoneinfo import ZoneInfo
import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _child(fmt: str, path: str) -> None:
    sys.path.insert(0, str(REPO))
    from parsers.base import ParseContext
    from parsers.registry import get_parser
    from rules.loader import load_rules

    ctx = ParseContext(channel="bench", rules=load_rules("bank"), zone=ZoneInfo("Asia/Shanghai"))
    start = time.perf_counter()
    parsed = get_parser(fmt).parse(Path(path), ctx)
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KiB
    print(json.dumps({"rows": parsed.bill.height, "balances": parsed.balances.height, "wall": wall, "peak_mib": peak_kib / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description="bank parser benchmark")
    ap.add_argument("--entries", type=int, default=200_000)
    ap.add_argument("--keep", type=Path, help="write the inputs here and keep them")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="recon-bench-"))
    subprocess.run([sys.executable, "-m", "tests.synth.bank", str(folder), "--entries", str(args.entries)],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    print(f"{'format':<10} {'entries':>8} {'size MiB':>9} {'wall s':>8} {'entries/s':>10} {'peak RSS MiB':>13}")
    for fmt, name in (("mt940", "bench.mt940"), ("camt.053", "bench.camt053.xml")):
        path = folder / name
        out = subprocess.run([sys.executable, __file__, "--child", fmt, str(path)], cwd=REPO,
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        size = path.stat().st_size / 2**20
        print(f"{fmt:<10} {r['rows']:>8} {size:>9.1f} {r['wall']:>8.2f} {r['rows'] / r['wall']:>10.0f} {r['peak_mib']:>13.1f}")
    if not args.keep:
        for name in ("bench.mt940", "bench.camt053.xml"):
            (folder / name).unlink(missing_ok=True)
        folder.rmdir()


if __name__ == "__main__":
    main()
