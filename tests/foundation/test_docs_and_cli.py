"""Meta-tests: every setting is documented, the CLI starts fast, commands have --help."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from pydantic import BaseModel

from recon.config import Settings

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _paths(model: type[BaseModel], prefix: str) -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        inner = getattr(ann, "__args__", None)
        sub = next((a for a in (inner or (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if name == "channels":
            from recon.config import ChannelSettings

            out += _paths(ChannelSettings, "channels.<name>.")
        elif sub is not None:
            out += _paths(sub, f"{prefix}{name}.")
        else:
            out.append(f"{prefix}{name}")
    return out


def test_every_setting_is_in_the_readme():
    missing = []
    for path in _paths(Settings, ""):
        head, _, leaf = path.rpartition(".")
        if f"`{path}`" not in README and not (f"`{head}." in README and leaf in README):
            missing.append(path)
    assert not missing, f"settings not documented in README.md: {missing}"


def test_readme_names_both_commands_and_exit_codes():
    assert "make demo" in README and "make test" in README
    for code in range(6):
        assert f"| {code} |" in README


def test_help_is_fast():
    exe = Path(sys.executable).with_name("recon")
    best = min(_timed([str(exe), "--help"]) for _ in range(5))
    assert best < 0.5, f"recon --help took {best:.2f}s"


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    return elapsed
