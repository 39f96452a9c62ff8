"""Layer 2's cross-day adjustment (`layer2_bills.crossday`) read from a scan of layer 1's results, its
carried rows told apart by a join with today's lines, equals the per-row definition that read the
whole file and looked each row up in a set of every line of the day (the oracle below, kept only here)."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.matching.layer2_bills import Moved, crossday
from recon.schema import MONEY

D0, D1 = dt.date(2026, 3, 9), dt.date(2026, 3, 10)
SCHEMA = {
    "business_date": pl.Date(), "channel": pl.String(), "outcome": pl.String(), "match_key": pl.String(),
    "reason": pl.String(), "carried_from": pl.Date(), "our_txn_id": pl.String(),
    "their_channel_txn_id": pl.String(), "group_id": pl.String(), "group_size": pl.Int32(),
    **{f"{side}_{c}": t for side in ("our", "their") for c, t in (
        ("source_file", pl.String()), ("source_line", pl.Int64()), ("status", pl.String()),
        ("currency", pl.String()), ("record_type", pl.String()), ("amount", MONEY), ("fee", MONEY))},
}


def oracle(layer1: pl.DataFrame, bill: pl.DataFrame, channel: str) -> dict[tuple[str, str], Moved]:
    today_lines = set(zip(bill["source_file"].to_list(), bill["source_line"].to_list(), strict=True))
    moved: dict[tuple[str, str], Moved] = {}
    rows = layer1.filter((pl.col("channel") == channel) & (
        ((pl.col("outcome") == "PENDING") & pl.col("carried_from").is_null())
        | (pl.col("outcome").is_in(["MATCHED", "AUTO_RESOLVED"]) & pl.col("carried_from").is_not_null())))
    for r in rows.iter_rows(named=True):
        if r["outcome"] == "PENDING":
            side, sign = ("our" if r["our_source_file"] is not None else "their"), -1
        else:
            theirs_today = (r["their_source_file"], r["their_source_line"]) in today_lines
            side, sign = ("our" if theirs_today else "their"), 1
        if r[f"{side}_status"] != "SUCCESS":
            continue
        m = moved.setdefault((r[f"{side}_currency"], r[f"{side}_record_type"]), Moved())
        fig = getattr(m, side)
        fig[0] += sign
        fig[1] += sign * r[f"{side}_amount"]
        fig[2] += sign * (r[f"{side}_fee"] or Decimal(0))
        m.ids.append(r["match_key"] or r["our_txn_id"] or r["their_channel_txn_id"] or "?")
    grouped = layer1.filter((pl.col("channel") == channel) & pl.col("group_id").is_not_null()
                            & (pl.col("group_size") > 1))
    for side, alone in (("their", pl.col("our_amount").is_null()), ("our", pl.col("their_source_file").is_null())):
        extra = grouped.filter(alone & pl.col(f"{side}_source_file").is_not_null()
                               & (pl.col(f"{side}_status") == "SUCCESS"))
        for r in extra.iter_rows(named=True):
            m = moved.setdefault((r[f"{side}_currency"], r[f"{side}_record_type"]), Moved())
            getattr(m, side)[0] -= 1
            m.groups.add(r["group_id"])
    return moved


ids = lambda p: st.sampled_from([None, f"{p}1", f"{p}2", f"{p}3"])  # noqa: E731
money = st.integers(-500, 5000).map(lambda n: Decimal(n).scaleb(-2))
files = st.sampled_from([None, "bills/wx/2026-03-10.parquet", "bills/wx/2026-03-09.parquet"])
lines = st.integers(2, 6)
row = st.fixed_dictionaries({
    "business_date": st.just(D1), "channel": st.sampled_from(["wx", "ali"]),
    "outcome": st.sampled_from(["MATCHED", "AUTO_RESOLVED", "PENDING", "AMOUNT_MISMATCH", "LOCAL_ONLY"]),
    "match_key": ids("K"), "reason": st.just(None), "carried_from": st.sampled_from([None, D0]),
    "our_txn_id": ids("T"), "their_channel_txn_id": ids("C"),
    "group_id": st.sampled_from([None, "G1", "G2"]), "group_size": st.sampled_from([None, 1, 2, 3]),
    **{f"{side}_{c}": s for side in ("our", "their") for c, s in (
        ("source_file", files), ("source_line", lines), ("status", st.sampled_from(["SUCCESS", "FAILED"])),
        ("currency", st.sampled_from(["CNY", "USD"])), ("record_type", st.sampled_from(["PAYMENT", "REFUND"])),
        ("amount", money), ("fee", st.one_of(st.none(), money)))},
})
bill_line = st.tuples(st.sampled_from(["bills/wx/2026-03-10.parquet", "bills/wx/2026-03-09.parquet"]), lines)


def _as_in_results(r: dict) -> dict:
    """A drawn row made one results can hold: a matched row has both sides, a pending one at least
    one, and a side's amount is there exactly when its row is (the oracle fails on the rest too)."""
    r = dict(r)
    if r["outcome"] in ("MATCHED", "AUTO_RESOLVED"):
        r["our_source_file"] = r["our_source_file"] or "internal/wx.parquet"
        r["their_source_file"] = r["their_source_file"] or "bills/wx/2026-03-10.parquet"
    elif r["our_source_file"] is None:
        r["their_source_file"] = r["their_source_file"] or "bills/wx/2026-03-10.parquet"
    for side in ("our", "their"):
        r[f"{side}_amount"] = r[f"{side}_amount"] if r[f"{side}_source_file"] else None
    return r


def _same(a: dict[tuple[str, str], Moved], b: dict[tuple[str, str], Moved]) -> bool:
    return list(a) == list(b) and all(
        (x.our, x.their, x.ids, x.groups) == (y.our, y.their, y.ids, y.groups) for x, y in zip(a.values(), b.values()))


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(row, max_size=25), bill=st.lists(bill_line, max_size=8), channel=st.sampled_from(["wx", "ali"]))
def test_crossday_from_a_scan_equals_the_per_row_reading(rows, bill, channel):
    rows = [_as_in_results(r) for r in rows]
    frame = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    bill_frame = pl.DataFrame(bill, schema={"source_file": pl.String(), "source_line": pl.Int64()}, orient="row")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layer1.parquet"
        frame.write_parquet(path)
        got = crossday(pl.scan_parquet(path), bill_frame, channel)
    assert _same(got, oracle(frame, bill_frame, channel))
    assert _same(crossday(frame, bill_frame, channel), got)
