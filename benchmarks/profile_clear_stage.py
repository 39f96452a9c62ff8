"""Where the clear stage spends: holdback, month volume, fees and splits, posting and the files, each
timed alone with its own peak memory.

    nice .venv/bin/python benchmarks/profile_clear_stage.py WORKSPACE [DATE] [--runs 1]
    PYTHONPATH=/path/to/other/checkout nice .venv/bin/python benchmarks/profile_clear_stage.py WORKSPACE

WORKSPACE is one `bench_day.py --keep` left behind (its day already matched and cleared once).
Re-runs `recon.clearing.clear_day` of the day with its steps wrapped in timers and prints, per step,
wall time, CPU time (all threads: on a shared machine the CPU seconds drift much less than the wall)
and the step's own peak resident memory (Linux: the high-water mark reset before each step, as
jobs.meter does), next to the resident memory it started from. A re-run re-clears to the same files
and posts nothing new, so runs compare. An inner step's peak is its own; the outer step's total
includes the inner ones.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))  # after PYTHONPATH: another checkout wins
from step_profile import Steps, stage_args  # noqa: E402  (benchmarks/, this script's folder)


def main() -> None:
    args = stage_args(__doc__)

    import recon.clearing as clearing
    from jobs.catalog import open_workspace
    from recon.clearing import holdback, output

    steps = Steps()
    timed = steps.wrap

    # inner steps first: their peaks are their own
    timed(holdback, "our_rows", "  holdback: our rows of layer 1")
    timed(output, "detail_lines", "  files: detail lines")
    timed(clearing, "classify_frame", "holdback (classify_frame)")
    timed(clearing, "month_volume", "month volume")
    timed(clearing, "check_day", "refusals of the whole day (check_day)")
    timed(clearing, "compute_frame", "fees, splits, settlements (compute_frame)")
    timed(clearing, "bookings", "bookings")
    timed(clearing, "post_day", "posting (post_day)")
    timed(clearing, "write_day", "files (write_day)")  # before DayFiles
    timed(getattr(output, "DayFiles", None), "add", "files: staged per batch (DayFiles.add)")
    ws = open_workspace(args.workspace)
    steps.run('whole clear stage', lambda: clearing.clear_day(ws, args.date), args.runs)


if __name__ == "__main__":
    main()
