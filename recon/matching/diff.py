"""Dry run: what a re-match (or a new rule file) would change against the stored results.

Before replacing `results/<D>/layer1.parquet`, or when trying `--rules FILE`, a person wants to see
what would move: per outcome, how many rows there are now and would be; and which rows move from
one outcome to another. Rows are identified by their input row (side, source file, line), the one
identity both runs share, so a pair that merely changed its pass does not count as a change.
`transitions` adds the side and the money that moves, for a what-if over history (whatif.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from recon.matching import engine
from recon.matching.layer1 import quote
from recon.money import plain


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


@dataclass(frozen=True, slots=True)
class Transition:
    """Input rows of one channel and side moving from outcome `before` to `after`, with their money.

    `amounts` sums each row's own amount (ours or theirs), per currency: (currency, sum) pairs."""

    channel: str
    side: str  # "ours" or "theirs"
    before: str | None  # None: the row was not in the stored results
    after: str | None  # None: the row is gone from the new results
    rows: int
    amounts: tuple[tuple[str, Decimal], ...]

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.channel, self.side, self.before or "", self.after or ""

    def as_dict(self) -> dict:
        return {"channel": self.channel, "side": self.side, "before": self.before, "after": self.after,
                "rows": self.rows, "amounts": {c: plain(a, c) for c, a in self.amounts}}


def transitions(con: duckdb.DuckDBPyConnection, stored: Path, new: Path, channel: str) -> tuple[Transition, ...]:
    """How `channel`'s input rows move between two results files, by side, with amounts per currency."""
    found: dict[tuple, tuple[int, list[tuple[str, Decimal]]]] = {}
    rows = con.execute(engine.sql("whatif_rows", stored=quote(stored), new=quote(new)), {"channel": channel}).fetchall()
    for side, before, after, currency, count, amount in rows:
        n, amounts = found.get((side, before, after), (0, []))
        found[(side, before, after)] = (n + count, [*amounts, (currency or "", amount)])
    return tuple(Transition(channel, side, before, after, n, tuple(amounts))
                 for (side, before, after), (n, amounts) in found.items())


def add_up(moves: list[Transition]) -> tuple[Transition, ...]:
    """The sum of transitions (of several days): rows and per-currency amounts per (channel, side, before, after)."""
    rows: dict[tuple, int] = {}
    money: dict[tuple, dict[str, Decimal]] = {}
    sample: dict[tuple, Transition] = {}
    for t in moves:
        rows[t.key] = rows.get(t.key, 0) + t.rows
        per = money.setdefault(t.key, {})
        for currency, amount in t.amounts:
            per[currency] = per.get(currency, Decimal(0)) + amount
        sample.setdefault(t.key, t)
    return tuple(Transition(t.channel, t.side, t.before, t.after, rows[k], tuple(sorted(money[k].items())))
                 for k, t in sorted(sample.items()))
