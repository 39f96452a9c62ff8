"""Every DuckDB connection the product opens goes through recon.duck, which turns DuckDB's stdout
progress bar off (it would land in front of `--json` output and in cron mail on a long statement)."""

from __future__ import annotations

import re
from pathlib import Path

from recon import duck

REPO = Path(__file__).resolve().parents[2]
OPENS = re.compile(r"\bduckdb\.(connect|sql|query|execute)\(")


def test_recon_duck_connections_draw_no_progress_bar():
    con = duck.connect({"threads": 1})
    try:
        assert con.execute("SELECT current_setting('enable_progress_bar')").fetchall() == [(False,)]
        assert con.execute("SELECT current_setting('threads')").fetchall() == [(1,)]
    finally:
        con.close()


def test_no_product_module_opens_duckdb_itself():
    sources = [p for top in ("recon", "parsers", "jobs", "commands", "rules") for p in (REPO / top).rglob("*.py")]
    opened = [f"{p.relative_to(REPO)}:{n}" for p in sources if p.name != "duck.py"
              for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if OPENS.search(line)]
    assert len(sources) > 100 and opened == []
