"""`recon match` and `match_day` in a real temp workspace: files in, results/<D>/layer1.parquet out,
cross-day carry over consecutive days, dry runs, exit codes (CliRunner over `cli.app`)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cli import app
from jobs.catalog import open_workspace
from recon.files import sha256_file
from recon.errors import ConfigError
from recon.matching.layer1_day import engine_for, match_day
from recon.matching.model import RESULT_COLUMNS
from tests.matching.factory import WX_FILE_CONFIG as CONFIG
from tests.matching.factory import clean_day, frames

D1, D2 = dt.date(2024, 5, 1), dt.date(2024, 5, 2)
runner = CliRunner()


def write_day(root: Path, date: dt.date, ours: list[dict], theirs: list[dict]) -> None:
    bill, internal = frames(ours, theirs)
    bill = bill.with_columns(pl.lit(date).alias("bill_date"), pl.lit(f"bill-{date}.csv").alias("source_file"))
    (root / "bills" / "wx").mkdir(parents=True, exist_ok=True)
    bill.write_parquet(root / "bills" / "wx" / f"{date}.parquet")
    (root / "internal").mkdir(exist_ok=True)
    text = internal.with_columns(
        pl.col("trade_time").map_elements(lambda t: t.isoformat(), return_dtype=pl.String),
        pl.col("amount").cast(pl.String), pl.col("fee").cast(pl.String))
    text.drop("source_file", "source_line").write_csv(root / "internal" / f"{date}.csv")


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    ours, theirs = clean_day(30, seed=7)
    theirs[0]["amount"] += Decimal("1")
    write_day(tmp_path, D1, ours, theirs)
    return tmp_path


def test_match_writes_contract_results_identically_on_rerun(root: Path):
    result = runner.invoke(app, ["match", "--date", str(D1), "--workspace", str(root)])
    assert result.exit_code == 0, result.output
    path = root / "results" / str(D1) / "layer1.parquet"
    frame = pl.read_parquet(path)
    assert dict(frame.schema) == RESULT_COLUMNS
    assert frame.filter(pl.col("outcome") == "AMOUNT_MISMATCH").height == 1
    first = sha256_file(path)
    again = runner.invoke(app, ["match", "--date", str(D1), "--workspace", str(root), "--json"])
    assert json.loads(again.output)["totals"]["AMOUNT_MISMATCH"] == 1
    assert sha256_file(path) == first
    # the queue follows the results, once per discrepancy however often the day is matched
    listed = runner.invoke(app, ["queue", "list", "--workspace", str(root), "--json"])
    assert [i["kind"] for i in json.loads(listed.output) if i["layer"] == 1] == ["AMOUNT_MISMATCH"]


def test_missing_bill_is_not_ready_exit_3(root: Path):
    result = runner.invoke(app, ["match", "--date", str(D2), "--workspace", str(root)])
    assert result.exit_code == 3
    assert "bills/wx/2024-05-02.parquet" in result.stderr


def test_dry_run_shows_changes_without_writing(root: Path):
    assert runner.invoke(app, ["match", "--date", str(D1), "-w", str(root), "-q"]).exit_code == 0
    path = root / "results" / str(D1) / "layer1.parquet"
    before = sha256_file(path)
    rules = root / "loose.toml"
    rules.write_text('name = "loose"\n[match]\namount_tolerance = "1.00"\n', encoding="utf-8")
    result = runner.invoke(app, ["match", "--date", str(D1), "-w", str(root), "--rules", str(rules), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["dry_run"] and report["changes"] == [
        {"channel": "wx", "before": "AMOUNT_MISMATCH", "after": "MATCHED", "rows": 2}]
    assert sha256_file(path) == before
    table = runner.invoke(app, ["match", "--date", str(D1), "-w", str(root), "--dry-run"])
    assert "no row would change outcome" in table.output


def test_bad_rule_file_names_file_key_and_reason_exit_2(root: Path):
    rules = root / "bad.toml"
    rules.write_text('name = "bad"\n[match]\namount_tolerence = "1"\n', encoding="utf-8")
    result = runner.invoke(app, ["match", "--date", str(D1), "-w", str(root), "--rules", str(rules)])
    assert result.exit_code == 2
    assert "bad.toml: match.amount_tolerence: unknown key" in result.stderr


def _pending_pair(root: Path) -> None:
    """Day 1: two payments of ours at 23:59:5x local; the channel books one of them on day 2."""
    ours, theirs = clean_day(5, seed=3, refunds=False)
    late = dt.datetime(2024, 5, 1, 15, 59, 55, tzinfo=dt.timezone.utc)  # 23:59:55 in Shanghai
    for i in (3, 4):
        ours[i]["trade_time"] = theirs[i]["trade_time"] = late
    moved = [theirs.pop(4), theirs.pop(3)]
    write_day(root, D1, ours, theirs)
    moved[1]["trade_time"] += dt.timedelta(seconds=8)  # the channel's clock: 00:00:03 on day 2
    write_day(root, D2, [], moved[1:])


def test_cross_day_pending_is_carried_and_auto_resolved_next_day(tmp_path: Path):
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    _pending_pair(tmp_path)
    ws = open_workspace(tmp_path)
    day1 = match_day(ws, D1)
    assert day1.totals() == {"MATCHED": 3, "PENDING": 2}
    day2 = match_day(ws, D2)
    assert day2.totals() == {"AUTO_RESOLVED": 1, "LOCAL_ONLY": 1}
    rows = pl.read_parquet(tmp_path / "results" / str(D2) / "layer1.parquet")
    assert rows["carried_from"].to_list() == [D1, D1]
    expired = rows.filter(pl.col("outcome") == "LOCAL_ONLY").row(0, named=True)
    assert expired["reason"].startswith("pending since 2024-05-01; not in the channel's bill within 1 day(s)")
    first = sha256_file(tmp_path / "results" / str(D2) / "layer1.parquet")
    match_day(ws, D2)  # re-running a day gives the same outcome, byte for byte
    assert sha256_file(tmp_path / "results" / str(D2) / "layer1.parquet") == first
    day3 = tmp_path / "bills" / "wx" / "2024-05-03.parquet"
    pl.read_parquet(tmp_path / "bills" / "wx" / f"{D2}.parquet").clear().write_parquet(day3)
    (tmp_path / "internal" / "2024-05-03.csv").write_text(
        (tmp_path / "internal" / f"{D2}.csv").read_text().splitlines()[0] + "\n")
    assert match_day(ws, dt.date(2024, 5, 3)).totals() == {}  # nothing is carried twice


def test_one_channel_rematched_keeps_the_other_channels_rows(root: Path):
    config = CONFIG + CONFIG.split("[channels.wx]")[1].join(["\n[channels.ali]", ""]).replace(
        "[channels.wx.internal]", "[channels.ali.internal]")
    (root / "recon.toml").write_text(config, encoding="utf-8")
    ali = root / "bills" / "ali"
    ali.mkdir(parents=True)
    bill = pl.read_parquet(root / "bills" / "wx" / f"{D1}.parquet").with_columns(channel=pl.lit("ali"))
    bill.write_parquet(ali / f"{D1}.parquet")
    ws = open_workspace(root)
    both = match_day(ws, D1)
    assert [c.channel for c in both.channels] == ["ali", "wx"]
    path = root / "results" / str(D1) / "layer1.parquet"
    before = pl.read_parquet(path)
    assert before["channel"].unique().sort().to_list() == ["ali", "wx"]
    match_day(ws, D1, "wx")
    assert pl.read_parquet(path).equals(before)


def test_sql_internal_source(tmp_path: Path):
    import sqlalchemy as sa

    ours, theirs = clean_day(6, seed=5, refunds=False)
    bill, internal = frames(ours, theirs)
    (tmp_path / "bills" / "wx").mkdir(parents=True)
    bill.write_parquet(tmp_path / "bills" / "wx" / f"{D1}.parquet")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'erp.db'}")
    text = internal.with_columns(pl.col("trade_time").map_elements(lambda t: t.isoformat(), return_dtype=pl.String),
                                 pl.col("amount").cast(pl.String), pl.col("fee").cast(pl.String),
                                 day=pl.lit(str(D1)))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE txns (" + ", ".join(f"{c} TEXT" for c in text.columns) + ")"))
        conn.execute(sa.text("INSERT INTO txns VALUES (" + ", ".join(f":{c}" for c in text.columns) + ")"),
                     text.to_dicts())
    engine.dispose()
    config = CONFIG.replace('source = "file"\npath = "internal/{date:%Y-%m-%d}.csv"',
                            f'source = "sql"\nurl = "sqlite:///{tmp_path / "erp.db"}"\n'
                            'query = "SELECT * FROM txns WHERE day = :date AND channel = :channel"')
    (tmp_path / "recon.toml").write_text(config, encoding="utf-8")
    assert match_day(open_workspace(tmp_path), D1).totals() == {"MATCHED": 6}


def test_typed_parquet_export_is_checked_and_scanned_in_place(tmp_path: Path):
    from recon.errors import StageFailed
    from recon.matching.internal_source import internal_input

    config = CONFIG.replace("internal/{date:%Y-%m-%d}.csv", "internal/{date:%Y-%m-%d}.parquet")
    (tmp_path / "recon.toml").write_text(config, encoding="utf-8")
    ours, theirs = clean_day(8, seed=9, refunds=False)
    bill, internal = frames(ours, theirs)
    (tmp_path / "bills" / "wx").mkdir(parents=True)
    (tmp_path / "internal").mkdir()
    bill.write_parquet(tmp_path / "bills" / "wx" / f"{D1}.parquet")
    export = tmp_path / "internal" / f"{D1}.parquet"
    internal.write_parquet(export)
    ws = open_workspace(tmp_path)
    assert internal_input(ws, "wx", D1) == export
    assert match_day(ws, D1).totals() == {"MATCHED": 8}
    internal.with_columns(status=pl.when(pl.col("source_line") == 5).then(pl.lit("PAID"))
                          .otherwise("status")).write_parquet(export)
    with pytest.raises(StageFailed, match=r"2024-05-01.parquet:5: bad status PAID"):
        match_day(ws, D1)
    # an empty text id and a missing time are refused alike, naming the first line
    internal.with_columns(merchant_txn_id=pl.when(pl.col("source_line") == 6).then(pl.lit(""))
                          .otherwise("merchant_txn_id"),
                          trade_time=pl.when(pl.col("source_line") == 7).then(None)
                          .otherwise("trade_time")).write_parquet(export)
    with pytest.raises(StageFailed, match=r"2024-05-01.parquet:6: bad missing merchant_txn_id"):
        match_day(ws, D1)
    internal.with_columns(trade_time=pl.when(pl.col("source_line") == 7).then(None)
                          .otherwise("trade_time")).write_parquet(export)
    with pytest.raises(StageFailed, match=r"2024-05-01.parquet:7: bad missing trade_time"):
        match_day(ws, D1)


def test_channels_with_different_internal_sources_in_one_run(root: Path):
    """A CSV export (a frame), then a typed Parquet export (scanned in place), in one session."""
    typed = CONFIG.replace("[channels.wx]", "[channels.zfb]").replace("[channels.wx.internal]", "[channels.zfb.internal]")
    typed = typed.split("[channels.zfb]")[1].replace("internal/{date:%Y-%m-%d}.csv", "zfb/{date:%Y-%m-%d}.parquet")
    (root / "recon.toml").write_text(CONFIG + "\n[channels.zfb]" + typed, encoding="utf-8")
    ours, theirs = clean_day(12, seed=4, refunds=False)
    bill, internal = frames(ours, theirs)
    (root / "bills" / "zfb").mkdir(parents=True)
    bill.with_columns(channel=pl.lit("zfb")).write_parquet(root / "bills" / "zfb" / f"{D1}.parquet")
    (root / "zfb").mkdir()
    internal.write_parquet(root / "zfb" / f"{D1}.parquet")
    summary = match_day(open_workspace(root), D1)
    assert {c.channel: dict(c.outcomes) for c in summary.channels} == {
        "wx": {"AMOUNT_MISMATCH": 1, "MATCHED": summary.channels[0].our_rows - 1}, "zfb": {"MATCHED": 12}}


def test_carried_side_says_which_row_came_from_an_earlier_day(tmp_path: Path):
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    _pending_pair(tmp_path)
    ws = open_workspace(tmp_path)
    match_day(ws, D1)
    match_day(ws, D2)
    rows = pl.read_parquet(tmp_path / "results" / str(D2) / "layer1.parquet")
    assert rows["carried_side"].to_list() == ["ours", "ours"]
    bill = pl.read_parquet(tmp_path / "bills" / "wx" / f"{D2}.parquet")
    todays = rows.filter(pl.col("their_source_file").is_not_null() & pl.col("carried_side").ne_missing("theirs"))
    assert sorted(todays["their_source_line"]) == sorted(bill["source_line"])


def test_engine_choice_command_line_over_channel_over_workspace(root: Path):
    (root / "recon.toml").write_text(CONFIG + '\n[channels.wx.match]\nengine = "spark"\n\n[match]\nengine = "duckdb"\n',
                                     encoding="utf-8")
    ws = open_workspace(root)
    assert engine_for(ws, "wx") == "spark" and engine_for(ws, "wx", "duckdb") == "duckdb"
    with pytest.raises(ConfigError, match="channel wx matches on spark, which this command did not start"):
        match_day(ws, D1)  # the caller builds Spark; the library never starts it
    on_duckdb = runner.invoke(app, ["match", "--date", str(D1), "-w", str(root), "--engine", "duckdb", "-q"])
    assert on_duckdb.exit_code == 0, on_duckdb.output
    bad = runner.invoke(app, ["match", "--date", str(D1), "-w", str(root), "--engine", "polars"])
    assert bad.exit_code == 2 and "--engine must be duckdb or spark" in bad.stderr


def test_spark_settings_are_validated(tmp_path: Path):
    (tmp_path / "recon.toml").write_text('[match.spark]\nmaster = "local[2]"\nremote = "sc://h:15002"\n',
                                         encoding="utf-8")
    with pytest.raises(ConfigError, match="match.spark: .*set master or remote, not both"):
        open_workspace(tmp_path)


@pytest.mark.parametrize("source", ["csv", "parquet", "sql"])
def test_an_internal_amount_finer_than_its_currency_unit_is_refused_at_read_time(tmp_path: Path, source: str):
    import sqlalchemy as sa

    from recon.errors import StageFailed

    ours, theirs = clean_day(4, seed=3, refunds=False)
    ours[2] = {**ours[2], "currency": "JPY", "amount": Decimal("100.5")}
    theirs[2] = {**theirs[2], "currency": "JPY", "amount": Decimal("100.5"), "net_amount": Decimal("100.5")}
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    write_day(tmp_path, D1, ours, theirs)
    where = "2024-05-01.csv:4"
    if source == "parquet":
        _, internal = frames(ours, theirs)
        internal.write_parquet(tmp_path / "internal" / f"{D1}.parquet")
        (tmp_path / "recon.toml").write_text(CONFIG.replace(".csv", ".parquet"), encoding="utf-8")
        where = "2024-05-01.parquet:4"
    elif source == "sql":
        _, internal = frames(ours, theirs)
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'erp.db'}")
        text = internal.with_columns(pl.col("trade_time").map_elements(lambda t: t.isoformat(), return_dtype=pl.String),
                                     pl.col("amount").cast(pl.String), pl.col("fee").cast(pl.String))
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE txns (" + ", ".join(f"{c} TEXT" for c in text.columns) + ")"))
            conn.execute(sa.text("INSERT INTO txns VALUES (" + ", ".join(f":{c}" for c in text.columns) + ")"),
                         text.drop("source_file", "source_line").with_columns(source_file=pl.lit(None),
                                                                               source_line=pl.lit(None)).to_dicts())
        engine.dispose()
        (tmp_path / "recon.toml").write_text(CONFIG.replace(
            'source = "file"\npath = "internal/{date:%Y-%m-%d}.csv"',
            f'source = "sql"\nurl = "sqlite:///{tmp_path / "erp.db"}"\nquery = "SELECT * FROM txns"'), encoding="utf-8")
        where = "channels.wx.internal.query:4"
    with pytest.raises(StageFailed, match=rf"{where}: amount 100.5\d* is finer than the minor unit of JPY"):
        match_day(open_workspace(tmp_path), D1)
    assert not (tmp_path / "results" / str(D1) / "layer1.parquet").exists()
