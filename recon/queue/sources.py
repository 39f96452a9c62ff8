"""Reading a day's results into discrepancy records, one per queue item.

`results/<D>/layer1.parquet` follows the contract in CONTRIBUTING.md: every outcome other than
MATCHED and AUTO_RESOLVED is a discrepancy. Layers 0 (internal checks), 2 (bill) and 3 (account vs
cash) share a generic shape: business_date, channel, kind, key, our_amount, their_amount, diff,
reason, with optional account, currency and any extra columns, which are kept as detail.

An item is identified by what it is about, not by the day that raised it nor by its current kind:
(layer, channel, account, period, key). A pending row carried from an earlier day belongs to the
item of the day it was first seen (`carried_from` is its period), so a cross-day PENDING that ages
out into LOCAL_ONLY is the same item, and the day it finally matches is the day it auto-resolves.
A layer-2 settlement row's period is the period it settles (`period_start`), not the day that
reported it, so a period reported on five days is one item.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from recon.errors import StageFailed
from recon.matching.layer23_results import WAITING_KINDS
from recon.money import MoneyError, parse_amount, plain

SETTLED_OUTCOMES = frozenset({"MATCHED", "AUTO_RESOLVED"})
LAYER_FILES = {0: "layer0.parquet", 1: "layer1.parquet", 2: "layer2.parquet", 3: "layer3.parquet"}
GENERIC_COLUMNS = ("business_date", "channel", "kind", "key", "our_amount", "their_amount", "diff", "reason")
_OUR = ("our_txn_id", "our_merchant_id", "our_merchant_order_no", "our_merchant_txn_id", "our_channel_txn_id",
        "our_merchant_refund_id", "our_record_type", "our_currency", "our_amount", "our_fee",
        "our_status", "our_trade_time", "our_source_file", "our_source_line")
_THEIR = ("their_channel_txn_id", "their_merchant_txn_id", "their_channel_refund_id",
          "their_merchant_refund_id", "their_record_type", "their_currency", "their_amount",
          "their_fee", "their_status", "their_trade_time", "their_source_file", "their_source_line")
Identity = tuple[int, str, str, dt.date, str]  # layer, channel, account, period, key
_KEY_COLUMNS = ("match_key", "our_txn_id", "their_channel_txn_id", "our_merchant_txn_id", "their_merchant_txn_id")
_SETTLED_KEYS = ("match_key", "our_merchant_txn_id", "our_channel_txn_id", "our_txn_id",
                 "our_merchant_refund_id", "their_merchant_txn_id", "their_channel_txn_id",
                 "their_merchant_refund_id", "their_channel_refund_id")


@dataclass(frozen=True, slots=True)
class Discrepancy:
    layer: int
    kind: str
    channel: str
    account: str
    business_date: dt.date
    key: str
    pending: bool
    currency: str | None
    our_amount: Decimal | None
    their_amount: Decimal | None
    diff: Decimal | None
    our_fee: Decimal | None
    their_fee: Decimal | None
    our_status: str | None
    their_status: str | None
    reason: str
    detail: str  # JSON of both sides' rows, source file and line included
    # Another line of a combined payment whose anchor's item speaks for the whole group: it names
    # that item (same identity) but is not an item of its own.
    member: bool = False

    @property
    def identity(self) -> Identity:
        return (self.layer, self.channel, self.account, self.business_date, self.key)

    def figures(self) -> dict[str, str | None]:
        """What a person's resolution was based on; a change here re-opens a resolved item."""
        names = ("currency", "our_amount", "their_amount", "diff", "our_fee", "their_fee",
                 "our_status", "their_status")
        return {n: _text(getattr(self, n)) for n in names}


@dataclass(frozen=True, slots=True)
class Settled:
    """A row that is not (or no longer) a discrepancy: it may close an open item."""

    layer: int
    channel: str
    account: str
    business_date: dt.date
    keys: tuple[str, ...]  # every id the row is known by: an item raised under any of them is this row
    outcome: str
    reason: str
    # The final figures where the row has them (a settled period: owed, paid, diff); the item that
    # closes takes them, so it shows what settled it rather than the last shortfall.
    figures: tuple[tuple[str, Decimal | None], ...] = ()


def _text(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _shown(row: dict[str, Any], column: str) -> Any:
    """A side's value as `queue show` and the export print it: money at its currency's exponent."""
    value = row.get(column)
    if isinstance(value, Decimal) and column.endswith(("_amount", "_fee")):
        side = column.split("_", 1)[0]
        return plain(value, row.get(f"{side}_currency"))
    return _text(value)


def _money(value: Any, file: Path, column: str) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        try:
            return parse_amount(value)
        except MoneyError as exc:
            raise StageFailed(f"{file}: column {column}: {exc}") from None
    # A float money column is a writer's bug; guessing its decimal value would hide it.
    raise StageFailed(f"{file}: column {column} holds {type(value).__name__}, expected a decimal")


def _unique_keys(records: list[dict[str, Any]]) -> None:
    """Rows sharing an identity (a DUPLICATE's copies) get '#2', '#3'... in file order."""
    seen: Counter = Counter()
    for rec in records:
        nk = (rec["channel"], rec["account"], rec["business_date"], rec["key"])
        seen[nk] += 1
        if seen[nk] > 1:
            rec["key"] = f"{rec['key']}#{seen[nk]}"


def _column(names: Collection[str], column: str, dtype: pl.DataType = pl.String) -> pl.Expr:
    """A column, or a null of `dtype` where the results have no such column."""
    return pl.col(column) if column in names else pl.lit(None, dtype=dtype)


def _text_or_null(names: Collection[str], column: str) -> pl.Expr:
    """A column as text, an absent column (not in `names`) or an empty value as null (Python's `or` chain)."""
    if column not in names:
        return pl.lit(None, dtype=pl.String)
    value = pl.col(column).cast(pl.String)
    return pl.when(value != "").then(value)


def _base_key(names: Collection[str]) -> pl.Expr:
    """The id an item of a layer-1 row is keyed by before duplicates and groups are told apart."""
    return pl.coalesce(*(_text_or_null(names, c) for c in _KEY_COLUMNS), pl.lit("?"))


def _is_settled() -> pl.Expr:
    return pl.col("outcome").is_in(sorted(SETTLED_OUTCOMES))


def layer1_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with each row's queue identity column-wise: `q_settled`, `q_account`, `q_period`, `q_key`
    (the key the queue stores: `#n` for a duplicate's copies, the anchor's key for a group's other
    lines) and `q_member`. The same identities `read_layer1` builds row by row, for any row count."""
    col = lambda c, dtype=pl.String: _column(frame.columns, c, dtype)  # noqa: E731
    f = frame.with_row_index("q_n").with_columns(
        q_settled=_is_settled(),
        q_account=col("account").fill_null(""),
        q_period=pl.coalesce(col("carried_from", pl.Date), pl.col("business_date")),
        q_base=_base_key(frame.columns))
    diff_present = (pl.when(pl.col("outcome") == "FEE_MISMATCH").then(col("diff_fee", pl.Int64).is_not_null())
                    .otherwise(col("diff_amount", pl.Int64).is_not_null()))
    f = f.with_columns(q_grouped=~pl.col("q_settled") & (col("group_size", pl.Int64).fill_null(1) > 1)
                       & col("group_id").is_not_null(),
                       q_diff=diff_present, q_ours=col("our_amount", pl.Int64).is_not_null())
    grouped = f.filter("q_grouped")
    if grouped.height:
        anchors = grouped.group_by("group_id").agg(
            q_anchor=pl.coalesce(pl.col("q_n").filter("q_diff").first(), pl.col("q_n").filter("q_ours").first()))
        f = f.join(anchors, on="group_id", how="left", maintain_order="left")
    else:
        f = f.with_columns(q_anchor=pl.lit(None, dtype=pl.UInt32))
    f = f.with_columns(q_member=pl.col("q_grouped") & pl.col("q_anchor").is_not_null()
                       & (pl.col("q_anchor") != pl.col("q_n")))
    own = ~pl.col("q_settled") & ~pl.col("q_member")
    f = f.with_columns(q_copy=pl.when(own).then(
        pl.int_range(1, pl.len() + 1).over(["channel", "q_account", "q_period", "q_base", own])))
    f = f.with_columns(q_key=pl.when(pl.col("q_copy") > 1)
                       .then(pl.col("q_base") + "#" + pl.col("q_copy").cast(pl.String)).otherwise(pl.col("q_base")))
    anchor_keys = f.select(q_anchor=pl.col("q_n"), q_anchor_key=pl.col("q_key"))
    f = f.join(anchor_keys, on="q_anchor", how="left", maintain_order="left")
    return f.with_columns(q_key=pl.when("q_member").then("q_anchor_key").otherwise("q_key")).drop(
        "q_base", "q_grouped", "q_diff", "q_ours", "q_copy", "q_anchor", "q_anchor_key", "q_n")


SETTLED_SCHEMA = {"row": pl.UInt32, "layer": pl.Int64, "channel": pl.String, "account": pl.String,
                  "business_date": pl.Date, "outcome": pl.String, "reason": pl.String,
                  **{f"id{n}": pl.String for n in range(1 + len(_SETTLED_KEYS))}}
SETTLED_IDS = [f"id{n}" for n in range(1 + len(_SETTLED_KEYS))]


def settled_layer1(path: Path) -> pl.LazyFrame:
    """A scan of the settled rows of a layer-1 file (`SETTLED_SCHEMA`): layer, channel, account,
    business_date (the item's period), outcome, reason, row (the row's place in the file) and every id
    each is known by (`id0`: its item key, then the `_SETTLED_KEYS` columns; empty ones null).
    `Settled.keys` is these ids, nulls and repeats left out.

    A scan, not a frame: a day's file is mostly settled rows (10M at 10M lines), and a reader wants a
    few of them (those closing an open item), so it filters before collecting (`collect_streaming`).
    A settled row's item key is its base key: copies (`#n`) and a group's anchor are told apart
    among the discrepancy rows only (`layer1_frame`)."""
    scan = pl.scan_parquet(path)
    names = scan.collect_schema().names()
    col = lambda c, dtype=pl.String: _column(names, c, dtype)  # noqa: E731
    ids = [_base_key(names), *(_text_or_null(names, c) for c in _SETTLED_KEYS)]
    return (scan.with_row_index("row").filter(_is_settled())
            .select("row", pl.lit(1, pl.Int64).alias("layer"), "channel", account=col("account").fill_null(""),
                    business_date=pl.coalesce(col("carried_from", pl.Date), pl.col("business_date")),
                    outcome="outcome", reason=col("reason").fill_null(""),
                    **{name: e for name, e in zip(SETTLED_IDS, ids, strict=True)}))


def collect_streaming(scan: pl.LazyFrame) -> pl.DataFrame:
    """A scan of a day's results collected by polars' streaming engine: a filter over a 10M-row file
    holds a batch of it at a time, where the in-memory engine would read every row first."""
    return scan.collect(engine="streaming")


def settled_keys(good: pl.DataFrame) -> pl.DataFrame:
    """One row per (settled row, id it is known by), ids in `Settled.keys` order."""
    return (good.unpivot(SETTLED_IDS, index=["row", "layer", "channel", "account", "business_date", "outcome",
                                              "reason"], variable_name="n", value_name="key")
            .filter(pl.col("key").is_not_null()))


def read_layer1(path: Path) -> tuple[list[Discrepancy], list[Settled]]:
    return read_layer1_discrepancies(path), settled_records(collect_streaming(settled_layer1(path)))


def settled_records(good: pl.DataFrame) -> list[Settled]:
    """A `settled_layer1` frame as Settled records, in file order (for readers that want them all)."""
    return [Settled(1, channel, account, day, tuple(dict.fromkeys(k for k in ids if k)), outcome, reason)
            for channel, account, day, outcome, reason, *ids in
            good.select("channel", "account", "business_date", "outcome", "reason", *SETTLED_IDS).iter_rows()]


def read_layer1_discrepancies(path: Path) -> list[Discrepancy]:
    """The discrepancies of a layer-1 file as records: only its discrepancy rows are read (a day's
    file is mostly matched rows), by a streaming scan, in file order."""
    shown = (collect_streaming(pl.scan_parquet(path).with_row_index("q_place").filter(~_is_settled()))
             .sort("q_place").drop("q_place"))
    found: list[dict[str, Any]] = []
    lines: dict[str, list[dict[str, Any]]] = {}  # combined payments (1:N groups) by group id
    for row in shown.iter_rows(named=True):
        carried = row.get("carried_from")
        day = carried or row["business_date"]
        key = (row.get("match_key") or row.get("our_txn_id") or row.get("their_channel_txn_id")
               or row.get("our_merchant_txn_id") or row.get("their_merchant_txn_id") or "?")
        account = row.get("account") or ""
        detail = {
            "ours": {c[4:]: _shown(row, c) for c in _OUR if row.get(c) is not None},
            "theirs": {c[6:]: _shown(row, c) for c in _THEIR if row.get(c) is not None},
            "pass_name": row.get("pass_name"), "confidence": _text(row.get("confidence")),
            "carried_from": _text(carried), "results_file": str(path),
        }
        found.append(dict(
            layer=1, kind=row["outcome"], channel=row["channel"], account=account,
            business_date=day, key=key, pending=row["outcome"] == "PENDING",
            currency=row.get("our_currency") or row.get("their_currency"),
            our_amount=_money(row.get("our_amount"), path, "our_amount"),
            their_amount=_money(row.get("their_amount"), path, "their_amount"),
            # A fee mismatch's difference is the fee's (the amounts agree); the rest, the amount's.
            diff=_money(row.get("diff_fee" if row["outcome"] == "FEE_MISMATCH" else "diff_amount"), path, "diff"),
            our_fee=_money(row.get("our_fee"), path, "our_fee"),
            their_fee=_money(row.get("their_fee"), path, "their_fee"),
            our_status=row.get("our_status"), their_status=row.get("their_status"),
            reason=row.get("reason") or "", detail=detail,
        ))
        if (row.get("group_size") or 1) > 1 and row.get("group_id") is not None:
            found[-1]["group"] = row["group_id"]
            lines.setdefault(row["group_id"], []).append(found[-1])
    anchors = {gid: _anchor(members) for gid, members in lines.items()}
    _unique_keys([rec for rec in found if not _member(rec, anchors)])
    for gid, members in lines.items():
        _one_item_per_group(members, anchors[gid])
    for rec in found:
        rec.pop("group", None)
        rec["detail"] = json.dumps(rec["detail"], sort_keys=True, ensure_ascii=False)
    return [Discrepancy(**rec) for rec in found]


def _anchor(members: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The row that speaks for a group: the one carrying its difference (an N:M group's first row,
    a 1:N group's line with our order's money), else the first carrying our money."""
    return next((m for m in members if m["diff"] is not None),
                next((m for m in members if m["our_amount"] is not None), None))


def _member(rec: dict[str, Any], anchors: dict[str, dict[str, Any] | None]) -> bool:
    """A row of a group (combined payment or N:M batch) other than its anchor."""
    return "group" in rec and anchors.get(rec["group"]) is not None and anchors[rec["group"]] is not rec


def _one_item_per_group(members: list[dict[str, Any]], anchor: dict[str, Any] | None) -> None:
    """A group is one problem: its anchor's item carries both sides' totals, its lines and our rows.

    Sums over the members count each row once: a 1:N group's lines repeat our order without its
    money, an N:M group's rows each carry their own.
    """
    if anchor is None:
        return
    def total(name: str) -> Decimal:
        return sum((m[name] or Decimal(0) for m in members), Decimal(0))
    theirs, ours = total("their_amount"), total("our_amount")
    anchor.update(their_amount=theirs, our_amount=ours, their_fee=total("their_fee"), our_fee=total("our_fee"))
    our_rows: dict[str, dict[str, Any]] = {}  # by txn id: a 1:N group's lines all name our one order
    for m in sorted(members, key=lambda m: m["our_amount"] is None):
        if m["detail"]["ours"]:
            our_rows.setdefault(m["detail"]["ours"].get("txn_id"), m["detail"]["ours"])
    anchor["detail"]["group"] = {
        "id": anchor["group"], "size": len(members), "their_total": plain(theirs, anchor["currency"]),
        "our_total": plain(ours, anchor["currency"]),
        "lines": [m["detail"]["theirs"] for m in members if m["detail"]["theirs"]],
        "our_rows": list(our_rows.values())}
    for m in members:
        if m is not anchor:
            m.update(key=anchor["key"], member=True)


def _period(row: dict[str, Any]) -> dt.date:
    """The day an item of a generic layer is about: a settlement's period, else the row's day."""
    if row.get("section") == "settlement" and row.get("period_start") is not None:
        return row["period_start"]
    return row["business_date"]


def read_generic(path: Path, layer: int) -> tuple[list[Discrepancy], list[Settled]]:
    frame = pl.read_parquet(path)
    missing = [c for c in GENERIC_COLUMNS if c not in frame.columns]
    if missing:
        raise StageFailed(f"{path}: missing column(s) {', '.join(missing)}")
    found: list[dict[str, Any]] = []
    settled: list[Settled] = []
    for row in frame.iter_rows(named=True):
        # Layers 2 and 3 also write their good news (BILL_OK, SETTLED, CASH_OK...): not items, but
        # they close the item of the same period (a settlement paid in parts closes when paid up).
        # Waiting kinds (a payout in transit) are items in PENDING, closed when they stop appearing.
        waiting = row["kind"] == "PENDING" or row["kind"] in WAITING_KINDS
        if row.get("is_discrepancy") is False and not waiting:
            payouts = row.get("payout_ids")
            why = row["reason"] or ""
            if payouts:
                why = f"paid by {payouts.replace(',', ', ')}: {why}" if why else f"paid by {payouts}"
            figures = tuple((c, _money(row[c], path, c)) for c in ("our_amount", "their_amount", "diff"))
            settled.append(Settled(layer, row["channel"], row.get("account") or "", _period(row),
                                   (str(row["key"]),), row["kind"], why, figures))
            continue
        extra = {c: _text(v) for c, v in row.items() if c not in GENERIC_COLUMNS and v is not None}
        extra["results_file"] = str(path)
        found.append(dict(
            layer=layer, kind=row["kind"], channel=row["channel"], account=row.get("account") or "",
            business_date=_period(row), key=str(row["key"]), pending=waiting,
            currency=row.get("currency"),
            our_amount=_money(row["our_amount"], path, "our_amount"),
            their_amount=_money(row["their_amount"], path, "their_amount"),
            diff=_money(row["diff"], path, "diff"),
            our_fee=None, their_fee=None, our_status=None, their_status=None,
            reason=row["reason"] or "", detail=json.dumps({"extra": extra}, sort_keys=True, ensure_ascii=False),
        ))
    _unique_keys(found)
    return [Discrepancy(**rec) for rec in found], settled


def read_day(results_dir: Path) -> tuple[dict[int, list[Discrepancy]], list[Settled]]:
    """Every layer file present for the day; an absent layer is simply not reported."""
    by_layer, settled, layer1 = read_day_columns(results_dir)
    return by_layer, _in_layer_order(settled, settled_records(collect_streaming(layer1)))


def _in_layer_order(generic: list[Settled], layer1: list[Settled]) -> list[Settled]:
    return [s for s in generic if s.layer < 1] + layer1 + [s for s in generic if s.layer > 1]


def read_day_columns(results_dir: Path) -> tuple[dict[int, list[Discrepancy]], list[Settled], pl.LazyFrame]:
    """As `read_day`, with layer 1's settled rows left as a `settled_layer1` scan (empty without a
    layer-1 file) and the other layers' settled rows (a few per period) as records."""
    by_layer: dict[int, list[Discrepancy]] = {}
    settled: list[Settled] = []
    layer1 = pl.LazyFrame(schema=SETTLED_SCHEMA)
    for layer, name in LAYER_FILES.items():
        path = results_dir / name
        if not path.exists():
            continue
        if layer == 1:
            by_layer[layer], layer1 = read_layer1_discrepancies(path), settled_layer1(path)
        else:
            by_layer[layer], good = read_generic(path, layer)
            settled += good
    return by_layer, settled, layer1
