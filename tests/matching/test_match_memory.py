"""Layer 1 under a small DuckDB memory limit writes the same results file, more slowly.

At 1M lines a side the one-statement write of the wide rows runs out of memory below ~750 MB, where
`write_wide` joins them into a table first (recon/matching/layer1.py). A day that size is too slow
for a test, and a test-sized day fits the one statement in as little memory as the other plan
needs, so here the other plan is forced (ONE_STATEMENT_BYTES raised) under a limit of a few MB a
thousand rows, and its file must be the one the default limit writes.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from jobs.catalog import open_workspace
from recon.files import sha256_file
from recon.matching import layer1
from recon.matching.layer1_day import match_day, results_path
from tests.matching.factory import DAY, WX_FILE_CONFIG, clean_day, frames, inject

ROWS = 20_000


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("memory")
    ours, theirs = clean_day(ROWS, seed=11)
    for seed, kind in enumerate(("amount", "status", "drop_theirs", "drop_ours", "duplicate")):
        inject(ours, theirs, kind, k=20, seed=seed)
    bill, internal = frames(ours, theirs)
    (root / "bills" / "wx").mkdir(parents=True)
    bill.with_columns(pl.lit(DAY).alias("bill_date")).write_parquet(root / "bills" / "wx" / f"{DAY}.parquet")
    (root / "internal").mkdir()
    internal.write_parquet(root / "internal" / f"{DAY}.parquet")
    return root


def _match(root: Path, memory_limit: str) -> str:
    config = WX_FILE_CONFIG.replace(".csv", ".parquet")
    (root / "recon.toml").write_text(f'[match]\nmemory_limit = "{memory_limit}"\n{config}', encoding="utf-8")
    match_day(open_workspace(root), DAY)
    return sha256_file(results_path(open_workspace(root), DAY))


def _record(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The queries layer 1 writes to Parquet, as it writes them."""
    written: list[str] = []
    copy = layer1.copy
    monkeypatch.setattr(layer1, "copy", lambda con, query, path: (written.append(query), copy(con, query, path)))
    return written


def test_the_table_plan_under_a_small_limit_writes_the_default_file(day: Path, monkeypatch: pytest.MonkeyPatch):
    default = _match(day, "2GB")
    written = _record(monkeypatch)
    monkeypatch.setattr(layer1, "ONE_STATEMENT_BYTES", 1 << 20)
    assert _match(day, "48MB") == default
    assert [f"FROM {layer1.WIDE_TABLE} " in query for query in written] == [True]


def test_the_default_limit_writes_in_one_statement(day: Path, monkeypatch: pytest.MonkeyPatch):
    written = _record(monkeypatch)
    _match(day, "2GB")
    assert written == [layer1.wide_sql()]
