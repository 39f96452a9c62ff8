"""Dry run: what a re-match (or a new rule file) would change against the stored results.

Before replacing `results/<D>/layer1.parquet`, or when trying `--rules FILE`, a person wants to see
what would move: per outcome, how many rows there are now and would be; and which rows move from
one outcome to another. Rows are identified by their input row (side, source file, line), the one
identity both runs share, so a pair that merely changed its pass does not count as a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from recon.matching import engine


@dataclass(frozen=True, slots=True)
class Change:
    """One channel's count of input rows moving from outcome `before` to outcome `after`."""

    channel: str
    before: str | None  # None: the row was not in the stored results
    after: str | None  # None: the row is gone from the new results
    rows: int

    def as_dict(self) -> dict:
        return {"channel": self.channel, "before": self.before, "after": self.after, "rows": self.rows}


@dataclass(frozen=True, slots=True)
class OutcomeCount:
    channel: str
    outcome: str
    stored: int
    new: int

    def as_dict(self) -> dict:
        return {"channel": self.channel, "outcome": self.outcome, "stored": self.stored, "new": self.new,
                "change": self.new - self.stored}


def compare(con: duckdb.DuckDBPyConnection, new_table: str, stored: Path,
            channels: list[str]) -> tuple[tuple[OutcomeCount, ...], tuple[Change, ...]]:
    """Outcome counts and row transitions of `new_table` against the stored file, for `channels`."""
    if stored.exists():
        path = str(stored).replace("'", "''")
        con.execute(f"CREATE OR REPLACE VIEW stored_results AS SELECT * FROM read_parquet('{path}')")
    else:
        con.execute(f"CREATE OR REPLACE VIEW stored_results AS SELECT * FROM {new_table} LIMIT 0")
    con.execute("CREATE OR REPLACE TEMP TABLE diff_channels (channel VARCHAR)")
    con.executemany("INSERT INTO diff_channels VALUES (?)", [[c] for c in channels])
    counts = tuple(OutcomeCount(*row) for row in
                   con.sql(engine.sql("diff_counts", new=new_table)).fetchall())
    changes = tuple(Change(*row) for row in
                    con.sql(engine.sql("diff_rows", new=new_table)).fetchall())
    return counts, changes
