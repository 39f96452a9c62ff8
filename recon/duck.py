"""Every in-memory DuckDB connection recon opens, with its progress bar off.

DuckDB draws a progress bar on stdout, terminal or not, for any statement that runs past 2 s: on a
big or busy day that text lands in front of `recon ... --json` output and in cron mail. It is not
settable through `config`, so each connection turns it off as it opens.
"""

from __future__ import annotations

import duckdb


def connect(config: dict[str, str | int | bool] | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config=config or {})
    con.execute("SET enable_progress_bar = false")
    return con
