"""The import's rules as set-based checks over a batch (a Polars frame), not a loop per row.

- `rejects`: the rows the payment core does not keep at all — another record type, a payment that
  is not positive, a refund that is not negative or names no payment (the internal side already
  refused wrong signs and currencies, naming the line; these are the core's own rules).
- `fingerprints`: `idempotency.fingerprint` of every row at once — the same canonical text, the same
  sha256, so rows imported here compare equal with rows written one at a time by `create_payment`.
- `refund_room`: which refunds fit on their payment. Per payment, the refunds that reserve money
  (all but FAILED) in file order are summed cumulatively against what the payment still has
  (amount - refunded as stored, so earlier batches and earlier runs count); a refund whose running
  total passes the room is refused. Refusing one changes the running total of the ones after it,
  so a payment with any refusal is re-decided one refund at a time, as `create_refund` would —
  rare, and only for that payment's rows.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

import polars as pl

from recon.core.idempotency import PAYLOAD_FIELDS
from recon.core.machine import PayState
from recon.errors import Problem

STATES = pl.DataFrame({
    "record_type": ["PAYMENT", "PAYMENT", "PAYMENT", "REFUND", "REFUND", "REFUND"],
    "status": ["SUCCESS", "FAILED", "UNKNOWN", "SUCCESS", "FAILED", "UNKNOWN"],
    "state": ["PAID", "FAILED", "PAYING", "SUCCEEDED", "FAILED", "PROCESSING"],
})


def _where(rec: dict) -> tuple[str, int | None]:
    return rec.get("source_file") or "import", rec.get("source_line")


def problem(rec: dict, reason: str, code: str) -> Problem:
    return Problem(*_where(rec), reason, code=code)


def rejects(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
    """(rows the core keeps, problems naming each refused row's file and line)."""
    kind, amount = pl.col("record_type"), pl.col("amount")
    reason = (pl.when(~kind.is_in(["PAYMENT", "REFUND"]))
              .then(pl.format("record_type {} is not kept by the payment core (PAYMENT and REFUND only)", kind))
              .when((kind == "PAYMENT") & (amount <= 0))
              .then(pl.format("payment {}: amount {} must be positive", pl.col("txn_id"), amount.cast(pl.String)))
              .when((kind == "REFUND") & ((amount >= 0) | pl.col("original_txn_id").is_null()))
              .then(pl.format("refund {}: needs a negative amount and an original_txn_id", pl.col("txn_id"))))
    marked = frame.with_columns(reason.alias("_reason"))
    bad = marked.filter(pl.col("_reason").is_not_null())
    found = [problem(rec, rec["_reason"], "rejected") for rec in bad.iter_rows(named=True)]
    return marked.filter(pl.col("_reason").is_null()).drop("_reason"), found


def fingerprints(values: pl.DataFrame) -> list[str]:
    """`fingerprint(values)` for every row: money at six places in plain notation, None as empty."""
    parts = []
    for name in PAYLOAD_FIELDS:
        col = pl.col(name).cast(pl.String).fill_null("")
        parts.append(pl.lit(f"{name}=") + col)
    texts = values.select(pl.concat_str(parts, separator="\x1f").alias("t"))["t"]
    sha = hashlib.sha256
    return [sha(t.encode("utf-8")).hexdigest() for t in texts]


def refund_room(refunds: pl.DataFrame, payments: dict[str, tuple[str, Decimal]]) -> tuple[pl.DataFrame, list[Problem]]:
    """Refunds that may be booked, and problems for those that may not.

    `refunds` holds the batch's new refunds in file order (txn_id, original_txn_id, amount, status,
    source_file, source_line); `payments` maps each named payment's txn_id to (state, room left).
    """
    if refunds.is_empty():
        return refunds, []
    room = pl.DataFrame({"original_txn_id": list(payments), "_state": [s for s, _ in payments.values()],
                         "_room": [r for _, r in payments.values()]},
                        schema={"original_txn_id": pl.String, "_state": pl.String, "_room": refunds.schema["amount"]})
    joined = refunds.with_row_index("_order").join(room, on="original_txn_id", how="left", maintain_order="left")
    reserving = pl.col("status") != "FAILED"
    joined = joined.with_columns(
        pl.when(reserving).then(-pl.col("amount")).otherwise(pl.lit(0, refunds.schema["amount"]))
        .cum_sum().over("original_txn_id", order_by="_order").alias("_used"))
    unpaid = joined.filter(pl.col("_state").is_null() | (pl.col("_state") != PayState.PAID))
    found = [problem(rec, f"refund {rec['txn_id']}: payment {rec['original_txn_id']} is "
                     f"{rec['_state'] or 'missing'}; only a PAID payment can be refunded", "rejected")
             for rec in unpaid.iter_rows(named=True)]
    paid = joined.filter(pl.col("_state") == PayState.PAID)
    over = paid.filter(pl.col("_used") > pl.col("_room"))["original_txn_id"].unique()
    kept = [paid.filter(~pl.col("original_txn_id").is_in(over.implode()))]
    if over.len():
        tight = paid.filter(pl.col("original_txn_id").is_in(over.implode()))
        keep_order, more = _one_by_one(tight, payments)
        found.extend(more)
        kept.append(tight.filter(pl.col("_order").is_in(keep_order)))
    result = pl.concat(kept).sort("_order").drop("_order", "_state", "_room", "_used")
    found.sort(key=lambda p: (p.line or 0))
    return result, found


def _one_by_one(tight: pl.DataFrame, payments: dict[str, tuple[str, Decimal]]) -> tuple[list[int], list[Problem]]:
    left = {k: payments[k][1] for k in tight["original_txn_id"].unique()}
    keep, found = [], []
    for rec in tight.iter_rows(named=True):
        original, wants = rec["original_txn_id"], -rec["amount"]
        if rec["status"] != "FAILED" and wants > left[original]:
            found.append(problem(rec, f"refund {rec['txn_id']}: {wants} exceeds the {left[original]} still "
                                 f"refundable on {original}", "rejected"))
            continue
        if rec["status"] != "FAILED":
            left[original] -= wants
        keep.append(rec["_order"])
    return keep, found
