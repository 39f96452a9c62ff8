"""Benchmark: a 200,000-entry MT940 and camt.053 through their parsers, with bounded memory.

Writes both files with `tests.synth.bank` (100 daily statements of 2,000 entries, balances
chained), then parses each in a fresh subprocess so the peak RSS printed is that parse's alone:
wall and CPU time (CPU seconds say more on a shared, loaded machine), entries per second, peak RSS,
and the input size for scale. The camt parser streams (1 MiB chunks through lxml, each `Ntry`
detached once read), so its peak is the rows, not the XML tree. The floor printed beside each is a
bare pass over the same file in the same run: the MT940 text decoded and its `:61:` lines counted,
an lxml iterparse of the camt file clearing each `Ntry`.

    .venv/bin/python benchmarks/bench_bank_parsers.py [--entries 200000] [--keep DIR] [--only mt940]
    .venv/bin/python benchmarks/bench_bank_parsers.py --entries 50000 --profile 25

`--profile N` runs each parse under cProfile and prints its N most expensive functions (by own
time, then cumulative) after the table; the wall times printed then include the profiler's cost.
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


def _floor(fmt: str, path: str) -> None:
    """The bare pass a parse is measured against: MT940 text split into lines; camt iterparsed by
    lxml with each `Ntry` cleared and detached as it closes."""
    start = time.perf_counter()
    if fmt == "mt940":
        rows = Path(path).read_bytes().decode("utf-8").count("\n:61:")
    else:
        from lxml import etree

        rows = 0
        for _, elem in etree.iterparse(path, events=("end",), tag="{*}Ntry", resolve_entities=False, no_network=True):
            rows += 1
            elem.clear()
            elem.getparent().remove(elem)
    print(json.dumps({"rows": rows, "wall": time.perf_counter() - start}))


def _child(fmt: str, path: str, profile: int = 0) -> None:
    sys.path.insert(0, str(REPO))
    from parsers.base import ParseContext
    from parsers.registry import get_parser
    from rules.loader import load_rules

    ctx = ParseContext(channel="bench", rules=load_rules("bank"), zone=ZoneInfo("Asia/Shanghai"))
    parser = get_parser(fmt)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start, cpu = time.perf_counter(), time.process_time()
    parsed = parser.parse(Path(path), ctx)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(profile)
        stats.sort_stats("cumulative").print_stats(profile)
        print(out.getvalue(), file=sys.stderr)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KiB
    print(json.dumps({"rows": parsed.bill.height, "balances": parsed.balances.height, "wall": wall, "cpu": cpu,
                      "peak_mib": peak_kib / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description="bank parser benchmark")
    ap.add_argument("--entries", type=int, default=200_000)
    ap.add_argument("--keep", type=Path, help="write the inputs here and keep them")
    ap.add_argument("--only", choices=("mt940", "camt.053"), help="benchmark one format only")
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile each parse; print the top N functions")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--floor", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child, profile=args.profile)
        return
    if args.floor:
        _floor(*args.floor)
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="recon-bench-"))
    subprocess.run([sys.executable, "-m", "tests.synth.bank", str(folder), "--entries", str(args.entries)],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    profiles: list[str] = []
    print(f"{'format':<10} {'entries':>8} {'size MiB':>9} {'wall s':>8} {'cpu s':>7} {'entries/s':>10} "
          f"{'peak RSS MiB':>13} {'floor s':>8} {'ratio':>6}")
    for fmt, name in (("mt940", "bench.mt940"), ("camt.053", "bench.camt053.xml")):
        if args.only and fmt != args.only:
            continue
        path = folder / name
        done = subprocess.run([sys.executable, __file__, "--child", fmt, str(path), "--profile", str(args.profile)],
                              cwd=REPO, check=True, capture_output=True, text=True)
        out = done.stdout
        if args.profile:
            profiles.append(f"--- {fmt} ---\n{done.stderr}")
        r = json.loads(out.strip().splitlines()[-1])
        floor = json.loads(subprocess.run([sys.executable, __file__, "--floor", fmt, str(path)], cwd=REPO, check=True,
                                          capture_output=True, text=True).stdout)
        size = path.stat().st_size / 2**20
        print(f"{fmt:<10} {r['rows']:>8} {size:>9.1f} {r['wall']:>8.2f} {r['cpu']:>7.2f} "
              f"{r['rows'] / r['wall']:>10.0f} {r['peak_mib']:>13.1f} "
              f"{floor['wall']:>8.2f} {r['wall'] / floor['wall']:>5.1f}x")
    for text in profiles:
        print(text)
    if not args.keep:
        for name in ("bench.mt940", "bench.camt053.xml"):
            (folder / name).unlink(missing_ok=True)
        folder.rmdir()


if __name__ == "__main__":
    main()
