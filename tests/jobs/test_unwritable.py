"""A full disk or a read-only workspace (issue 18): one line, exit 4, stages left retryable, never RUNNING.

The real conditions are made in a private mount namespace (`unshare -rm`): a read-only bind mount of
the workspace, and a small tmpfs filled up. Skipped where the kernel refuses user namespaces.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess

import pytest

from tests.jobs.conftest import DAYS, RECON, recon


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not _unshare_works(), reason="needs unshare -rm (user and mount namespaces)")


def in_namespace(script: str) -> subprocess.CompletedProcess:
    return subprocess.run(["unshare", "-rm", "sh", "-euc", script], capture_output=True, text=True, timeout=600)


def test_a_read_only_workspace_still_answers_status_and_a_run_exits_4_in_one_line(ws):
    assert recon(ws, "run", "--date", DAYS[0], "--quiet").returncode == 0
    w = shlex.quote(str(ws))
    done = in_namespace(f"""
        mount --bind {w} {w}; mount -o remount,bind,ro {w}
        {RECON} status --json --since {DAYS[0]} -w {w} > {w}.status.json
        set +e; {RECON} run --date {DAYS[1]} --quiet -w {w}; echo "exit=$?"
    """)
    assert done.stdout.strip().endswith("exit=4"), done.stdout + done.stderr
    [line] = done.stderr.splitlines()
    assert "not writable" in line
    rows = json.loads((ws.parent / f"{ws.name}.status.json").read_text())
    assert {r["state"] for r in rows} == {"SUCCEEDED"}


def test_a_full_disk_ends_with_one_line_and_exit_4_and_the_day_runs_once_space_is_back(ws, tmp_path):
    assert recon(ws, "run", "--date", DAYS[0], "--quiet").returncode == 0
    disk = tmp_path / "disk"
    disk.mkdir()
    d, w = shlex.quote(str(disk)), shlex.quote(str(disk / "ws"))
    done = in_namespace(f"""
        mount -t tmpfs -o size=40m tmpfs {d}; cp -a {shlex.quote(str(ws))} {w}
        dd if=/dev/zero of={d}/filler bs=4k 2>/dev/null || true; truncate -s -160k {d}/filler
        set +e; {RECON} run --date {DAYS[1]} --quiet -w {w}; echo "exit=$?"
        {RECON} status --json --since {DAYS[1]} -w {w} | grep -c RUNNING; rm {d}/filler
        {RECON} run --date {DAYS[1]} --quiet -w {w}; echo "exit=$?"
    """)
    first, running, second = done.stdout.split()
    assert (first, running, second) == ("exit=4", "0", "exit=0"), done.stdout + done.stderr
    [line] = done.stderr.splitlines()
    assert "free" in line and "next:" in line


def test_a_stage_whose_run_died_is_shown_failed_and_retryable_never_running(ws):
    killed = recon(ws, "run", "--date", DAYS[0], "--quiet", env={"RECON_CRASHPOINT": "start-match"})
    assert killed.returncode == -9
    rows = json.loads(recon(ws, "status", "--json", "--since", DAYS[0]).stdout)
    match = next(r for r in rows if r["stage"] == "match")
    assert match["state"] == "FAILED" and "interrupted" in match["error"]
    assert recon(ws, "rerun", "--failed", "--since", DAYS[0], "--quiet").returncode == 0
