"""Is `recon demo` unchanged? Build the demo at a git ref and in this tree, compare what it wrote.

A restructuring must not change behaviour. This script runs `recon demo` twice, once from a
temporary `git worktree` of REF (default HEAD) with its own virtual environment, once from this
checkout, and compares every output other programs read: the bytes of each day's results and bills
(Parquet), the settlements CSVs, and the store's queue items, queue history, ledger entries and
postings (timestamps and autoincrement ids aside, since they differ run to run by construction).

    .venv/bin/python scripts/demo_parity.py [REF]

Exit 0 when identical, 1 listing the differences.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
# Columns that are wall-clock times of the run: identical logic writes different values each run.
VOLATILE = {"created_at", "updated_at", "closed_at", "at", "posted_at", "recorded_at", "started_at", "finished_at",
            "heartbeat_at", "expires_at", "next_attempt_at", "last_seen_at", "first_seen_at"}
TABLES = ("queue_items", "queue_events", "core_entry", "core_posting", "core_txn")


def _digest(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for pattern in ("results/*/*.parquet", "bills/*/*.parquet", "clearing/*/*.csv", "parsed/*"):
        for path in sorted(root.glob(pattern)):
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    engine = sa.create_engine(f"sqlite:///{root / 'recon.db'}")
    with engine.connect() as conn:
        for table in TABLES:
            meta = sa.Table(table, sa.MetaData(), autoload_with=conn)
            cols = [c for c in meta.columns if c.name not in VOLATILE]
            rows = [tuple(r) for r in conn.execute(sa.select(*cols).order_by(*cols))]
            # the workspaces sit in different folders: a path inside a row is compared relative to its root;
            # the demo's re-query answers carry the instant they were asked and the sandbox's port
            text = repr(rows).replace(str(root), "<workspace>")
            text = re.sub(r'"asked_at": "[^"]*"', '"asked_at": ""', text)
            text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)
            found[f"store:{table}"] = hashlib.sha256(text.encode()).hexdigest()
    engine.dispose()
    return found


def _demo(checkout: Path, python: Path, target: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run([str(python), "-c", "import sys; from cli import app; sys.argv=['recon','demo',sys.argv[1]]; app()",
                    str(target)], cwd=checkout, env=env, check=True, capture_output=True)
    return _digest(target)


def main(ref: str = "HEAD") -> int:
    with tempfile.TemporaryDirectory(prefix="demo-parity-") as tmp:
        tmp_path = Path(tmp)
        old = tmp_path / "old"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), ref], cwd=REPO, check=True,
                       capture_output=True)
        try:
            subprocess.run(["python3.11", "-m", "venv", str(old / ".venv")], check=True)
            subprocess.run([str(old / ".venv/bin/pip"), "install", "-q", "--disable-pip-version-check",
                            "-c", str(old / "constraints.txt"), "-e", str(old)], check=True, capture_output=True)
            before = _demo(old, old / ".venv/bin/python", tmp_path / "before")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=REPO, check=True)
        after = _demo(REPO, Path(sys.executable), tmp_path / "after")
        differ = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        for key in differ:
            print(f"differs: {key}{_same_rows(tmp_path, key)}", file=sys.stderr)
    print(f"{len(before)} outputs compared with {ref}: {'identical' if not differ else f'{len(differ)} differ'}")
    return 1 if differ else 0


def _same_rows(tmp: Path, key: str) -> str:
    """For a Parquet file whose bytes differ: do its rows and schema still agree?"""
    if not key.endswith(".parquet") or not (tmp / "before" / key).exists() or not (tmp / "after" / key).exists():
        return ""
    same = pl.read_parquet(tmp / "before" / key).equals(pl.read_parquet(tmp / "after" / key))
    return " (bytes only: same rows and schema)" if same else " (rows differ)"


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
