"""The queue item behind each result row the report shows: id, status, assignee, resolution, note, age.

A row is joined to its item by the queue's own identity (layer, channel, account, period, key),
computed by the queue's own readers (recon.queue.sources: `layer1_frame` column-wise for layer 1,
`read_generic` for the small layers), so the report can never disagree with `recon queue list`
about which item a row is: a carried PENDING row names the item of the day it was first seen, a
line of a combined payment names its anchor's item, a DUPLICATE's copies get their '#2' keys.
Ages come from the queue's `to_item` with the same "today" as `recon queue list` (the workspace's
business today), so "11 days" in the report is "11 days" in the queue.

A 1M-line day has a million settled rows and a few thousand items: identities stay columns, the
items (one object each, as the queue reads them) become one small frame, and the rows meet their
items in one join; no row becomes a Python object.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from recon.errors import InvariantBroken
from recon.matching.layer23_results import WAITING_KINDS
from recon.queue.query import Filter, select_items
from recon.queue.sources import SETTLED_OUTCOMES, layer1_frame, read_generic
from recon.queue.store import histories, queue_engine

QUEUE_COLUMNS = ("queue_id", "queue_status", "assignee", "resolution", "queue_note", "age_days")
QUEUE_SCHEMA = {"queue_id": pl.Int64(), "queue_status": pl.String(), "assignee": pl.String(),
                "resolution": pl.String(), "queue_note": pl.String(), "age_days": pl.Int64()}
IDENTITY = ("q_channel", "q_account", "q_period", "q_key")
_IDENTITY_SCHEMA = {"q_channel": pl.String(), "q_account": pl.String(), "q_period": pl.Date(), "q_key": pl.String()}


def _layer1_identities(frame: pl.DataFrame) -> pl.DataFrame:
    """Layer 1: keyed column-wise. Only the rows that are items are keyed (a few thousand of a million):
    an item's key (its '#n', its group's anchor) depends on the other items alone."""
    frame = frame.with_row_index("q_row")
    items = frame.filter(~pl.col("outcome").is_in(sorted(SETTLED_OUTCOMES)))
    keyed = layer1_frame(items).select("q_row", q_channel="channel", q_account="q_account", q_period="q_period",
                                       q_key="q_key")
    return frame.select("q_row").join(keyed, on="q_row", how="left", maintain_order="left").drop("q_row")


def _generic_identities(frame: pl.DataFrame, path, layer: int) -> pl.DataFrame:
    """Layers 0, 2, 3 (a few rows per period): the queue's records, laid on the rows that are items."""
    records, _ = read_generic(path, layer)
    waiting = (pl.col("kind") == "PENDING") | pl.col("kind").is_in(list(WAITING_KINDS))
    flagged = pl.col("is_discrepancy").fill_null(True) if "is_discrepancy" in frame.columns else pl.lit(True)
    flags = frame.select((flagged | waiting).fill_null(True)).to_series().to_list()
    if len(records) != sum(flags):  # the queue's reader changed what a row is: never pin an item on the wrong row
        raise InvariantBroken(f"{path}: {len(records)} queue records for {sum(flags)} item rows")
    it = iter(records)
    rows = [(None,) * 4 if not flag else next(it).identity[1:] for flag in flags]
    return pl.DataFrame(rows, schema=_IDENTITY_SCHEMA, orient="row")


def _items(ws, identities: pl.DataFrame, layer: int, as_of: dt.date) -> pl.DataFrame:
    """The layer's items of the rows' days, as the queue reads them, with each one's latest note."""
    days = identities["q_period"].drop_nulls()
    if days.is_empty():
        return pl.DataFrame(schema={**_IDENTITY_SCHEMA, **QUEUE_SCHEMA})
    with queue_engine(ws).connect() as conn:
        items = select_items(conn, Filter(since=days.min(), until=days.max(), layer=layer),
                             ws.settings.queue, as_of, "id")
        wanted = set(identities.drop_nulls().unique().iter_rows())
        items = [i for i in items if (i.channel, i.account, i.business_date, i.key) in wanted]
        events = histories(conn, [i.id for i in items])
    rows = []
    for i in items:
        # 'created' carries the reason it was opened with, which the row shows already
        notes = [e["note"] for e in events.get(i.id, []) if e["note"] and e["action"] != "created"]
        rows.append((i.channel, i.account, i.business_date, i.key, i.id, i.status, i.assignee, i.resolution,
                     notes[-1] if notes else None, i.age_days))
    frame = pl.DataFrame(rows, schema={**_IDENTITY_SCHEMA, **QUEUE_SCHEMA}, orient="row")
    return frame.unique(IDENTITY, keep="last", maintain_order=True)  # one item per identity, as a mapping keeps


def queue_columns(ws, frame: pl.DataFrame, path, layer: int, as_of: dt.date) -> pl.DataFrame:
    """QUEUE_COLUMNS for every row of `frame` (the results file at `path`), in its order (nulls where
    a row has no item)."""
    identities = _layer1_identities(frame) if layer == 1 else _generic_identities(frame, path, layer)
    items = _items(ws, identities, layer, as_of)
    return identities.join(items, on=list(IDENTITY), how="left", maintain_order="left").select(QUEUE_COLUMNS)
