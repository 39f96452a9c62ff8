"""Layer 1 on Spark local[2] writes the same bytes as on DuckDB, over two generated days.

Both engines match the same workspace inputs (day 2 carries day 1's pending rows) through
`recon match`; each results file must be byte-identical, and together the days must show every
outcome, a 1:N group, N:M batches, 26-digit amounts, both sides of the tolerance edges and carried rows.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from cli import app
from jobs.catalog import open_workspace
from recon.matching.model import Outcome
from recon.workspace import Workspace
from tests.matching.factory import frames
from tests.spark.conftest import TEST_CONF
from tests.spark.parity_day import BIG, D1, D2, RULES, day_one, day_two

CONFIG = """
[channels.wx]
format = "wechatpay.trade"
account = "1900000109"
rules = "parity"

[channels.wx.internal]
source = "file"
path = "internal/{{date:%Y-%m-%d}}.parquet"
{engine}
[fx]
rates_file = "rates.csv"
tolerance_minor = 1

[match.spark]
master = "local[2]"
conf = {conf}
"""
# The DuckDB workspace says spark for every channel and is overridden on the command line; the Spark
# one names spark for its channel only: both routes to an engine are exercised.
ENGINES = {"duckdb": ('[match]\nengine = "spark"\n', ["--engine", "duckdb"]),
           "spark": ('[channels.wx.match]\nengine = "spark"\n', [])}
runner = CliRunner()


def _rules_toml() -> str:
    variant = RULES.id_variants[0]
    return (f'[match]\ngroup_key = "{RULES.group_key}"\namount_tolerance = "{RULES.amount_tolerance}"\n'
            f'our_group_key = "{RULES.our_group_key}"\ntheir_group_key = "{RULES.their_group_key}"\n'
            f'fee_tolerance_rel = "{RULES.fee_tolerance_rel:f}"\n\n[[match.id_variants]]\n'
            f'name = "{variant.name}"\nstrip_prefix = "{variant.strip_prefix}"\n')


def _workspace(root: Path, engine: str) -> Workspace:
    root.mkdir()
    conf = "{ " + ", ".join(f'"{k}" = "{v}"' for k, v in TEST_CONF.items()) + " }"
    (root / "recon.toml").write_text(CONFIG.format(engine=ENGINES[engine][0], conf=conf), encoding="utf-8")
    (root / "rates.csv").write_text("date,from,to,rate\n2024-05-01,CNY,EUR,0.138\n", encoding="utf-8")
    (root / "rules").mkdir()
    (root / "rules" / "parity.toml").write_text(_rules_toml(), encoding="utf-8")
    for date, (ours, theirs) in ((D1, day_one()), (D2, day_two())):
        bill, internal = frames(ours, theirs)
        (root / "bills" / "wx").mkdir(parents=True, exist_ok=True)
        bill.with_columns(pl.lit(date).alias("bill_date")).write_parquet(root / "bills" / "wx" / f"{date}.parquet")
        (root / "internal").mkdir(exist_ok=True)
        internal.write_parquet(root / "internal" / f"{date}.parquet")
    return open_workspace(root)


def test_layer1_parquet_is_byte_identical_on_duckdb_and_spark(tmp_path, spark):
    spaces = {engine: _workspace(tmp_path / engine, engine) for engine in ENGINES}
    for day in (D1, D2):
        for engine, ws in spaces.items():
            done = runner.invoke(app, ["match", "--date", str(day), "-w", str(ws.root), "--json",
                                       *ENGINES[engine][1]])
            assert done.exit_code == 0, done.output
    duck, on_spark = spaces["duckdb"], spaces["spark"]
    for day in (D1, D2):
        ours, theirs = (ws.results_dir(day) / "layer1.parquet" for ws in (duck, on_spark))
        assert ours.read_bytes() == theirs.read_bytes(), f"{day}: layer1.parquet differs between engines"
    days = [pl.read_parquet(duck.results_dir(d) / "layer1.parquet") for d in (D1, D2)]
    print(f"parity rows: {D1} {days[0].height}, {D2} {days[1].height}")
    both = pl.concat(days)
    assert set(both["outcome"]) == {o.value for o in Outcome}
    assert both.filter(pl.col("group_size") == 3).height == 3
    batches = {g: sorted(f["outcome"]) for (g,), f in both.filter(pl.col("pass_name").str.starts_with("groups:"))
               .group_by("group_id")}
    assert batches == {"NM1": ["MATCHED"] * 4, "NM2": ["AMOUNT_MISMATCH"] * 2}
    assert both.filter(pl.col("our_amount") == BIG).height == 2
    edges = {r["our_merchant_txn_id"]: r["outcome"] for r in both.filter(
        pl.col("our_merchant_txn_id").is_in(["MTOL1", "MTOL2", "MFEE1", "MFEE2", "MBIG2", "MFX1", "MFX2"])
    ).iter_rows(named=True)}
    assert edges == {"MTOL1": "MATCHED", "MTOL2": "AMOUNT_MISMATCH", "MFEE1": "MATCHED",
                     "MFEE2": "FEE_MISMATCH", "MBIG2": "AMOUNT_MISMATCH", "MFX1": "MATCHED", "MFX2": "FX_MISMATCH"}
    carried = both.filter(pl.col("carried_from").is_not_null())["outcome"].to_list()
    assert sorted(carried) == ["AUTO_RESOLVED", "CHANNEL_ONLY"]
    assert not any((on_spark.root / "tmp" / "spark").iterdir()), "the staging folder is left empty"
    assert not (duck.root / "tmp" / "spark").exists(), "--engine duckdb started no Spark"
