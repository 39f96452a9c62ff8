"""The queue item behind each result row the report shows: id, status, assignee, resolution, note, age.

A row is joined to its item by the queue's own identity (layer, channel, account, period, key),
computed by the queue's own reader (recon.queue.sources), so the report can never disagree with
`recon queue list` about which item a row is: a carried PENDING row names the item of the day it
was first seen, a line of a combined payment names its anchor's item, a DUPLICATE's copies get
their '#2' keys. Ages come from the queue's `to_item` with the same "today" as `recon queue list`
(the workspace's business today), so "11 days" in the report is "11 days" in the queue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from recon.errors import InvariantBroken
from recon.matching.layer23_results import WAITING_KINDS
from recon.queue.query import Filter, select_items
from recon.queue.sources import SETTLED_OUTCOMES, read_generic, read_layer1
from recon.queue.store import Item, histories, queue_engine

QUEUE_COLUMNS = ("queue_id", "queue_status", "assignee", "resolution", "queue_note", "age_days")


@dataclass(frozen=True, slots=True)
class Linked:
    item: Item
    note: str | None  # the latest note anyone wrote on the item (resolve, assign, comment)


def _identities(path: Path, layer: int) -> list[tuple | None]:
    """One identity per row of the results file, in file order (None for a row that is no item)."""
    frame = pl.read_parquet(path)
    if layer == 1:
        records, _ = read_layer1(path)
        is_item = ~pl.col("outcome").is_in(list(SETTLED_OUTCOMES))
    else:
        records, _ = read_generic(path, layer)
        waiting = (pl.col("kind") == "PENDING") | pl.col("kind").is_in(list(WAITING_KINDS))
        flagged = pl.col("is_discrepancy").fill_null(True) if "is_discrepancy" in frame.columns else pl.lit(True)
        is_item = flagged | waiting
    flags = frame.select(is_item.fill_null(True)).to_series().to_list()
    if len(records) != sum(flags):  # the queue's reader changed what a row is: never pin an item on the wrong row
        raise InvariantBroken(f"{path}: {len(records)} queue records for {sum(flags)} item rows")
    it = iter(records)
    return [next(it).identity if flag else None for flag in flags]


def queue_columns(ws, path: Path, layer: int, as_of: dt.date) -> pl.DataFrame:
    """QUEUE_COLUMNS for every row of `path`, in its order (nulls where a row has no item)."""
    ids = _identities(path, layer)
    wanted = {i for i in ids if i is not None}
    linked: dict[tuple, Linked] = {}
    if wanted:
        days = [i[3] for i in wanted]
        with queue_engine(ws).connect() as conn:
            items = select_items(conn, Filter(since=min(days), until=max(days), layer=layer),
                                 ws.settings.queue, as_of, "id")
            items = [i for i in items if (i.layer, i.channel, i.account, i.business_date, i.key) in wanted]
            events = histories(conn, [i.id for i in items])
        for i in items:
            # 'created' carries the reason it was opened with, which the row shows already
            notes = [e["note"] for e in events.get(i.id, []) if e["note"] and e["action"] != "created"]
            linked[(i.layer, i.channel, i.account, i.business_date, i.key)] = Linked(i, notes[-1] if notes else None)
    rows = []
    for ident in ids:
        hit = linked.get(ident) if ident is not None else None
        rows.append((None,) * len(QUEUE_COLUMNS) if hit is None else
                    (hit.item.id, hit.item.status, hit.item.assignee, hit.item.resolution, hit.note, hit.item.age_days))
    schema = {"queue_id": pl.Int64(), "queue_status": pl.String(), "assignee": pl.String(),
              "resolution": pl.String(), "queue_note": pl.String(), "age_days": pl.Int64()}
    return pl.DataFrame(rows, schema=schema, orient="row")
