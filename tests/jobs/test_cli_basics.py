"""What users look for first: --version, -h, shell completion, a legend under status, times in the zone."""

from __future__ import annotations

import subprocess
from importlib.metadata import version

from tests.jobs.conftest import DAYS, RECON, recon


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RECON, *args], capture_output=True, text=True, timeout=120)


def test_version_short_help_and_completion():
    assert run("--version").stdout.strip() == f"recon {version('recon')}"
    short = run("-h")
    assert short.returncode == 0 and "--install-completion" in short.stdout and "check" in short.stdout
    assert run("run", "-h").returncode == 0


def test_status_has_a_legend_and_names_the_zone_of_its_times(tmp_path):
    from tests.jobs.conftest import make_workspace

    ws = make_workspace(tmp_path / "ws", drop=False)
    assert recon(ws, "run", "--date", DAYS[0], "--quiet").returncode == 3  # waiting: a next attempt time
    shown = recon(ws, "status", "--since", DAYS[0])
    assert shown.returncode == 0
    text = " ".join(shown.stdout.split())
    assert "times in Asia/Shanghai" in text and "✔ succeeded" in text and "! manual" in text
    assert " next " in text
