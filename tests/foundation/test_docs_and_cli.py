"""Meta-tests: every setting is documented, commands have --help. (Start-up time is measured in
benchmarks/bench_cli_start.py, not here: a timed test fails on a busy machine.)"""

from __future__ import annotations

import typing
from pathlib import Path

from pydantic import BaseModel

from recon.config.settings import ChannelSettings, Settings

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _models(annotation: object) -> list[type[BaseModel]]:
    """The models inside an annotation: `X | None`, `Annotated[A | B, ...]` (the fetch union)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def _paths(model: type[BaseModel], prefix: str) -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        if name == "channels":
            out += _paths(ChannelSettings, "channels.<name>.")
        elif subs := _models(field.annotation):
            out += sorted({p for sub in subs for p in _paths(sub, f"{prefix}{name}.")})
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
    from recon.errors import PRECEDENCE, ExitCode

    table = README[README.index("## Exit codes"):README.index("## Configuration")]
    assert "| code | meaning | what cron should do |" in table
    for code in ExitCode:  # every code the program can exit with, with what a cron wrapper does
        row = next(line for line in table.splitlines() if line.startswith(f"| {int(code)} |"))
        assert row.count("|") == 4 and row.rstrip(" |").split("|")[-1].strip(), row
    assert set(PRECEDENCE) == set(ExitCode)
