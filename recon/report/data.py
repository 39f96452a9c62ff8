"""Everything the day's report shows, gathered from the workspace before a single cell is written.

The report only reads: results/<D>/layer*.parquet (and layer1 of the 29 days before, for the trend),
clearing/<D>/settlements.csv, the raw archive and bills of the day (for the run info and its
sha256s), and the discrepancy queue (open items by age, the channel's answers to re-queries).
Gathering first and writing second keeps the sheet writers simple and lets write-only sheets know
their sizes (autofilter, widths) up front.
Figures are computed with polars on the exact Decimal columns; nothing here is float.
A 10M-line day's layer 1 is never held whole: its figures are one grouped query streamed over the
file (a row per channel, account, currency and outcome), and only the rows the sheets show are read.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import polars as pl

from recon.excel.words import OK_OUTCOMES, WAITING_OUTCOMES
from recon.files import sha256_file
from recon.money import parse_amount
from recon.queue.actions import REQUERY
from recon.queue.events import action_events
from recon.queue.query import Filter, admits, select_any
from recon.queue.severity import BUCKETS
from recon.queue.sources import SETTLED_OUTCOMES
from recon.queue.store import Item, queue_engine
from recon.report.counting import count_groups
from recon.report.queue_view import items_filter, queue_columns, row_identities
from recon.store.tables.queue import ACTIVE_STATES
from recon.workspace import Workspace

TREND_DAYS = 30
CLEARING_MONEY = ("gross", "refunds", "fees", "splits", "held", "net_payable")
LINE_COLUMNS = ("channel", "account", "outcome", "our_currency", "their_currency", "our_amount", "their_amount",
                "diff_amount")  # what DayData.lines counts
RUN_FILES = ("run.json", "manifest.json", "meta.json")  # matcher's run metadata, if it writes one


@dataclass
class DayData:
    date: dt.date
    # Layer 1's rows the sheets show (not settled, or a line of a group) with every column, and its
    # rows counted per channel, account, currency and outcome (_count_lines): a day's matched rows
    # are never read whole.
    layer1: pl.DataFrame | None = None
    lines: pl.DataFrame | None = None
    others: dict[int, pl.DataFrame] = field(default_factory=dict)  # layers 0, 2, 3
    clearing: pl.DataFrame | None = None
    trend: list[tuple[dt.date, int, int]] = field(default_factory=list)  # (day, settled, lines)
    open_by_age: list[tuple[str, str, int, Decimal]] = field(default_factory=list)
    requeries: list[tuple] = field(default_factory=list)  # the channel's answers about the day's items
    inputs: list[tuple[str, str, str, str]] = field(default_factory=list)  # source, file, sha256, note
    run_info: list[tuple[str, str]] = field(default_factory=list)
    as_of: dt.date | None = None  # the business today the queue's ages are counted to
    workspace: str = ""
    recon_version: str = "unknown"
    zones: dict[str, str] = field(default_factory=dict)  # channel -> its business zone's name
    queue: dict[int, pl.DataFrame] = field(default_factory=dict)  # layer -> queue_view.QUEUE_COLUMNS per row

    @property
    def layer1_discrepancies(self) -> pl.DataFrame | None:
        if self.layer1 is None:
            return None
        return self.layer1.filter(~pl.col("outcome").is_in(list(SETTLED_OUTCOMES)) & (pl.col("outcome") != "PENDING"))

    @property
    def pending(self) -> pl.DataFrame | None:
        return None if self.layer1 is None else self.layer1.filter(pl.col("outcome") == "PENDING")

    def per_channel(self) -> pl.DataFrame:
        """Lines, matched, matched %, discrepancies, pending and money at stake per channel."""
        if self.lines is None or self.lines.height == 0:
            return pl.DataFrame()
        settled = pl.col("outcome").is_in(list(SETTLED_OUTCOMES))
        n = pl.col("lines")
        return (
            self.lines.group_by("channel", "account", "currency")
            .agg(lines=n.sum(), matched=n.filter(settled).sum(),
                 discrepancies=n.filter(~settled & (pl.col("outcome") != "PENDING")).sum(),
                 pending=n.filter(pl.col("outcome") == "PENDING").sum(),
                 at_stake=pl.col("at_stake").sum())
            .sort("channel", "account", "currency")
        )

    def kinds_by_layer(self, group: str = "discrepancy") -> list[tuple[str, dict[int, int]]]:
        """Rows per kind and layer of one group: "discrepancy", "waiting" or "ok" (checked, OK).

        OK outcomes (MATCHED, BILL_OK, CASH_OK, SETTLED, PAYOUT_RECEIVED...) and waiting ones
        (PENDING, SETTLEMENT_PENDING, PAYOUT_IN_TRANSIT) are never counted as discrepancies.
        """
        counts: dict[str, dict[int, int]] = {}
        frames = {layer: frame.group_by("kind").len() for layer, frame in self.others.items()}
        if self.lines is not None:
            frames[1] = self.lines.group_by(kind="outcome").agg(len=pl.col("lines").sum())
        for layer, frame in frames.items():
            for kind, n in frame.iter_rows():
                if outcome_group(kind) == group:
                    counts.setdefault(kind, {})[layer] = n
        return sorted(counts.items())


def outcome_group(kind: str) -> str:
    """"ok", "waiting" or "discrepancy": the one rule the Summary's counts and charts follow."""
    if kind in OK_OUTCOMES:
        return "ok"
    return "waiting" if kind in WAITING_OUTCOMES else "discrepancy"


def _read_layer1(path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the rows the sheets show in file order, every row counted by _count_lines).

    Both stream over the file (polars' streaming engine): only the shown rows and the counts are
    ever held, whatever the day's size."""
    lazy = pl.scan_parquet(path)
    names = lazy.collect_schema().names()
    shown = ~pl.col("outcome").is_in(list(SETTLED_OUTCOMES))
    if "group_id" in names:  # groups.group_rows: every line of a group, matched ones too
        shown = shown | (pl.col("group_id").is_not_null() & (pl.col("group_size") > 1))
    return lazy.filter(shown).collect(engine="streaming"), _count_lines(lazy)


def _count_lines(lazy: pl.LazyFrame) -> pl.DataFrame:
    """Layer 1's rows per channel, account, currency and outcome: their number (`lines`) and the
    money at stake of the unsettled ones (`at_stake`), all DayData.per_channel and kinds_by_layer need.

    Summing the groups' exact Decimal sums again gives the same figures as summing the rows."""
    settled = pl.col("outcome").is_in(list(SETTLED_OUTCOMES))
    stake = pl.coalesce("diff_amount", "their_amount", "our_amount").abs()
    keys = {"channel": pl.col("channel"), "account": pl.col("account"),
            "currency": pl.coalesce("our_currency", "their_currency"), "outcome": pl.col("outcome")}
    return count_groups(lazy, LINE_COLUMNS, keys, {"lines": pl.len(), "at_stake": stake.filter(~settled).sum()})


def _read_layer1_counts(path: Path) -> tuple[int, int]:
    frame = pl.scan_parquet(path).select(
        settled=pl.col("outcome").is_in(list(SETTLED_OUTCOMES)).sum(), lines=pl.len()).collect(engine="streaming")
    return int(frame["settled"][0]), int(frame["lines"][0])


def _clearing(path: Path) -> pl.DataFrame | None:
    if not path.exists():
        return None
    frame = pl.read_csv(path, infer_schema=False)  # strings: money is parsed exactly below
    return frame.with_columns(
        pl.col(c).map_elements(lambda v: None if v in (None, "") else parse_amount(v), return_dtype=pl.Decimal(38, 6))
        for c in CLEARING_MONEY if c in frame.columns)


def _manifest_hashes(path: Path) -> dict[str, str]:
    """File name -> sha256 from a fetch manifest, whatever its exact shape (list or mapping)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entries = data.get("files", data) if isinstance(data, dict) else data
    out: dict[str, str] = {}
    if isinstance(entries, dict):
        out = {str(k): v if isinstance(v, str) else str(v.get("sha256", "")) for k, v in entries.items()}
    elif isinstance(entries, list):
        for e in entries:
            if isinstance(e, dict) and e.get("sha256"):
                name = e.get("name") or e.get("file") or e.get("path") or e.get("local_name") or ""
                out[Path(str(name)).name] = str(e["sha256"])
    return out


def _inputs(ws, date: dt.date) -> list[tuple[str, str, str, str]]:
    rows = []
    for raw_day in sorted((ws.root / "raw").glob(f"*/{date.isoformat()}")):
        known = _manifest_hashes(raw_day / "manifest.json")
        for f in sorted(p for p in raw_day.rglob("*") if p.is_file() and p.name != "manifest.json"):
            digest = sha256_file(f)
            note = "" if f.name not in known else ("manifest ok" if known[f.name] == digest else "MANIFEST MISMATCH")
            rows.append(("raw", str(f.relative_to(ws.root)), digest, note))
    for bill in sorted((ws.root / "bills").glob(f"*/{date.isoformat()}*.parquet")):
        rows.append(("bill", str(bill.relative_to(ws.root)), sha256_file(bill), ""))
    results = ws.results_dir(date)
    for f in sorted(results.glob("*.parquet")) if results.exists() else []:
        rows.append(("results", str(f.relative_to(ws.root)), sha256_file(f), ""))
    for f in ws.catalog.rule_files():
        try:
            version = str(tomllib.loads(f.read_text(encoding="utf-8")).get("version", ""))
        except (OSError, tomllib.TOMLDecodeError):
            version = "unreadable"
        rows.append(("rules", f.name, sha256_file(f), f"version {version}" if version else ""))
    return rows


def recon_version() -> str:
    try:
        return version("recon")
    except PackageNotFoundError:
        return "unknown"


def _run_info(ws: Workspace, date: dt.date) -> list[tuple[str, str]]:
    info = [("business_date", date.isoformat()), ("recon_version", recon_version()),
            ("language", ws.settings.report.language)]
    for name in RUN_FILES:
        path = ws.results_dir(date) / name
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                continue
            if isinstance(data, dict):  # timings, rule versions: flattened one level, as text
                info += [(f"{name}:{k}", json.dumps(v, ensure_ascii=False, sort_keys=True)
                          if isinstance(v, (dict, list)) else str(v)) for k, v in sorted(data.items())]
    return info


def _open_by_age(items: list[Item]) -> list[tuple[str, str, int, Decimal]]:
    """The open items of D and before, by the queue's own age (to `as_of`, the business today)."""
    totals: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for i in items:
        n, amount = totals.get((i.aging_bucket, i.currency or ""), (0, Decimal(0)))
        totals[(i.aging_bucket, i.currency or "")] = (n + 1, amount + i.at_stake)
    rows = [(b, c, n, a) for (b, c), (n, a) in totals.items()]
    return sorted(rows, key=lambda r: (BUCKETS.index(r[0]), r[1]))


REQUERY_COLUMNS = ("item", "channel", "kind", "key", "attempt", "asked_at", "status", "answer", "amount",
                   "currency", "channel_time", "outcome", "response_sha256")


def _requeries(conn, date: dt.date) -> list[tuple]:
    """One row per answer of the channel's order-query API about an item of the day (REQUERY_COLUMNS)."""
    rows = []
    for item, channel, kind, key, d in action_events(conn, date, REQUERY):
        outcome = " ".join(filter(None, (d.get("outcome"), d.get("proposal"))))
        rows.append((item, channel, kind, key, d.get("attempt"), d.get("asked_at"), d.get("status"),
                     d.get("said") or d.get("why"), d.get("amount"), d.get("currency"), d.get("time"), outcome,
                     d.get("response_sha256")))
    return rows


def _queue(ws: Workspace, data: DayData, identities: dict[int, pl.DataFrame]) -> None:
    """The day's queue views from one read of its items: each shown row's item (per layer), the open
    items by age, and the channel's answers about the day's items.

    The views overlap (a 10M-line day's ~50k items are the day's rows' and open ones alike), so the
    items are read once, with the ages every view shows (to `as_of`), and each view takes its own."""
    views = {layer: flt for layer, ids in identities.items() if (flt := items_filter(ids, layer))}
    open_items = Filter(until=data.date, states=ACTIVE_STATES)  # items of D and before still open
    with queue_engine(ws).connect() as conn:
        items = select_any(conn, [open_items, *views.values()], ws.settings.queue, data.as_of)
        for layer, ids in identities.items():
            flt = views.get(layer)
            data.queue[layer] = queue_columns(conn, ids, [i for i in items if flt and admits(flt, i)])
        data.open_by_age = _open_by_age([i for i in items if admits(open_items, i)])
        data.requeries = _requeries(conn, data.date)


def gather(ws, date: dt.date, as_of: dt.date | None = None) -> DayData:
    """The day as the report shows it; queue ages counted to `as_of` (default: the business today)."""
    results = ws.results_dir(date)
    as_of = as_of or ws.today()
    data = DayData(date=date, as_of=as_of, workspace=ws.root.name, recon_version=recon_version())
    identities: dict[int, pl.DataFrame] = {}  # layer -> queue_view.IDENTITY per row
    for layer in (0, 1, 2, 3):
        path = results / f"layer{layer}.parquet"
        if path.exists():
            if layer == 1:
                frame, data.lines = _read_layer1(path)
                data.layer1, channels = frame, data.lines["channel"]
            else:
                frame = data.others[layer] = pl.read_parquet(path)
                channels = frame["channel"]
            identities[layer] = row_identities(frame, path, layer)
            data.zones.update({c: (ws.channel_zone(c) if c in ws.settings.channels else ws.zone).key
                               for c in channels.drop_nulls().unique().to_list()})
    data.clearing = _clearing(ws.clearing_dir(date) / "settlements.csv")
    for back in range(TREND_DAYS - 1, -1, -1):
        day = date - dt.timedelta(days=back)
        path = ws.results_dir(day) / "layer1.parquet"
        if path.exists():
            data.trend.append((day, *_read_layer1_counts(path)))
    _queue(ws, data, identities)
    data.inputs = _inputs(ws, date)
    data.run_info = _run_info(ws, date)
    return data
