"""Bulk import of internal transactions into the payment core: idempotent, all-or-nothing per batch.

`recon core import FILE` loads another system's export (the "Internal transactions" columns of
DESIGN.md, read as `recon.internal.read_file` reads it — CSV as text, money through `recon.money` —
column-wise by `import_read` when the file allows). Running it twice, or twice at once, must store
each transaction once. Each batch is one unit of work, written in bulk (`recon.core.bulk`:
executemany `ON CONFLICT DO NOTHING` on SQLite; on PostgreSQL a COPY straight into `core_txn` in
a savepoint, and only when a unique key refuses it a stage merged by one `INSERT ... SELECT ... ON
CONFLICT DO NOTHING RETURNING txn_id`): the rows *this* run wrote, and only those, get their
transition record and journal entries. Every row the insert skipped — and every later row of the
file with a txn_id seen before — is read back by `txn_id` and compared by payload fingerprint:
equal is a harmless duplicate, different (or held by another transaction's unique key) is a
*conflict*, reported with the file and line, never overwritten.

Payments go first so refunds can find them. A refund must name a PAID payment by `original_txn_id`
and may not take the payment past what was paid (failed refunds reserve nothing): the batch's
refunds are checked together against each payment's stored room (`import_checks.refund_room`) and a
row that would over-refund is rejected as a problem. The reservation is one version-checked UPDATE
for the whole batch, so a concurrent writer that moved a payment makes the batch roll back and redo.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from recon.core import bulk
from recon.core.import_read import read_internal
from recon.core.import_checks import STATES, fingerprints, problem, refund_room, rejects
from recon.core.journal_frames import journal_frames
from recon.core.orders import Core
from recon.core.uow import unit_of_work
from recon.errors import Problem
from recon.schema import MONEY, UTC_TIME
from recon.store.tables.core import entries, postings, txns

SQLITE_CACHE_KIB = 256 * 1024  # the import connection's page cache: memory only as pages are read
TXN_COLUMNS = ("txn_id", "record_type", "merchant_id", "request_no", "merchant_order_no", "channel",
               "merchant_txn_id", "channel_txn_id", "merchant_refund_id", "original_txn_id", "trade_time",
               "currency", "amount", "fee", "refunded", "state", "version", "payload_hash", "created_at",
               "updated_at")


@dataclass(frozen=True, slots=True)
class ImportResult:
    rows: int
    inserted: int
    duplicates: int
    problems: tuple[Problem, ...]  # conflicts and rejected rows, with file and line

    def as_dict(self) -> dict[str, object]:
        return {"rows": self.rows, "inserted": self.inserted, "duplicates": self.duplicates,
                "problems": [p.as_dict() for p in self.problems]}


class _Raced(Exception):
    """A concurrent importer changed a payment's refunded total: redo the batch."""


def import_file(core: Core, path: Path, *, batch: int = 50_000) -> ImportResult:
    return import_frame(core, read_internal(path), batch=batch)


def import_frame(core: Core, frame: pl.DataFrame, *, batch: int = 50_000) -> ImportResult:
    kept, problems = rejects(frame)
    # PAYMENT sorts before REFUND; the first row of a txn_id is the one inserted, later ones compared
    ordered = (kept.sort(["record_type", "trade_time", "txn_id"], maintain_order=True)
               .with_columns(pl.col("txn_id").is_first_distinct().alias("_first")))
    inserted = duplicates = 0
    for kind in ("PAYMENT", "REFUND"):
        rows = ordered.filter(pl.col("record_type") == kind)
        for start in range(0, rows.height, batch):
            new, dup, found = _batch(core, rows.slice(start, batch))
            inserted, duplicates = inserted + new, duplicates + dup
            problems.extend(found)
    return ImportResult(frame.height, inserted, duplicates, tuple(problems))


def _batch(core: Core, chunk: pl.DataFrame) -> tuple[int, int, list[Problem]]:
    for _ in range(50):
        try:
            return _try_batch(core, chunk)
        except _Raced:
            continue
    raise _Raced("import batch kept racing with another importer")


def _rows(chunk: pl.DataFrame, now) -> pl.DataFrame:
    """The `core_txn` rows of a chunk (one record type), fingerprinted."""
    refund = chunk["record_type"][0] == "REFUND"
    request = pl.col("merchant_refund_id") if refund else pl.col("merchant_order_no")
    nothing = pl.lit(None, pl.String)
    rows = chunk.join(STATES, on=["record_type", "status"], how="left", maintain_order="left").with_columns(
        pl.coalesce(request, pl.col("txn_id")).alias("request_no"),
        pl.col("original_txn_id") if refund else nothing.alias("original_txn_id"),
        pl.col("merchant_refund_id") if refund else nothing.alias("merchant_refund_id"))
    stamp = pl.lit(now).cast(UTC_TIME)
    return rows.with_columns(pl.lit(Decimal(0), MONEY).alias("refunded"), pl.lit(1, pl.Int64).alias("version"),
                             pl.Series("payload_hash", fingerprints(rows), dtype=pl.String),
                             stamp.alias("created_at"), stamp.alias("updated_at"))


def _try_batch(core: Core, chunk: pl.DataFrame) -> tuple[int, int, list[Problem]]:
    problems: list[Problem] = []
    refund = chunk["record_type"][0] == "REFUND"
    with unit_of_work(core.engine) as uow:
        conn, now = uow.conn, uow.now
        if conn.dialect.name == "sqlite":
            # a batch touches every index of six tables; SQLite's default 2 MiB page cache thrashes
            # once they outgrow it (the bare executemany floor falls fivefold from 100k to 1M rows)
            conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        rows = _rows(chunk, now)
        firsts, repeats = rows.filter(pl.col("_first")), rows.filter(~pl.col("_first"))
        payments: dict[str, tuple[str, Decimal, Decimal, int]] = {}
        if refund:
            firsts, problems, payments = _check_refunds(conn, firsts)
        written = bulk.insert_returning(conn, txns, firsts.select(TXN_COLUMNS), "txn_id")
        new = firsts.filter(pl.col("txn_id").is_in(written))
        bulk.write(conn, "core_transition", new.select(
            "txn_id", (pl.lit("IMPORT_") + pl.col("state")).alias("event"), pl.lit(None, pl.String).alias("from_state"),
            pl.col("state").alias("to_state"), pl.col("created_at").alias("at"),
            pl.lit("recon core import").alias("detail")))
        if refund:
            _reserve(conn, new, payments)
        booked = new.filter(pl.col("status") == "SUCCESS")
        if booked.height:
            entry_rows, posting_rows = journal_frames(core.accounting, booked, now)
            # in key order: each index page is filled once instead of revisited at random
            entry_rows = entry_rows.sort("entry_key")
            if not bulk.write_new(conn, entries, entry_rows, "entry_key"):
                # an entry key already posted (by hand, `recon core record post`) is left as it is,
                # as `insert_ignore` did; the look-up is authoritative because no one else can post
                # entries for transactions this uncommitted batch just wrote (a key hand-posted
                # between the look-up and this write fails the batch on the primary key: rolled
                # back, nothing half-booked)
                held = bulk.existing(conn, entries, "entry_key", entry_rows["entry_key"])
                entry_rows = entry_rows.filter(~pl.col("entry_key").is_in(held))
                posting_rows = posting_rows.filter(~pl.col("entry_key").is_in(held))
                bulk.write(conn, entries.name, entry_rows)
            bulk.write(conn, postings.name, posting_rows.sort("entry_key", "seq"))
        skipped = pl.concat([firsts.filter(~pl.col("txn_id").is_in(written)), repeats])
        problems.extend(_compare(conn, skipped))
    conflicts = sum(p.code == "conflict" for p in problems)
    return new.height, skipped.height - conflicts, problems


def _check_refunds(conn, firsts: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem], dict]:
    """Keep refunds whose payment is PAID and still has room (checked for the batch at once)."""
    existing = {r[0] for r in _select_in(conn, (txns.c.txn_id,), txns.c.txn_id, firsts["txn_id"])}
    payments = {r.txn_id: (r.state, r.amount, r.refunded, r.version) for r in _select_in(
        conn, (txns.c.txn_id, txns.c.state, txns.c.amount, txns.c.refunded, txns.c.version), txns.c.txn_id,
        firsts["original_txn_id"].unique(), txns.c.record_type == "PAYMENT")}
    fresh = firsts.filter(~pl.col("txn_id").is_in(existing))  # duplicates are compared after the insert
    kept, problems = refund_room(fresh.select("txn_id", "original_txn_id", "amount", "status", "source_file",
                                              "source_line"),
                                 {k: (state, amount - refunded) for k, (state, amount, refunded, _) in payments.items()})
    refused = fresh.filter(~pl.col("txn_id").is_in(kept["txn_id"].implode()))["txn_id"]
    return firsts.filter(~pl.col("txn_id").is_in(refused.implode())), problems, payments


def _select_in(conn, columns, key, values: pl.Series, *where) -> list:
    """Rows whose `key` is among `values`: one array parameter on PostgreSQL (an IN list of ten
    thousand parameters costs more to compile than to run), chunks below SQLite's parameter limit."""
    values = values.drop_nulls().unique().to_list()
    if conn.dialect.name == "postgresql":
        array = sa.bindparam("values", values, type_=postgresql.ARRAY(key.type))
        return list(conn.execute(sa.select(*columns).where(key == sa.any_(array), *where)))
    out: list = []
    for start in range(0, len(values), 10_000):
        out.extend(conn.execute(sa.select(*columns).where(key.in_(values[start:start + 10_000]), *where)))
    return out


def _reserve(conn, new: pl.DataFrame, payments: dict[str, tuple[str, Decimal, Decimal, int]]) -> None:
    """Add the batch's live refunds to their payments' refunded totals, if no payment moved meanwhile."""
    delta = (new.filter(pl.col("state") != "FAILED").group_by("original_txn_id")
             .agg(pl.col("amount").sum()).rows())
    if not delta:
        return
    room = []
    for txn_id, add in delta:
        _, amount, refunded, version = payments[txn_id]
        if refunded - add > amount:
            raise _Raced
        room.append({"txn_id": txn_id, "refunded": refunded - add, "version": version})
    stage = bulk.stage(conn, txns, pl.DataFrame(room, schema={"txn_id": pl.String, "refunded": MONEY,
                                                              "version": pl.Int64}), name="stage_room")
    done = conn.exec_driver_sql(
        f"UPDATE core_txn SET refunded = s.refunded, version = s.version + 1 FROM {stage} s "
        "WHERE core_txn.txn_id = s.txn_id AND core_txn.version = s.version").rowcount
    bulk.drop(conn, stage)
    if done != len(room):
        raise _Raced


def _compare(conn, skipped: pl.DataFrame) -> list[Problem]:
    """Rows the insert skipped: identical duplicates pass, anything else is a conflict."""
    if skipped.is_empty():
        return []
    stored = dict(_select_in(conn, (txns.c.txn_id, txns.c.payload_hash), txns.c.txn_id, skipped["txn_id"]))
    problems = []
    for rec in skipped.iter_rows(named=True):
        have = stored.get(rec["txn_id"])
        if have == rec["payload_hash"]:
            continue
        why = ("has different values than when first imported" if have is not None else
               "uses a merchant order, serial or refund id already held by another transaction")
        problems.append(problem(rec, f"{rec['record_type'].lower()} {rec['txn_id']} {why}", "conflict"))
    return problems
