"""The frames the reading sheets show, and the Details sheet that keeps every raw column.

Reading sheets carry translated headers only: the kind as its label (recon.excel.words.KINDS),
the reason in the report's language (recon.report.reasons), times in the channel's business zone
(the zone named in the header), and the row's queue item (id, status, assignee, resolution, note,
age: recon.report.queue_view). Everything else a results row holds goes to the Details sheet, one
row per row shown, under the data names documented here:

| Details column          | Meaning                                                                  |
|-------------------------|--------------------------------------------------------------------------|
| layer                   | 0 internal checks, 1 transactions, 2 bill/settlement, 3 cash             |
| queue_id                | the queue item the row belongs to (`recon queue show ID`)                |
| business_date           | the day whose results hold the row                                       |
| outcome / kind          | the data value of the kind (layer 1 / layers 0, 2, 3)                    |
| match_key, key          | what the row is about (order number, bill group, account:currency)       |
| pass_name, confidence   | the matching rule pass that paired the row and its score (fuzzy passes)  |
| carried_from            | the day a cross-day row was first seen                                   |
| group_id, group_size    | a combined payment (1:N) and its number of channel lines                 |
| closest                 | the nearest row of the other side for an unmatched row                   |
| our_* / their_*         | our record's / the channel's fields: ids, type, currency, amount, fee,   |
|                         | status, trade time (UTC), source file and line                           |
| diff_amount, diff_fee   | channel minus ours                                                       |
| section                 | layers 2, 3: bill, settlement, cash or payout                            |
| our_amount, their_amount, diff | layers 0, 2, 3: our figure, theirs, theirs minus ours             |
| is_discrepancy          | layers 0, 2, 3: whether the row is a discrepancy (false: checked, OK)    |
| our_count, their_count  | layer 2 bill: rows on each side                                          |
| period_start, period_end, due_date | layer 2 settlement: the period settled and its due date       |
| payout_ids, their_ref, their_date  | payouts claimed, the bank line that paid, its value date      |
| carried_side            | which side of a carried row was carried                                  |
"""

from __future__ import annotations

import polars as pl

from recon.excel.words import KINDS, kind_label, t
from recon.report.data import DayData
from recon.report.queue_view import QUEUE_COLUMNS
from recon.report.reasons import reason_text

LAYER1_READING = ["kind", "channel", "match_key", "our_amount", "their_amount", "diff_amount", "diff_fee",
                  "currency", "our_time", "their_time", "reason", *QUEUE_COLUMNS]
GENERIC_READING = ["layer", "kind", "channel", "account", "key", "our_amount", "their_amount", "diff",
                   "currency", "reason", *QUEUE_COLUMNS]
TIME_COLUMNS = {"our_time": "our_trade_time", "their_time": "their_trade_time"}
# Layer 1 rows in the order an analyst works them: discrepancies by kind, cross-day pending last.
_ORDER = {k: i for i, k in enumerate(KINDS)}


def _labels(frame: pl.DataFrame, column: str, language: str) -> pl.Expr:
    values = frame[column].drop_nulls().unique().to_list()
    mapping = {v: kind_label(v, language) for v in values}
    return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String())


def _words(frame: pl.DataFrame, column: str, prefix: str, language: str) -> pl.Expr:
    """A column of codes (queue status, resolution) as the words for `prefix.CODE`; a code without
    a word shows as it is."""
    values = frame[column].drop_nulls().unique().to_list() if column in frame.columns else []
    mapping = {v: t(f"{prefix}.{v}", language) for v in values}
    mapping = {v: (v if label == f"{prefix}.{v}" else label) for v, label in mapping.items()}
    return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String())


def _reasons(frame: pl.DataFrame, language: str) -> pl.Expr:
    values = frame["reason"].drop_nulls().unique().to_list() if "reason" in frame.columns else []
    mapping = {v: reason_text(v, language) for v in values}
    return pl.col("reason").replace_strict(mapping, default=None, return_dtype=pl.String())


def _local_times(frame: pl.DataFrame, zones: dict[str, str]) -> list[pl.Expr]:
    """Trade times (UTC in results) as wall-clock times of each row's channel zone, naive for Excel."""
    out = []
    for name, source in TIME_COLUMNS.items():
        if source not in frame.columns:
            out.append(pl.lit(None, dtype=pl.Datetime("us")).alias(name))
            continue
        expr = pl.lit(None, dtype=pl.Datetime("us"))
        for zone in sorted(set(zones.values())):
            chans = sorted(c for c, z in zones.items() if z == zone)
            local = pl.col(source).dt.convert_time_zone(zone).dt.replace_time_zone(None)
            expr = pl.when(pl.col("channel").is_in(chans)).then(local).otherwise(expr)
        out.append(expr.alias(name))
    return out


def _queue_words(frame: pl.DataFrame, language: str) -> list[pl.Expr]:
    if "queue_status" not in frame.columns:
        return []
    notes = frame["queue_note"].drop_nulls().unique().to_list()
    # a person's note is shown as written; the fixed phrases recon writes itself are translated
    note = pl.col("queue_note").replace_strict({n: reason_text(n, language) for n in notes}, default=None,
                                               return_dtype=pl.String())
    return [_words(frame, "queue_status", "status", language), _words(frame, "resolution", "choice", language), note]


def time_headers(zones: dict[str, str], language: str) -> dict[str, str]:
    """Headers of the time columns, naming the zone the times are in."""
    named = sorted(set(zones.values()))
    zone = named[0] if len(named) == 1 else t("zone.channel", language)
    return {name: f"{t(name, language)} ({zone})" for name in TIME_COLUMNS}


def layer1_rows(data: DayData, language: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(reading frame, raw rows) of layer 1's discrepancies then its cross-day pending rows."""
    frame = data.layer1
    queue = data.queue.get(1)
    if queue is not None and queue.height == frame.height:
        frame = pl.concat([frame, queue], how="horizontal")
    shown = frame.filter(~pl.col("outcome").is_in(["MATCHED", "AUTO_RESOLVED"]))
    shown = shown.with_columns(_rank=pl.col("outcome").replace_strict(_ORDER, default=len(_ORDER),
                                                                      return_dtype=pl.Int64()))
    shown = shown.sort("_rank", "channel", "match_key", maintain_order=True).drop("_rank")
    reading = shown.with_columns(
        _labels(shown, "outcome", language).alias("kind"),
        pl.coalesce("our_currency", "their_currency").alias("currency"),
        _reasons(shown, language), *_local_times(shown, data.zones), *_queue_words(shown, language))
    return reading, shown


def generic_rows(data: DayData, language: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(reading frame, raw rows) of layers 0, 2 and 3 together: every row, checked-OK ones too."""
    parts = []
    for layer in sorted(data.others):
        frame = data.others[layer]
        queue = data.queue.get(layer)
        if queue is not None and queue.height == frame.height:
            frame = pl.concat([frame, queue], how="horizontal")
        parts.append(frame.with_columns(layer=pl.lit(layer, dtype=pl.Int64())))
    if not parts:
        return pl.DataFrame(), pl.DataFrame()
    raw = pl.concat(parts, how="diagonal_relaxed")
    reading = raw.with_columns(_labels(raw, "kind", language).alias("kind"), _reasons(raw, language),
                               *_queue_words(raw, language))
    return reading, raw


def details(layer1_raw: pl.DataFrame | None, generic_raw: pl.DataFrame | None) -> pl.DataFrame:
    """Every row the reading sheets show, with all its raw columns under their data names."""
    parts = []
    if layer1_raw is not None and layer1_raw.height:
        parts.append(layer1_raw.with_columns(layer=pl.lit(1, dtype=pl.Int64())))
    if generic_raw is not None and generic_raw.height:
        parts.append(generic_raw)
    if not parts:
        return pl.DataFrame()
    frame = pl.concat(parts, how="diagonal_relaxed")
    # Columns no row shown fills would only widen the printout.
    frame = frame.select([c for c in frame.columns if frame[c].null_count() < frame.height])
    drop = [c for c in ("queue_status", "assignee", "resolution", "queue_note", "age_days") if c in frame.columns]
    first = [c for c in ("layer", "queue_id", "business_date", "channel", "account") if c in frame.columns]
    frame = frame.drop(drop)
    return frame.select(first + [c for c in frame.columns if c not in first])
