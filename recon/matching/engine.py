"""The DuckDB connection layer 1 runs in, and the SQL it runs.

Matching a day is a handful of set operations over millions of rows; DuckDB does them out of core.
Its `memory_limit` and `temp_directory` come from the workspace's `[match]` settings so a 10M-row
day spills to disk instead of being killed. No ICU extension is loaded (none downloads offline), so
TIMESTAMPTZ values stay plain UTC instants; day boundaries arrive as UTC parameters from Python.

SQL lives in `sql/*.sql` (STYLE.md). Statements are templates: identifiers that vary by rule (which
key column a pass compares) are substituted from validated names only; values are bound parameters.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb

from recon import duck

SQL_DIR = Path(__file__).resolve().parent / "sql"


def connect(*, memory_limit: str = "2GB", temp_dir: Path | None = None,
            threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the limits the settings name."""
    config: dict[str, str | int | bool] = {"memory_limit": memory_limit}
    if temp_dir is not None:
        Path(temp_dir).mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(temp_dir)
    if threads:
        config["threads"] = threads
    return duck.connect(config)


def connect_for(ws) -> duckdb.DuckDBPyConnection:  # ws: recon.workspace.Workspace
    settings = ws.settings.match
    return connect(memory_limit=settings.memory_limit, temp_dir=ws.temp_dir, threads=settings.threads)


@cache
def _text(name: str) -> str:
    # Whole-line comments are for readers of the file; dropped so fragments compose cleanly.
    lines = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("--"))


def sql(name: str, **identifiers: str) -> str:
    """The statement in `sql/<name>.sql` with `{placeholders}` filled by trusted SQL fragments."""
    text = _text(name)
    return text.format(**identifiers) if identifiers else text


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None, **identifiers: str) -> None:
    """Execute every statement of one SQL file (statements end with `;` on their own line end)."""
    for statement in _split(sql(name, **identifiers)):
        # DuckDB refuses parameters a statement does not use, so pass each only what it names.
        used = {k: v for k, v in (params or {}).items() if f"${k}" in statement}
        con.execute(statement, used) if used else con.execute(statement)


def _split(text: str) -> list[str]:
    return [s.strip() for s in text.split(";\n") if s.strip().rstrip(";").strip()]
