"""Our side of the match: the internal transactions of one channel and business day.

Three sources give the same frame (DESIGN.md, "Internal transactions"): the payment core's store
(`source = "core"`), a CSV/Parquet file another system exports (`source = "file"`), or any SQL
database (`source = "sql"`). Whatever the source, columns are read as text and money is parsed by
`recon.money`, never inferred: a float in an export is refused, not rounded, and so is an amount
finer than its currency's minor unit (JPY 100.5), naming the file and line.

The business day of a transaction is its `trade_time` in the channel's time zone; the file source
trusts the file to hold the day it is named for, the others select by that rule.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from recon.errors import ConfigError, StageFailed
from recon.formula import csv_untext
from recon.idtext import clean_id
from recon.money import MoneyError, iso_currency, parse_amount, unit_problem
from recon.schema import MONEY, RECORD_TYPES, STATUSES, UTC_TIME

INTERNAL_COLUMNS: dict[str, pl.DataType] = {
    "txn_id": pl.String(),
    "merchant_id": pl.String(),
    "merchant_order_no": pl.String(),
    "channel": pl.String(),
    "merchant_txn_id": pl.String(),
    "channel_txn_id": pl.String(),
    "record_type": pl.String(),
    "merchant_refund_id": pl.String(),
    "original_txn_id": pl.String(),
    "trade_time": UTC_TIME,
    "currency": pl.String(),
    "amount": MONEY,
    "fee": MONEY,
    "status": pl.String(),
    "source_file": pl.String(),
    "source_line": pl.Int64(),
}
REQUIRED = ("txn_id", "merchant_id", "channel", "merchant_txn_id", "record_type", "trade_time",
            "currency", "amount", "status")
ID_COLUMNS = ("txn_id", "merchant_id", "merchant_order_no", "merchant_txn_id", "channel_txn_id",
              "merchant_refund_id", "original_txn_id")
# The standardized bill's sign convention (DOMAIN.md): money in is positive, money out negative.
SIGNS = {"PAYMENT": 1, "REFUND": -1, "PAYOUT": -1}


def empty_internal() -> pl.DataFrame:
    return pl.DataFrame(schema=INTERNAL_COLUMNS)


def from_records(records: list[dict], source: str) -> pl.DataFrame:
    """Build the internal frame from text records (CSV rows, SQL rows), validating every value."""
    rows = []
    for index, rec in enumerate(records, start=1):
        line = index + 1  # header is line 1
        missing = [c for c in REQUIRED if rec.get(c) in (None, "")]
        if missing:
            raise StageFailed(f"{source}:{line}: missing {', '.join(missing)}")
        try:
            amount = _money(rec.get("amount"))
            fee = _money(rec.get("fee") or "0")
        except MoneyError as exc:
            raise StageFailed(f"{source}:{line}: {exc}") from None
        rtype, status = str(rec["record_type"]).strip(), str(rec["status"]).strip()
        if rtype not in RECORD_TYPES:
            raise StageFailed(f"{source}:{line}: record_type {rtype!r} is not one of {', '.join(RECORD_TYPES)}")
        if status not in STATUSES:
            raise StageFailed(f"{source}:{line}: status {status!r} is not one of {', '.join(STATUSES)}")
        try:
            currency = iso_currency(str(rec["currency"]).strip())
        except MoneyError as exc:
            raise StageFailed(f"{source}:{line}: {exc}") from None
        # Read time, not clearing time: JPY 100.5 on our side would match and fail days later.
        if finer := unit_problem(amount, currency):
            raise StageFailed(f"{source}:{line}: {finer}")
        sign = SIGNS.get(rtype)
        if sign is not None and amount * sign < 0:
            raise StageFailed(f"{source}:{line}: a {rtype} amount is {'positive' if sign > 0 else 'negative'} "
                              f"(money {'in' if sign > 0 else 'out'}), got {amount}")
        rows.append({
            **{c: _text(rec.get(c)) for c in INTERNAL_COLUMNS if INTERNAL_COLUMNS[c] == pl.String()},
            **{c: clean_id(rec.get(c)) for c in ID_COLUMNS},  # invisible characters are never part of an id
            "currency": currency,
            "record_type": rtype,
            "status": status,
            "trade_time": _utc(rec["trade_time"], source, line),
            "amount": amount,
            "fee": fee,
            "source_file": rec.get("source_file") or source,
            "source_line": int(rec.get("source_line") or line),
        })
    return pl.DataFrame(rows, schema=INTERNAL_COLUMNS, orient="row") if rows else empty_internal()


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _money(value: object):
    if isinstance(value, float):
        raise MoneyError(f"amount {value!r} arrived as a float; export money as text")
    return parse_amount(str(value))


def _utc(value: object, source: str, line: int) -> dt.datetime:
    if isinstance(value, dt.datetime):
        stamp = value
    else:
        try:
            stamp = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise StageFailed(f"{source}:{line}: trade_time {value!r} is not ISO 8601") from None
    if stamp.tzinfo is None:
        raise StageFailed(f"{source}:{line}: trade_time {value!r} has no UTC offset")
    return stamp.astimezone(dt.timezone.utc)


def read_file(path: Path) -> pl.DataFrame:
    """An internal export: CSV (all columns read as text) or Parquet (money as decimal or text)."""
    if not path.exists():
        raise StageFailed(f"internal export {path} does not exist")
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
        floats = [c for c in ("amount", "fee") if c in frame.columns and frame.schema[c].is_float()]
        if floats:
            raise StageFailed(f"{path}: money column(s) {floats} are float; export money as decimal or text")
        frame = frame.with_columns(pl.col(c).cast(pl.String) for c in frame.columns)
    else:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
        # `recon core export --out x.csv` quotes formula-leading text; the quote is not the data's
        return from_records([{k: csv_untext(v) for k, v in rec.items()} for rec in frame.to_dicts()], str(path))
    return from_records(frame.to_dicts(), str(path))


def expand(template: str, date: dt.date) -> str:
    """Expand a date template like `internal/{date:%Y-%m-%d}.csv`."""
    try:
        return template.format(date=date)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"bad date template {template!r}: {exc}") from None
