"""Exact-sum proposals on Spark local[2] write the same bytes as on DuckDB (the post-pass runs over
whichever connection layer 1 ran on): a SUGGESTED aggregate, an ambiguous pair, a too-large block."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cli import app
from tests.matching.factory import DAY_START, _ours, _theirs
from tests.matching.test_match_workspace import D1
from tests.matching.test_proposals import aggregate_day
from tests.spark.conftest import TEST_CONF, spark  # noqa: F401  (the shared session fixture)

CONFIG = """
[channels.wx]
format = "wechatpay.trade"
account = "1900000109"

[channels.wx.internal]
source = "file"
path = "internal/{{date:%Y-%m-%d}}.parquet"

[match.spark]
master = "local[2]"
conf = {conf}
"""
runner = CliRunner()


def _day() -> tuple[pl.DataFrame, pl.DataFrame]:
    bill, internal = aggregate_day(["1.00", "4.00", "2.00", "3.00", "6.00"], "5.00")
    # a second currency whose block is too large to search (limit 24)
    time = DAY_START + dt.timedelta(hours=5)
    extra_o = [_ours(700 + j, f"U{j:03d}", None, "PAYMENT", None, Decimal("1.00"), Decimal(0), time)
               for j in range(25)]
    extra_t = [_theirs("UAGG", None, "PAYMENT", None, None, Decimal("3.00"), Decimal(0), time)]
    for j, r in enumerate(extra_o):
        r.update(currency="USD", source_line=1000 + j)
    extra_t[0].update(currency="USD", source_line=1000)
    bill = pl.concat([bill, pl.DataFrame(extra_t, schema=bill.schema, orient="row")])
    internal = pl.concat([internal, pl.DataFrame([{c: r[c] for c in internal.columns} for r in extra_o],
                                                  schema=internal.schema, orient="row")])
    return bill, internal


@pytest.mark.slow
def test_proposals_are_byte_identical_on_duckdb_and_spark(tmp_path: Path, spark):  # noqa: F811
    conf = "{ " + ", ".join(f'"{k}" = "{v}"' for k, v in TEST_CONF.items()) + " }"
    bill, internal = _day()
    files = {}
    for engine in ("duckdb", "spark"):
        root = tmp_path / engine
        (root / "bills" / "wx").mkdir(parents=True)
        (root / "internal").mkdir()
        (root / "recon.toml").write_text(CONFIG.format(conf=conf), encoding="utf-8")
        bill.with_columns(pl.lit(D1).alias("bill_date")).write_parquet(root / "bills" / "wx" / f"{D1}.parquet")
        internal.write_parquet(root / "internal" / f"{D1}.parquet")
        done = runner.invoke(app, ["match", "--date", str(D1), "-w", str(root), "--engine", engine])
        assert done.exit_code == 0, done.output
        files[engine] = root / "results" / str(D1) / "layer1.parquet"
    assert files["duckdb"].read_bytes() == files["spark"].read_bytes()
    frame = pl.read_parquet(files["spark"])
    assert frame.filter(pl.col("pass_name") == "exact_sum").height == 3
    assert frame.filter(pl.col("reason").str.contains("block of 26 rows too large to search")).height == 26
