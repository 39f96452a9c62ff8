"""The period's facts are one grouped query streamed over each results file (period_data.layer_facts):
they must equal the facts counted row by row in plain Python, over files of every layer whatever
columns they have (hypothesis; the oracle below is the rule as the period report states it)."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from layers import LAYER1_SCHEMA
from recon.core.check import LAYER0_COLUMNS
from recon.excel.words import OK_OUTCOMES, WAITING_OUTCOMES
from recon.matching.layer23_results import RESULT_COLUMNS
from recon.report.period_data import DISCREPANCY, OK, WAITING, layer_facts
from recon.schema import MONEY

DAY = dt.date(2025, 3, 14)
KINDS = ["MATCHED", "BILL_OK", "SETTLED", "CASH_OK", "PENDING", "SETTLEMENT_PENDING", "PAYOUT_IN_TRANSIT",
         "AMOUNT_MISMATCH", "FEE_MISMATCH", "SETTLEMENT_SHORT", "CASH_MISMATCH", None]
money = st.none() | st.decimals(min_value=Decimal("-9999.99"), max_value=Decimal("9999.99"), places=2)
currency = st.sampled_from(["CNY", "USD", None])
VALUES = {  # every column a fact reads, and one it does not (`reason`)
    "channel": (pl.String(), st.sampled_from(["wechat", "alipay", None])),
    "account": (pl.String(), st.sampled_from(["1900000109", "2088", None])),
    "currency": (pl.String(), currency), "our_currency": (pl.String(), currency),
    "their_currency": (pl.String(), currency),
    "outcome": (pl.String(), st.sampled_from(KINDS)), "kind": (pl.String(), st.sampled_from(KINDS)),
    **{c: (MONEY, money) for c in ("our_amount", "their_amount", "diff_amount", "diff", "diff_fee")},
    "is_discrepancy": (pl.Boolean(), st.none() | st.booleans()),
    "reason": (pl.String(), st.sampled_from(["", "amount differs"])),
}
# each layer's columns as its writer has them; the kind column always, the others maybe not
LAYER_COLUMNS = {0: [c for c in LAYER0_COLUMNS if c in VALUES], 1: [c for c in LAYER1_SCHEMA if c in VALUES],
                 2: [c for c in RESULT_COLUMNS if c in VALUES], 3: [c for c in RESULT_COLUMNS if c in VALUES]}


@st.composite
def results_file(draw) -> tuple[int, pl.DataFrame]:
    layer = draw(st.sampled_from(sorted(LAYER_COLUMNS)))
    kind = "outcome" if layer == 1 else "kind"
    dropped = draw(st.sets(st.sampled_from([c for c in LAYER_COLUMNS[layer] if c != kind]), max_size=3))
    columns = [c for c in LAYER_COLUMNS[layer] if c not in dropped]
    rows = draw(st.lists(st.fixed_dictionaries({c: VALUES[c][1] for c in columns}), max_size=25))
    return layer, pl.DataFrame(rows, schema={c: VALUES[c][0] for c in columns}, orient="row")


def _first(values):
    return next((v for v in values if v is not None), None)


def facts_of_rows(frame: pl.DataFrame, layer: int) -> dict[tuple, tuple[int, Decimal]]:
    """(date, layer, channel, account, currency, kind, class) -> (rows, money at stake), row by row."""
    names = set(frame.columns)
    facts: dict[tuple, tuple[int, Decimal]] = {}
    for r in frame.iter_rows(named=True):
        kind = r["outcome" if layer == 1 else "kind"]
        stake = _first(r[c] for c in ("diff_amount", "diff", "their_amount", "our_amount") if c in names)
        if kind == "FEE_MISMATCH" and "diff_fee" in names:  # a fee mismatch is about the fee
            stake = r["diff_fee"]
        checked_ok = "is_discrepancy" in names and r["is_discrepancy"] is False and kind not in WAITING_OUTCOMES
        cls = DISCREPANCY if kind is None else OK if kind in OK_OUTCOMES or checked_ok else \
            WAITING if kind in WAITING_OUTCOMES else DISCREPANCY
        key = (DAY, layer, r.get("channel"), r.get("account"),
               _first(r[c] for c in ("currency", "our_currency", "their_currency") if c in names), kind, cls)
        n, total = facts.get(key, (0, Decimal(0)))
        facts[key] = (n + 1, total + (abs(stake) if stake is not None else 0))
    return facts


@settings(max_examples=300, deadline=None)
@given(results_file())
def test_streamed_facts_equal_the_rows_counted_one_by_one(drawn):
    layer, frame = drawn
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"layer{layer}.parquet"
        frame.write_parquet(path)
        facts = layer_facts(pl.scan_parquet(path), DAY, layer)
    assert facts.schema == pl.Schema({"date": pl.Date(), "layer": pl.Int8(), "channel": pl.String(),
                                      "account": pl.String(), "currency": pl.String(), "kind": pl.String(),
                                      "class": pl.String(), "n": pl.Int64(), "stake": MONEY})
    got = {row[:7]: row[7:] for row in facts.iter_rows()}
    assert len(got) == facts.height  # one fact per key
    assert got == facts_of_rows(frame, layer)
    keys = facts.columns[:7]
    assert facts.equals(facts.sort(keys, nulls_last=True))  # in key order, as the sheets list them
