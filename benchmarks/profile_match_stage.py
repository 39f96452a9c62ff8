"""Where the match stage spends: layer 1, layers 2-3 and the queue sync of one day, each timed alone.

    nice .venv/bin/python benchmarks/profile_match_stage.py WORKSPACE [DATE] [--runs 2]
    PYTHONPATH=/path/to/other/checkout nice .venv/bin/python benchmarks/profile_match_stage.py WORKSPACE

WORKSPACE is one `bench_day.py --keep` left behind (its day already parsed and matched once).
Re-runs `jobs.stages.match` of the day (what `recon match --date D` and `recon run` run) with its
steps wrapped in timers and prints, per step, wall time, CPU time (all of DuckDB's and Polars'
threads: on a shared machine the wall time drifts with the neighbours, the CPU seconds much less)
and the step's own peak resident memory (Linux: the high-water mark reset before each step, as
jobs.meter does). A re-run writes the same results and syncs nothing new, so runs compare.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))  # after PYTHONPATH: another checkout wins
from step_profile import Steps, stage_args  # noqa: E402  (benchmarks/, this script's folder)


def main() -> None:
    args = stage_args(__doc__)

    from jobs import stages
    from jobs.catalog import open_workspace
    from recon.matching import day, layer2_bills, layers23

    steps = Steps()
    timed = steps.wrap

    # inner steps first: their peaks are their own; a step's outer total includes its inner ones
    timed(layers23, "load_bill", "  layers 2-3: today's bill read")
    timed(layers23, "load_parts", "  layers 2-3: look-back days read")
    timed(layer2_bills, "crossday", "  layers 2-3: cross-day rows of layer 1")
    timed(day, "match_day", "layer 1 (match_day)")
    timed(day, "run_layers23", "layers 2-3 (run_layers23, incl. our side)")
    timed(stages, "sync_results", "queue sync (sync_results)")
    ws = open_workspace(args.workspace)
    steps.run('whole match stage', lambda: stages.match(ws, args.date), args.runs)


if __name__ == "__main__":
    main()
