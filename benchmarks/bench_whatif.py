"""The what-if over history next to the real match of the same day.

    nice .venv/bin/python benchmarks/bench_whatif.py --rows 200000 [--keep DIR]

Generates one day of N rows a side (benchmarks/bench_match.generate: ~1% broken in known ways),
matches it for real (layer 1 only, `match_day`), then, each in a fresh process so peak RSS is its
own: the one-day dry run (`match_day(dry_run=True)`, what `recon match --date D --dry-run` runs)
and `what_if` over that day with a candidate rule file (an amount tolerance of 1.00). Prints
seconds, peak RSS and the rows the tolerance moves. Goal (issue 23): the what-if costs about a dry
run per stored day, not more.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_match import DAY, generate  # noqa: E402

STEP = """
import json, resource, sys, time
sys.path.insert(0, {repo!r})
from pathlib import Path
from jobs.catalog import open_workspace
from recon.config.ruleset import MatchRules
from recon.matching.layer1_day import match_day
from recon.matching.whatif import what_if
import datetime as dt
ws, day = open_workspace(Path({root!r})), dt.date.fromisoformat({day!r})
loose = MatchRules(amount_tolerance="1.00")
start = time.perf_counter()
moved = None
if {step!r} == "match":
    match_day(ws, day)
elif {step!r} == "dry-run":
    summary = match_day(ws, day, rules_override=loose, dry_run=True)
    moved = sum(c.rows for c in summary.changes)
else:
    moved = what_if(ws, day, day, rules_override=loose).as_dict()["totals"]["rows_changed"]
print(json.dumps({{"seconds": time.perf_counter() - start, "moved": moved,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}}))
"""


def step(root: Path, name: str) -> dict:
    code = STEP.format(repo=str(REPO), root=str(root), day=str(DAY), step=name)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        generate(root, args.rows, "2GB")
        for name in ("match", "dry-run", "what-if"):
            got = step(root, name)
            moved = "" if got["moved"] is None else f", {got['moved']} rows would move"
            print(f"{args.rows:>10,} rows a side  {name:<8} {got['seconds']:7.2f} s  {got['peak_mib']:6d} MiB{moved}")
    print(f"(ru_maxrss of each step's own process; {time.strftime('%Y-%m-%d %H:%M')})")


if __name__ == "__main__":
    main()
