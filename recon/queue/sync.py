"""The queue hook: upsert a day's discrepancies into the queue (`sync_results(ws, date)`).

Matching calls this after writing `results/<D>/layer*.parquet`, and again on every re-run. The
rules, in the order a person would expect them:
- a discrepancy seen for the first time becomes an item (OPEN, or PENDING for cross-day rows);
- one already in the queue is updated in place: an item is what it is about (layer, channel,
  account, period, key; unique in the database), so a PENDING that ages out becomes LOCAL_ONLY /
  CHANNEL_ONLY in the same item, and the event says so;
- the newest day decides: the results of a day earlier than the last day that reported an item
  (a re-run of day one after day two matched it) leave the item as the later day left it;
- a person's decision survives re-runs: a RESOLVED or WRITTEN_OFF item stays closed unless the
  figures it was decided on changed; then it re-opens and the event says what changed;
- an open item that a re-run of its day no longer reports, or that a later day matched (a
  cross-day row arriving in the next bill), becomes AUTO_RESOLVED with the reason;
- a day whose statement came late, run after a later day that already settled a period (layers 2
  and 3), raises no item for that period's old shortfall: the later day has spoken.
Everything is one transaction: a failed sync leaves the queue as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import bindparam, insert, or_, select, update

from recon.clock import utcnow
from recon.core.accounting import accounting_of
from recon.queue import adjustments
from recon.queue.sources import (LAYER_FILES, SETTLED_IDS, Discrepancy, Identity, Settled, collect_streaming,
                                 read_day_columns, read_generic, settled_keys)
from recon.queue.store import queue_engine
from recon.store.tables.queue import ACTIVE_STATES, Resolution, State, queue_events, queue_items

ACTOR = "recon-sync"
_FIGURES = ("currency", "our_amount", "their_amount", "diff", "our_fee", "their_fee", "our_status", "their_status")


@dataclass
class SyncReport:
    date: dt.date
    created: int = 0
    updated: int = 0
    reopened: int = 0
    auto_resolved: int = 0
    unchanged: int = 0
    layers: tuple[int, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        return {"date": self.date.isoformat(), "created": self.created, "updated": self.updated,
                "reopened": self.reopened, "auto_resolved": self.auto_resolved,
                "unchanged": self.unchanged, "layers": list(self.layers)}


def _row_figures(row) -> dict[str, str | None]:
    text = lambda v: v if v is None or isinstance(v, str) else format(v, "f")  # noqa: E731
    return {n: text(getattr(row, n)) for n in _FIGURES}


def _changes(old: dict, new: dict) -> str:
    return "; ".join(f"{k} {old[k] or '-'} -> {new[k] or '-'}" for k in _FIGURES if old[k] != new[k])


def _values(d: Discrepancy) -> dict[str, object]:
    return {n: getattr(d, n) for n in (*_FIGURES, "reason", "detail")}


def _settled_index(settled: list[Settled]) -> dict[tuple, Settled]:
    return {(s.layer, s.channel, s.account, s.business_date, k): s for s in settled for k in s.keys}


def _layer1_hits(layer1: pl.LazyFrame, wanted: set[tuple]) -> dict[tuple, Settled]:
    """The settled layer-1 rows known by one of the `wanted` identities, as `_settled_index` would
    index them (the last row in the file wins): the day's matched rows are scanned for the wanted
    keys, never held whole nor iterated."""
    wanted1 = [w for w in wanted if w[0] == 1]
    if not wanted1:
        return {}
    probe = pl.DataFrame([w[1:] for w in wanted1], orient="row", schema={
        "channel": pl.String, "account": pl.String, "business_date": pl.Date, "key": pl.String})
    some = collect_streaming(layer1.filter(
        pl.any_horizontal(pl.col(SETTLED_IDS).is_in(probe["key"].unique().implode()))))
    hits = (settled_keys(some).join(probe, on=["channel", "account", "business_date", "key"], how="semi")
            .sort("row").unique(["channel", "account", "business_date", "key"], keep="last"))
    return {(1, r["channel"], r["account"], r["business_date"], r["key"]):
            Settled(1, r["channel"], r["account"], r["business_date"], (r["key"],), r["outcome"], r["reason"])
            for r in hits.iter_rows(named=True)}


def _settled_later(ws, date: dt.date) -> set[tuple]:
    """Identities that the layer-2/3 results of a day after `date` report settled.

    Only these layers: their files are one row per period or account, so reading every later day
    stays cheap, and only their outcomes are decided by money arriving after the day.
    """
    later: set[tuple] = set()
    root = ws.results_dir(date).parent
    if not root.is_dir():
        return later
    for day_dir in sorted(root.iterdir()):
        try:
            day = dt.date.fromisoformat(day_dir.name)
        except ValueError:
            continue
        if day <= date:
            continue
        for layer in (2, 3):
            path = day_dir / LAYER_FILES[layer]
            if path.exists():
                later |= set(_settled_index(read_generic(path, layer)[1]))
    return later


def sync_results(ws, date: dt.date) -> SyncReport:
    """Upsert every discrepancy in `results/<date>/layer*.parquet` into the queue."""
    by_layer, settled, layer1 = read_day_columns(ws.results_dir(date))
    report = SyncReport(date=date, layers=tuple(sorted(by_layer)))
    if not by_layer:
        return report
    incoming: dict[Identity, Discrepancy] = {d.identity: d for ds in by_layer.values() for d in ds if not d.member}
    # the periods the day's matched rows settle: items of those periods may close (read first, so
    # that only the open items' keys are then looked up among the matched rows)
    periods = collect_streaming(layer1.select(pl.col("business_date").unique()))["business_date"]
    days = {date} | {k[3] for k in incoming} | {s.business_date for s in settled} | set(periods.to_list())
    engine = queue_engine(ws)
    now = utcnow()
    with engine.begin() as conn:
        c = queue_items.c
        rows = conn.execute(select(queue_items).where(
            c.layer.in_(report.layers), or_(c.business_date.in_(sorted(days)), c.last_seen == date))).all()
        existing = {(r.layer, r.channel, r.account, r.business_date, r.key): r for r in rows}
        updates: list[dict] = []
        events: list[dict] = []

        def event(item_id: int, action: str, old: str | None, new: str, note: str, data: dict | None = None):
            events.append(dict(item_id=item_id, at=now, actor=ACTOR, action=action, from_state=old,
                               to_state=new, note=note, data=json.dumps(data or {}, sort_keys=True), ref=None))

        new_items: list[Discrepancy] = []
        unbooked = []  # accepted row items this re-run re-opened, their adjustments reversed
        for ident, d in incoming.items():
            row = existing.get(ident)
            if row is None:
                new_items.append(d)
                continue
            if row.last_seen > date:
                # A later day has already spoken about this item (matched it, aged it out): the
                # results of an earlier day, re-run, never overrule it.
                report.unchanged += 1
                continue
            fresh = State.PENDING.value if d.pending else State.OPEN.value
            old_fig, new_fig = _row_figures(row), d.figures()
            changed = "; ".join(x for x in ((f"kind {row.kind} -> {d.kind}" if row.kind != d.kind else ""),
                                            _changes(old_fig, new_fig)) if x)
            base = dict(_id=row.id, kind=row.kind, **_values(d), last_seen=max(row.last_seen, date),
                        status=row.status, resolution=row.resolution, closed_at=row.closed_at,
                        updated_at=row.updated_at, version=row.version)
            data = {"before": {"kind": row.kind, **old_fig}, "after": {"kind": d.kind, **new_fig}}
            if row.status in ACTIVE_STATES:
                if changed:
                    status = fresh if row.kind != d.kind else row.status
                    base.update(kind=d.kind, status=status, updated_at=now, version=row.version + 1)
                    event(row.id, "updated", row.status, status,
                          f"{changed} in the results of {date.isoformat()}", data)
                    report.updated += 1
                else:
                    report.unchanged += 1
            elif row.status == State.AUTO_RESOLVED.value or _changes(old_fig, new_fig):
                why = (f"{changed} in the results of {date.isoformat()}" if changed
                       else f"reported again by the results of {date.isoformat()}")
                base.update(kind=d.kind, status=fresh, resolution=None, closed_at=None, updated_at=now,
                            version=row.version + 1)
                # The acceptance rested on the old figures: its adjustment goes with it.
                reversed_ = adjustments.reverse_live(conn, row.id, f"reopened by {ACTOR}: {why}")
                if reversed_ and row.layer == adjustments.ROW_LAYER:
                    unbooked.append(row)
                event(row.id, "reopened", row.status, fresh, why,
                      {**data, **({"reversed": reversed_} if reversed_ else {})})
                report.reopened += 1
            else:
                report.unchanged += 1  # a person's decision stands: the figures it rested on hold
            updates.append(base)

        # Open items this day's results no longer report, or that a settled row now matches.
        settled_index = _settled_index(settled)
        settled_index |= _layer1_hits(layer1, {(r.layer, r.channel, r.account, r.business_date, r.key.split("#", 1)[0])
                                               for ident, r in existing.items() if ident not in incoming})
        for ident, row in existing.items():
            if ident in incoming or row.last_seen > date:
                continue
            base_key = row.key.split("#", 1)[0]
            hit: Settled | None = settled_index.get((row.layer, row.channel, row.account, row.business_date, base_key))
            if row.status not in ACTIVE_STATES:
                if hit is not None and date > row.last_seen:
                    # A closed item this later day settled: it has spoken, so an earlier day's
                    # re-run (its old shortfall) must not re-open the person's decision.
                    updates.append(dict(_id=row.id, kind=row.kind, last_seen=date,
                                        **{n: getattr(row, n) for n in (*_FIGURES, "reason", "detail", "status",
                                                                        "resolution", "closed_at", "updated_at",
                                                                        "version")}))
                elif row.last_seen == date and row.resolution == Resolution.ACCEPT_CHANNEL.value:
                    # Accepted on figures a re-run of its own day no longer reports (the channel
                    # corrected its bill): the adjustment rested on them, so it goes with them (and a
                    # bill item's residual is not re-posted for a difference that is gone).
                    why = (f"{hit.outcome if hit is not None else 'no longer reported'} when "
                           f"{date.isoformat()} was re-run: the accepted difference is gone")
                    reversed_ = adjustments.reverse_live(conn, row.id, f"auto-resolved by {ACTOR}: {why}")
                    if row.layer == adjustments.ROW_LAYER:
                        unbooked.append(row)
                    updates.append(dict(_id=row.id, kind=row.kind, last_seen=date, status=State.AUTO_RESOLVED.value,
                                        resolution="auto", closed_at=now, updated_at=now, version=row.version + 1,
                                        **{n: getattr(row, n) for n in (*_FIGURES, "reason", "detail")}))
                    event(row.id, "auto_resolved", row.status, State.AUTO_RESOLVED.value, why, {"reversed": reversed_})
                    report.auto_resolved += 1
                continue
            if hit is not None:
                why = f"{hit.outcome} in the results of {date.isoformat()}" + (f": {hit.reason}" if hit.reason else "")
            elif row.last_seen == date:
                why = f"no longer reported by layer {row.layer} when {date.isoformat()} was re-run"
            else:
                continue
            final = dict(hit.figures) if hit is not None else {}
            updates.append(dict(_id=row.id, kind=row.kind,
                                **{n: final.get(n, getattr(row, n)) for n in (*_FIGURES, "reason", "detail")},
                                last_seen=date, status=State.AUTO_RESOLVED.value,
                                resolution="auto", closed_at=now, updated_at=now, version=row.version + 1))
            event(row.id, "auto_resolved", row.status, State.AUTO_RESOLVED.value, why)
            report.auto_resolved += 1

        if new_items and any(d.layer in (2, 3) for d in new_items):
            settled_later = _settled_later(ws, date)
            report.unchanged += sum(d.identity in settled_later for d in new_items)
            new_items = [d for d in new_items if d.identity not in settled_later]
        if new_items:
            params = [dict(layer=d.layer, kind=d.kind, channel=d.channel, account=d.account,
                           business_date=d.business_date, key=d.key,
                           status=State.PENDING.value if d.pending else State.OPEN.value,
                           **_values(d), first_seen=date, last_seen=date, created_at=now,
                           updated_at=now, version=1) for d in new_items]
            ids = conn.execute(insert(queue_items).returning(queue_items.c.id, sort_by_parameter_order=True),
                               params).scalars().all()
            for item_id, p in zip(ids, params, strict=True):
                event(item_id, "created", None, p["status"], p["reason"])
            report.created = len(ids)
        if updates:
            cols = ["kind", *_FIGURES, "reason", "detail", "last_seen", "status", "resolution", "closed_at",
                    "updated_at", "version"]
            # Bind names must differ from column names in an executemany UPDATE.
            conn.execute(update(queue_items).where(queue_items.c.id == bindparam("_id"))
                         .values({c: bindparam(f"v_{c}") for c in cols}),
                         [{"_id": u["_id"], **{f"v_{c}": u[c] for c in cols}} for u in updates])
        if unbooked:
            why = f"row items re-opened by the results of {date.isoformat()}"
            for bill, data in adjustments.repost_residuals(conn, unbooked, accounting_of(ws), why):
                event(bill.id, "residual_reposted", bill.status, bill.status, why, data)
        if events:
            conn.execute(insert(queue_events), events)
    return report
