"""The queue item behind each result row the report shows: id, status, assignee, resolution, note, age.

A row is joined to its item by the queue's own identity (layer, channel, account, period, key),
computed by the queue's own readers (recon.queue.sources: `layer1_frame` column-wise for layer 1,
`read_generic` for the small layers), so the report can never disagree with `recon queue list`
about which item a row is: a carried PENDING row names the item of the day it was first seen, a
line of a combined payment names its anchor's item, a DUPLICATE's copies get their '#2' keys.
Ages come from the queue's `to_item` with the same "today" as `recon queue list` (the workspace's
business today), so "11 days" in the report is "11 days" in the queue.
The items come from the day's one read of the queue (data._queue), which the open items by age
share, and only each item's latest note is read of its history (recon.queue.events).

A 1M-line day has a million settled rows and a few thousand items: identities stay columns, the
items (one object each, as the queue reads them) become one small frame, and the rows meet their
items in one join; no row becomes a Python object.
"""

from __future__ import annotations

import polars as pl

from recon.errors import InvariantBroken
from recon.matching.layer23_results import WAITING_KINDS
from recon.queue.events import latest_notes
from recon.queue.query import Filter
from recon.queue.sources import SETTLED_OUTCOMES, layer1_frame, read_generic
from recon.queue.store import Item

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


def row_identities(frame: pl.DataFrame, path, layer: int) -> pl.DataFrame:
    """IDENTITY for every row of `frame` (the results file at `path`), in its order (nulls where a
    row is no item)."""
    return _layer1_identities(frame) if layer == 1 else _generic_identities(frame, path, layer)


def items_filter(identities: pl.DataFrame, layer: int) -> Filter | None:
    """The queue's filter for the layer's items of the rows' days (None: no row is an item)."""
    days = identities["q_period"].drop_nulls()
    return None if days.is_empty() else Filter(since=days.min(), until=days.max(), layer=layer)


def queue_columns(conn, identities: pl.DataFrame, items: list[Item]) -> pl.DataFrame:
    """QUEUE_COLUMNS for every row of `identities` (row_identities), in its order, from the layer's
    items of the rows' days (those `items_filter` selects, by id) and each one's latest note."""
    wanted = set(identities.drop_nulls().unique().iter_rows())
    items = [i for i in items if (i.channel, i.account, i.business_date, i.key) in wanted]
    # 'created' carries the reason it was opened with, which the row shows already
    notes = latest_notes(conn, [i.id for i in items], skip=("created",))
    rows = [(i.channel, i.account, i.business_date, i.key, i.id, i.status, i.assignee, i.resolution,
             notes.get(i.id), i.age_days) for i in items]
    frame = pl.DataFrame(rows, schema={**_IDENTITY_SCHEMA, **QUEUE_SCHEMA}, orient="row")
    frame = frame.unique(IDENTITY, keep="last", maintain_order=True)  # one item per identity, as a mapping keeps
    return identities.join(frame, on=list(IDENTITY), how="left", maintain_order="left").select(QUEUE_COLUMNS)
