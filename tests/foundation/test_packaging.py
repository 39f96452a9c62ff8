"""What `pip install recon` ships: the five packages, their rule and SQL files, the licence; no tests.

Statement writers for tests and benchmarks live in tests/synth/ precisely so that they do not ship;
this test builds the wheel the way a release would and reads its file list.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> list[str]:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                            "-w", str(out), str(REPO)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = out.glob("recon-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def test_the_wheel_holds_the_packages_with_their_data_files(wheel_names):
    tops = {n.split("/")[0] for n in wheel_names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"cli.py", "commands", "jobs", "parsers", "recon", "rules"}
    for needed in ("rules/wechatpay.toml", "rules/settlement.toml", "rules/clearing.toml", "rules/accounting.toml",
                   "recon/matching/sql/key_pass.sql", "recon/store/migrations/env.py"):
        assert needed in wheel_names
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in wheel_names)


def test_the_wheel_holds_no_tests_fixtures_or_benchmark_writers(wheel_names):
    shipped = [n for n in wheel_names if "synth" in n or n.startswith(("tests/", "benchmarks/", "scripts/"))
               or "/tests/" in n or n.endswith(("conftest.py", ".parquet", ".xlsx"))]
    assert shipped == []
