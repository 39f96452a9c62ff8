"""Bulk import of internal transactions into the payment core: idempotent, all-or-nothing per batch.

`recon core import FILE` loads another system's export (the "Internal transactions" columns of
DESIGN.md, read by `recon.internal.read_file`: CSV as text, money through `recon.money`). Running it
twice, or twice at once, must store each transaction once. Each batch is one unit of work that
inserts with `ON CONFLICT DO NOTHING ... RETURNING txn_id` (both backends): the returned ids are the
rows *this* run wrote, and only those get their transition record and journal entries. Every row the
insert skipped is read back by `txn_id` and compared by payload fingerprint — equal is a harmless
duplicate, different (or held by another transaction's unique key) is a *conflict*, reported as a
problem with the file and line, never overwritten.

Payments go first so refunds can find them. A refund must name a PAID payment by `original_txn_id`
and may not take the payment past what was paid (failed refunds reserve nothing); a row that would
is rejected as a problem. The reservation is the same version-checked write as `create_refund`, so
concurrent importers cannot over-refund either.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from recon.core.accounting import postings_for
from recon.core.idempotency import fingerprint, insert_ignore
from recon.core.machine import MACHINES, PayState
from recon.core.orders import Core, Txn, booking_event, load
from recon.core.uow import unit_of_work
from recon.errors import Problem
from recon.internal import read_file
from recon.store.tables.core import entries, postings, transitions, txns

STATE_OF = {("PAYMENT", "SUCCESS"): "PAID", ("PAYMENT", "FAILED"): "FAILED", ("PAYMENT", "UNKNOWN"): "PAYING",
            ("REFUND", "SUCCESS"): "SUCCEEDED", ("REFUND", "FAILED"): "FAILED", ("REFUND", "UNKNOWN"): "PROCESSING"}


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


def import_file(core: Core, path: Path, *, batch: int = 5000) -> ImportResult:
    return import_frame(core, read_file(path), batch=batch)


def import_frame(core: Core, frame: pl.DataFrame, *, batch: int = 5000) -> ImportResult:
    problems: list[Problem] = []
    inserted = duplicates = 0
    ordered = frame.sort(["record_type", "trade_time", "txn_id"])  # PAYMENT sorts before REFUND
    for start in range(0, ordered.height, batch):
        rows = []
        for rec in ordered.slice(start, batch).iter_rows(named=True):
            problem = _reject(rec)
            if problem:
                problems.append(problem)
            else:
                rows.append(rec)
        for kind in ("PAYMENT", "REFUND"):
            chunk = [r for r in rows if r["record_type"] == kind]
            if chunk:
                new, dup, found = _batch(core, chunk)
                inserted, duplicates = inserted + new, duplicates + dup
                problems.extend(found)
    return ImportResult(frame.height, inserted, duplicates, tuple(problems))


def _where(rec: dict) -> tuple[str, int | None]:
    return rec.get("source_file") or "import", rec.get("source_line")


def _reject(rec: dict) -> Problem | None:
    kind, amount = rec["record_type"], rec["amount"]
    reason = None
    if kind not in ("PAYMENT", "REFUND"):
        reason = f"record_type {kind} is not kept by the payment core (PAYMENT and REFUND only)"
    elif kind == "PAYMENT" and amount <= 0:
        reason = f"payment {rec['txn_id']}: amount {amount} must be positive"
    elif kind == "REFUND" and (amount >= 0 or not rec.get("original_txn_id")):
        reason = f"refund {rec['txn_id']}: needs a negative amount and an original_txn_id"
    return None if reason is None else Problem(*_where(rec), reason, code="rejected")


def _values(rec: dict) -> dict:
    kind = rec["record_type"]
    request = rec["merchant_order_no"] if kind == "PAYMENT" else rec["merchant_refund_id"]
    return {"record_type": kind, "merchant_id": rec["merchant_id"], "request_no": request or rec["txn_id"],
            "channel": rec["channel"], "currency": rec["currency"], "amount": rec["amount"], "fee": rec["fee"],
            "original_txn_id": rec["original_txn_id"] if kind == "REFUND" else None}


def _batch(core: Core, chunk: list[dict]) -> tuple[int, int, list[Problem]]:
    for _ in range(50):
        try:
            return _try_batch(core, chunk)
        except _Raced:
            continue
    raise _Raced("import batch kept racing with another importer")


def _try_batch(core: Core, chunk: list[dict]) -> tuple[int, int, list[Problem]]:
    problems: list[Problem] = []
    with unit_of_work(core.engine) as uow:
        conn, now = uow.conn, uow.now
        if chunk[0]["record_type"] == "REFUND":
            chunk, problems, payments = _check_refunds(conn, chunk)
        rows = []
        for rec in chunk:
            values = _values(rec)
            rows.append({**values, "txn_id": rec["txn_id"], "merchant_order_no": rec["merchant_order_no"],
                         "merchant_txn_id": rec["merchant_txn_id"], "channel_txn_id": rec["channel_txn_id"],
                         "merchant_refund_id": rec["merchant_refund_id"] if rec["record_type"] == "REFUND" else None,
                         "trade_time": rec["trade_time"], "refunded": Decimal(0),
                         "state": STATE_OF[(rec["record_type"], rec["status"])], "version": 1,
                         "payload_hash": fingerprint(values), "created_at": now, "updated_at": now})
        if not rows:
            return 0, 0, problems
        stmt = insert_ignore(conn, txns).returning(txns.c.txn_id)
        written = set(conn.execute(stmt, rows).scalars().all())
        new = [r for r in rows if r["txn_id"] in written]
        if new:
            conn.execute(transitions.insert(), [
                {"txn_id": r["txn_id"], "event": f"IMPORT_{r['state']}", "from_state": None,
                 "to_state": r["state"], "at": now, "detail": "recon core import"} for r in new])
            if new[0]["record_type"] == "REFUND":
                _reserve(conn, new, payments)
            _book(core, conn, new, now)
        skipped = [r for r in rows if r["txn_id"] not in written]
        problems.extend(_compare(conn, skipped, {id(r): rec for r, rec in zip(rows, chunk)}))
    return len(new), len(skipped) - sum(p.code == "conflict" for p in problems), problems


def _check_refunds(conn, chunk: list[dict]) -> tuple[list[dict], list[Problem], dict[str, Txn]]:
    """Keep refunds whose payment is PAID and still has room; reject the rest as problems."""
    originals = {r["original_txn_id"] for r in chunk}
    found = {}
    for txn_id in originals:
        txn = load(conn, txns.c.txn_id == txn_id, txns.c.record_type == "PAYMENT")
        if txn is not None:
            found[txn_id] = txn
    room = {k: t.amount - t.refunded for k, t in found.items()}
    existing = set(conn.execute(sa.select(txns.c.txn_id).where(txns.c.txn_id.in_([r["txn_id"] for r in chunk])))
                   .scalars())
    kept, problems = [], []
    for rec in chunk:
        payment = found.get(rec["original_txn_id"])
        if rec["txn_id"] in existing:  # a duplicate: compared after the insert, reserves nothing
            kept.append(rec)
        elif payment is None or payment.state != PayState.PAID:
            state = "missing" if payment is None else payment.state
            problems.append(Problem(*_where(rec), f"refund {rec['txn_id']}: payment {rec['original_txn_id']} "
                                    f"is {state}; only a PAID payment can be refunded", code="rejected"))
        elif rec["status"] != "FAILED" and -rec["amount"] > room[payment.txn_id]:
            problems.append(Problem(*_where(rec), f"refund {rec['txn_id']}: {-rec['amount']} exceeds the "
                                    f"{room[payment.txn_id]} still refundable on {payment.txn_id}", code="rejected"))
        else:
            if rec["status"] != "FAILED":
                room[payment.txn_id] += rec["amount"]
            kept.append(rec)
    return kept, problems, found


def _reserve(conn, new: list[dict], payments: dict[str, Txn]) -> None:
    delta: dict[str, Decimal] = defaultdict(Decimal)
    for r in new:
        if r["state"] != "FAILED":
            delta[r["original_txn_id"]] -= r["amount"]
    for txn_id, add in delta.items():
        version = conn.execute(sa.select(txns.c.version).where(txns.c.txn_id == txn_id)).scalar_one()
        current = load(conn, txns.c.txn_id == txn_id)
        if current is None or current.refunded != payments[txn_id].refunded or current.refunded + add > current.amount:
            raise _Raced
        done = conn.execute(txns.update().where(txns.c.txn_id == txn_id, txns.c.version == version)
                            .values(refunded=current.refunded + add, version=version + 1)).rowcount
        if done != 1:
            raise _Raced


def _book(core: Core, conn, new: list[dict], now) -> None:
    entry_rows, posting_rows = [], []
    for r in new:
        if MACHINES[r["record_type"]].status_of(r["state"]) != "SUCCESS":
            continue
        txn = Txn(**{f: r.get(f) for f in Txn.__dataclass_fields__})
        for event in core.accounting.demanded(r["record_type"]):
            legs = postings_for(core.accounting, booking_event(event, txn))
            if not legs:
                continue
            key = f"{event}:{r['txn_id']}"
            entry_rows.append({"entry_key": key, "event": event, "txn_id": r["txn_id"], "currency": r["currency"],
                               "business_date": r["trade_time"].date(), "posted_at": now, "reverses": None,
                               "memo": None})
            posting_rows.extend({"entry_key": key, "seq": i, "debit_account": p.debit, "credit_account": p.credit,
                                 "currency": p.currency, "amount": p.amount} for i, p in enumerate(legs, start=1))
    if entry_rows:
        conn.execute(insert_ignore(conn, entries), entry_rows)
    if posting_rows:
        conn.execute(insert_ignore(conn, postings), posting_rows)


def _compare(conn, skipped: list[dict], source: dict[int, dict]) -> list[Problem]:
    """Rows the insert skipped: identical duplicates pass, anything else is a conflict."""
    if not skipped:
        return []
    stored = dict(conn.execute(sa.select(txns.c.txn_id, txns.c.payload_hash)
                               .where(txns.c.txn_id.in_([r["txn_id"] for r in skipped]))).all())
    problems = []
    for r in skipped:
        have = stored.get(r["txn_id"])
        if have == r["payload_hash"]:
            continue
        why = ("has different values than when first imported" if have is not None else
               "uses a merchant order, serial or refund id already held by another transaction")
        problems.append(Problem(*_where(source[id(r)]), f"{r['record_type'].lower()} {r['txn_id']} {why}",
                                code="conflict"))
    return problems
