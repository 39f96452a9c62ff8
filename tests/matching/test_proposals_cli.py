"""Exact-sum proposals end to end: `recon match` in a real temp workspace, the results file, the
queue items a person sees, and the rule set's auto-accept switch (CliRunner over `cli.app`)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cli import app
from recon.files import sha256_file
from tests.matching.test_match_workspace import CONFIG, D1, write_day
from tests.matching.test_proposals import AGGREGATE, aggregate_day

runner = CliRunner()


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    bill, internal = aggregate_day()
    write_day(tmp_path, D1, internal.to_dicts(), bill.to_dicts())
    return tmp_path


def test_recon_match_proposes_the_aggregate_and_the_queue_shows_its_members(root: Path):
    result = runner.invoke(app, ["match", "--date", str(D1), "--workspace", str(root), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["totals"] == {"MATCHED": 8, "SUGGESTED": 6}
    path = root / "results" / str(D1) / "layer1.parquet"
    frame = pl.read_parquet(path).filter(pl.col("pass_name") == "exact_sum")
    assert frame.height == 6
    first = sha256_file(path)
    assert runner.invoke(app, ["match", "--date", str(D1), "--workspace", str(root)]).exit_code == 0
    assert sha256_file(path) == first, "a re-run writes the same bytes"

    listed = runner.invoke(app, ["queue", "list", "--workspace", str(root), "--json"])
    items = [i for i in json.loads(listed.output) if i["layer"] == 1]
    assert sorted(i["kind"] for i in items) == ["SUGGESTED"] * 6
    members = [f"A{j:03d}" for j in range(len(AGGREGATE))]
    for item in items:  # whichever row a person opens, it names every member and the target
        assert all(m in item["reason"] for m in members) and "AGG-20240501" in item["reason"]
        assert "confidence 0.9" in item["reason"]


def test_a_workspace_rule_set_can_auto_accept_proposals(root: Path):
    (root / "rules").mkdir()
    (root / "rules" / "wechatpay.toml").write_text("[match.proposals]\nauto_accept = true\n", encoding="utf-8")
    result = runner.invoke(app, ["match", "--date", str(D1), "--workspace", str(root), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["totals"] == {"MATCHED": 14}
    frame = pl.read_parquet(root / "results" / str(D1) / "layer1.parquet")
    assert frame.filter(pl.col("pass_name") == "exact_sum")["outcome"].to_list() == ["MATCHED"] * 6
    listed = runner.invoke(app, ["queue", "list", "--workspace", str(root), "--json"])
    assert [i for i in json.loads(listed.output) if i["layer"] == 1] == []


def test_a_bad_proposals_setting_is_a_config_error(root: Path):
    (root / "rules").mkdir()
    (root / "rules" / "wechatpay.toml").write_text("[match.proposals]\nmax_block_rows = 500\n", encoding="utf-8")
    result = runner.invoke(app, ["match", "--date", str(D1), "--workspace", str(root)])
    assert result.exit_code == 2
    assert "max_block_rows" in result.output + result.stderr
