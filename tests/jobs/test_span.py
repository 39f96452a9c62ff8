"""`recon run --since D1 --until D2 --jobs N`: the same outputs as one day after another."""

from __future__ import annotations

import json
import shutil

from tests.jobs.conftest import DAYS, recon


def _outputs(root) -> dict[str, bytes]:
    found = sorted([*root.glob("results/*/*.parquet"), *root.glob("clearing/*/*.csv")])
    return {str(p.relative_to(root)): p.read_bytes() for p in found}


def test_two_jobs_give_the_same_results_as_a_serial_run(ws, tmp_path):
    serial = tmp_path / "serial"
    shutil.copytree(ws, serial)
    first, last = DAYS[0], DAYS[-1]
    one = recon(serial, "run", "--since", first, "--until", last, "--json", timeout=600)
    two = recon(ws, "run", "--since", first, "--until", last, "--jobs", "2", "--json", timeout=600)
    assert (one.returncode, two.returncode) == (0, 0), two.stderr + one.stderr
    days = json.loads(two.stdout)
    assert [d["date"] for d in days] == list(DAYS)
    assert all(set(d["stages"].values()) == {"SUCCEEDED"} for d in days)
    assert [d["rows"] for d in days] == [d["rows"] for d in json.loads(one.stdout)]
    outputs = _outputs(ws)
    assert len(outputs) >= 2 * len(DAYS) and outputs == _outputs(serial)
    again = recon(ws, "run", "--since", first, "--until", last, "--jobs", "2", "--json", timeout=600)
    assert again.returncode == 0 and _outputs(ws) == outputs


def test_a_range_needs_its_end_after_its_start(ws):
    done = recon(ws, "rerun", "--since", DAYS[-1], "--until", DAYS[0])
    assert done.returncode == 2 and "before --since" in done.stderr
