"""The layout holds: imports point one way, the library imports at the top, modules stay small.

The import contracts live in pyproject.toml ([tool.importlinter]); this test runs them, so a new
back-edge fails `make test` and CI. The rest are the rules the contracts cannot see: no import
hidden inside a function in the library (it would hide a cycle), no module beyond 400 lines.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIBRARY = ("recon", "parsers", "rules", "jobs")
MAX_LINES = 400


def _modules(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (REPO / pkg).rglob("*.py"))


def test_the_import_contracts_hold():
    found = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                            "sys.exit(lint_imports(no_cache=True, no_logo=True))"],
                           cwd=REPO, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    assert found.returncode == 0, found.stdout[-3000:] + found.stderr[-2000:]
    assert "BROKEN" not in found.stdout and "0 broken" in found.stdout


def _function_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found += [f"{path.relative_to(REPO)}:{sub.lineno} in {node.name}" for sub in ast.walk(node)
                      if isinstance(sub, (ast.Import, ast.ImportFrom))]
    return found


def test_no_function_level_imports_below_the_commands():
    # Lazy imports are for start-up speed, which only the command line needs (commands/).
    hidden = [hit for path in _modules(*LIBRARY) for hit in _function_imports(path)]
    assert hidden == []


@pytest.mark.parametrize("package", LIBRARY)
def test_no_module_over_400_lines(package):
    long = {str(p.relative_to(REPO)): n for p in _modules(package)
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_nothing_imports_the_command_line_or_the_tests():
    importers = []
    for path in _modules(*LIBRARY, "commands"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                top = name.split(".")[0]
                if top in ("tests", "cli") or (top == "commands" and not str(path).startswith(str(REPO / "commands"))):
                    importers.append(f"{path.relative_to(REPO)}: {name}")
    assert importers == []
