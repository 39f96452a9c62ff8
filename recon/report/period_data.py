"""Everything a period report shows (`recon report --since D1 --until D2`), gathered before writing.

The period report reads what the daily one reads, for every stored day of the period:
results/<D>/layer{0,1,2,3}.parquet, clearing/<D>/settlements.csv, and the queue (items still open
at the period's end, aged at that end with the queue's own definition, `recon.queue.store.to_item`).

Every results row of every layer is counted into one fact per (date, layer, channel, account,
currency, kind, class): `n` rows and their amount at stake, where class is OK (checked and in order:
`OK_OUTCOMES`), waiting (a window still open: `WAITING_OUTCOMES`) or a discrepancy, counted as the
file streams by (`counting.count_groups`): a day is never held whole, and a month of million-row
days is a few thousand facts. All figures are polars sums of those facts over the exact Decimal
columns; nothing here is float.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl
from sqlalchemy import select

from recon.excel.words import OK_OUTCOMES, WAITING_OUTCOMES
from recon.money import parse_amount
from recon.queue.query import Filter, select_items
from recon.queue.severity import aging_bucket, severity
from recon.queue.store import Item, queue_engine
from recon.report.counting import count_groups
from recon.schema import MONEY
from recon.store.tables.queue import ACTIVE_STATES, State, queue_items

LAYERS = (0, 1, 2, 3)
OK, WAITING, DISCREPANCY = "ok", "waiting", "discrepancy"
CLEARING_COLUMNS = ("merchant_id", "currency", "gross", "refunds", "fees", "splits", "held", "net_payable")
CLEARING_MONEY = CLEARING_COLUMNS[2:]
FACT_INPUTS = frozenset({"channel", "account", "currency", "our_currency", "their_currency", "outcome", "kind",
                         "diff_amount", "diff", "their_amount", "our_amount", "diff_fee", "is_discrepancy"})
_FACT_SCHEMA = {"date": pl.Date(), "layer": pl.Int8(), "channel": pl.String(), "account": pl.String(),
                "currency": pl.String(), "kind": pl.String(), "class": pl.String(), "n": pl.Int64(),
                "stake": MONEY}


@dataclass
class PeriodData:
    since: dt.date
    until: dt.date
    workspace: str
    days: list[dt.date] = field(default_factory=list)  # days of the period with stored results
    facts: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_FACT_SCHEMA))
    open_items: list[Item] = field(default_factory=list)  # open at the period's end, aged at it
    clearing: pl.DataFrame | None = None  # per merchant and currency, summed over the period
    clearing_days: list[dt.date] = field(default_factory=list)

    @property
    def missing_days(self) -> list[dt.date]:
        stored = set(self.days)
        span = (self.until - self.since).days + 1
        return [d for d in (self.since + dt.timedelta(days=n) for n in range(span)) if d not in stored]

    def per_channel_day(self) -> pl.DataFrame:
        """One row per day, layer, channel, account and currency: lines, OK, waiting, discrepancies, amount."""
        return _counts(self.facts, ["date", "layer", "channel", "account", "currency"])

    def per_channel(self) -> pl.DataFrame:
        """The period in one table: every layer and channel (the Summary)."""
        return _counts(self.facts, ["layer", "channel", "account", "currency"])

    def per_day(self) -> pl.DataFrame:
        """One row per stored day: layer-1 lines and matched, discrepancies and waiting of every layer."""
        l1 = self.facts.filter(pl.col("layer") == 1)
        lines = l1.group_by("date").agg(lines=N.sum(), matched=_n(OK))
        rest = self.facts.group_by("date").agg(discrepancies=_n(DISCREPANCY), waiting=_n(WAITING))
        days = pl.DataFrame({"date": self.days}, schema={"date": pl.Date()})
        out = days.join(lines, on="date", how="left").join(rest, on="date", how="left")
        return out.with_columns(pl.col(c).fill_null(0).cast(pl.Int64)
                                for c in ("lines", "matched", "discrepancies", "waiting")).sort("date")

    def kinds_day(self) -> pl.DataFrame:
        """Discrepancies per day, layer, channel, kind and currency: count and amount at stake."""
        return (self.facts.filter(pl.col("class") == DISCREPANCY)
                .group_by("date", "layer", "channel", "kind", "currency")
                .agg(count=N.sum(), amount=pl.col("stake").sum())
                .sort("date", "layer", "channel", "kind", "currency", nulls_last=True))

    def kinds(self) -> pl.DataFrame:
        """Discrepancies of the period per layer, kind and currency."""
        return (self.facts.filter(pl.col("class") == DISCREPANCY)
                .group_by("layer", "kind", "currency").agg(count=N.sum(), amount=pl.col("stake").sum())
                .sort("layer", "kind", "currency", nulls_last=True))

    def kind_pivot(self) -> tuple[list[str], list[tuple[dt.date, list[int]]]]:
        """Discrepancy counts per day (rows) and kind (columns), every stored day present (the chart's data)."""
        counts = self.facts.filter(pl.col("class") == DISCREPANCY).group_by("date", "kind").agg(N.sum())
        kinds = sorted(set(counts["kind"].to_list()))
        got = {(d, k): n for d, k, n in counts.iter_rows()}
        return kinds, [(d, [got.get((d, k), 0) for k in kinds]) for d in self.days]

    def channel_pivot(self) -> tuple[list[str], list[tuple[dt.date, list[tuple[int, int]]]]]:
        """Layer-1 (matched, lines) per day (rows) and channel (columns)."""
        l1 = (self.facts.filter(pl.col("layer") == 1).group_by("date", "channel")
              .agg(matched=_n(OK), lines=N.sum()))
        channels = sorted(set(l1["channel"].to_list()))
        got = {(d, c): (m, n) for d, c, m, n in l1.iter_rows()}
        return channels, [(d, [got.get((d, c), (0, 0)) for c in channels]) for d in self.days]


N = pl.col("n")


def _n(cls: str) -> pl.Expr:
    """Rows of one class (OK, waiting, discrepancy) among the facts being summed."""
    return N.filter(pl.col("class") == cls).sum()


def _counts(facts: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return (facts.group_by(keys)
            .agg(lines=N.sum(), ok=_n(OK), waiting=_n(WAITING), discrepancies=_n(DISCREPANCY),
                 amount=pl.col("stake").filter(pl.col("class") == DISCREPANCY).sum())
            .sort(keys, nulls_last=True))


def _col(names: set[str], *wanted: str) -> pl.Expr:
    present = [n for n in wanted if n in names]
    if not present:
        return pl.lit(None)
    return pl.coalesce(*present) if len(present) > 1 else pl.col(present[0])


def layer_facts(lazy: pl.LazyFrame, date: dt.date, layer: int) -> pl.DataFrame:
    """The facts of one results file (layer 1's `outcome` is the other layers' `kind`), counted over
    its FACT_INPUTS columns as it streams by (counting.count_groups): a day is never held whole."""
    names = set(lazy.collect_schema().names())
    kind = "outcome" if layer == 1 else "kind"
    money = [c for c in ("diff_amount", "diff", "their_amount", "our_amount") if c in names]
    stake = (pl.coalesce(*[pl.col(c).cast(MONEY) for c in money]).abs() if money else pl.lit(None)).cast(MONEY)
    k = pl.col(kind)
    if "diff_fee" in names:  # a fee mismatch is about the fee (as its queue item's diff is)
        stake = pl.when(k == "FEE_MISMATCH").then(pl.col("diff_fee").cast(MONEY).abs()).otherwise(stake)
    ok = k.is_in(list(OK_OUTCOMES))
    if "is_discrepancy" in names:  # layers 2/3 say which rows a person must look at, as the queue reads them
        ok = ok | ((pl.col("is_discrepancy") == False) & ~k.is_in(list(WAITING_OUTCOMES)))  # noqa: E712
    cls = pl.when(ok).then(pl.lit(OK)).when(k.is_in(list(WAITING_OUTCOMES))) \
        .then(pl.lit(WAITING)).otherwise(pl.lit(DISCREPANCY))
    keys = {"channel": _col(names, "channel").cast(pl.String), "account": _col(names, "account").cast(pl.String),
            "currency": _col(names, "currency", "our_currency", "their_currency").cast(pl.String),
            "kind": k.cast(pl.String), "class": cls}
    facts = count_groups(lazy, FACT_INPUTS, keys, {"n": pl.len().cast(pl.Int64), "stake": stake.sum()})
    facts = facts.select(pl.lit(date, pl.Date()).alias("date"), pl.lit(layer, pl.Int8()).alias("layer"), pl.all())
    return facts.sort("date", "layer", *keys, nulls_last=True)


def _clearing_day(path: Path) -> pl.DataFrame | None:
    if not path.exists():
        return None
    frame = pl.read_csv(path, infer_schema=False)  # strings: money parsed exactly
    return frame.select(
        pl.col("merchant_id"), pl.col("currency"),
        *(pl.col(c).map_elements(lambda v: Decimal(0) if v in (None, "") else parse_amount(v), return_dtype=MONEY)
          for c in CLEARING_MONEY))


def open_at(ws, until: dt.date) -> list[Item]:
    """Items open at the end of `until`, aged at `until` as the queue ages them (oldest first).

    Open now, or closed after the period's end: a person's decision by its time in the workspace's
    zone, an automatic close by the results day that settled it (`last_seen`; the demo and a
    back-fill run many days in minutes, so the clock would say they were all open).
    """
    th = ws.settings.queue
    with queue_engine(ws).connect() as conn:
        items = select_items(conn, Filter(until=until), th, until, "age")
        auto = [i.id for i in items if i.status == State.AUTO_RESOLVED.value]
        settled_on = dict(conn.execute(select(queue_items.c.id, queue_items.c.last_seen)
                                       .where(queue_items.c.id.in_(auto))).all()) if auto else {}
    out = []
    for i in items:
        if i.status in ACTIVE_STATES:
            out.append(i)
            continue
        closed = settled_on.get(i.id) if i.id in settled_on else \
            (_local_date(i.closed_at, ws.zone) if i.closed_at is not None else None)
        if closed is not None and closed > until:
            age = max((until - i.business_date).days, 0)  # to_item stops ageing at the close; this was open
            out.append(dataclasses.replace(i, age_days=age, aging_bucket=aging_bucket(age),
                                           severity=severity(i.at_stake, age, th)))
    return sorted(out, key=lambda i: (-i.age_days, i.id))


def _local_date(instant: dt.datetime, zone) -> dt.date:
    return (instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)).astimezone(zone).date()


def gather_period(ws, since: dt.date, until: dt.date) -> PeriodData:
    data = PeriodData(since=since, until=until, workspace=ws.root.name)
    facts, clearing = [], []
    for n in range((until - since).days + 1):
        day = since + dt.timedelta(days=n)
        results = ws.results_dir(day)
        stored = False
        for layer in LAYERS:
            path = results / f"layer{layer}.parquet"
            if path.exists():
                stored = True
                facts.append(layer_facts(pl.scan_parquet(path), day, layer))
        if stored:
            data.days.append(day)
        settled = _clearing_day(ws.clearing_dir(day) / "settlements.csv")
        if settled is not None:
            clearing.append(settled)
            data.clearing_days.append(day)
    if facts:
        data.facts = pl.concat([f.cast(_FACT_SCHEMA) for f in facts])
    if clearing:
        data.clearing = (pl.concat(clearing).group_by("merchant_id", "currency")
                         .agg(*(pl.col(c).sum() for c in CLEARING_MONEY)).sort("merchant_id", "currency"))
    data.open_items = open_at(ws, until)
    return data
