"""A workspace whose WeChat channel fetches from a local drop folder, for subprocess CLI tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RECON = str(Path(sys.executable).with_name("recon"))
DAYS = ("2026-11-20", "2026-11-21", "2026-11-22")

CONFIG = '''\
[store]
url = "sqlite:///recon.db"

[defaults]
timezone = "Asia/Shanghai"
lease_seconds = 60

[channels.wechat]
format = "wechatpay.trade"
account = "1900000109"

[channels.wechat.fetch]
transport = "local"
path = "drop/wechat_{date:%Y%m%d}.csv"
retry = ["1s", "1s", "1s"]
deadline = "D+3650 12:00"

[channels.wechat.internal]
source = "file"
path = "internal/wechat_{date:%Y-%m-%d}.csv"
'''


def make_workspace(root: Path, *, days=DAYS, drop=True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "recon.toml").write_text(CONFIG, encoding="utf-8")
    (root / "drop").mkdir(exist_ok=True)
    shutil.copytree(REPO / "sample_statements" / "internal", root / "internal")
    if drop:
        for day in days:
            name = f"wechat_{day.replace('-', '')}.csv"
            shutil.copy(REPO / "sample_statements" / "wechat" / name, root / "drop" / name)
    return root


def recon(ws: Path, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("RECON_WORKSPACE", None)
    return subprocess.run([RECON, *args, "--workspace", str(ws)], capture_output=True, text=True,
                          env=full_env, timeout=timeout)


@pytest.fixture()
def ws(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ws")
