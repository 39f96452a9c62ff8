"""The `[match]` section of a rule set: defaults, what it accepts, and how it refuses the rest."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from recon.errors import ConfigError
from recon.matching import engine
from recon.matching.layer1 import match_frames
from recon.config.ruleset import MatchRules, duration_seconds
from rules.loader import load_rules, load_rules_file
from tests.matching.factory import DAY, clean_day, frames


def test_builtin_rule_sets_carry_a_valid_match_policy():
    rules = load_rules("wechatpay").match
    assert rules.keys[0] == "merchant_txn_id" and rules.amount_tolerance == Decimal("0")
    assert rules.cross_day_seconds == 600 and rules.auto_accept_score is None


def test_a_full_match_section_reads_as_written(tmp_path: Path):
    path = tmp_path / "full.toml"
    path.write_text('''name = "full"
[match]
passes = ["key", "group", "no_reference"]
keys = ["merchant_txn_id", "channel_txn_id+merchant_txn_id"]
amount_tolerance = "0.01"
amount_tolerance_rel = "0.0005"
time_window = "30m"
cross_day_window = "8h"
pending_days = 3
group_key = "merchant_txn_id"
auto_accept_score = 0.95
[[match.id_variants]]
name = "alipay-prefix"
strip_prefix = "AP"
last = 20
''', encoding="utf-8")
    rules = load_rules_file(path).match
    assert rules.amount_tolerance == Decimal("0.01") and isinstance(rules.amount_tolerance_rel, Decimal)
    assert rules.cross_day_seconds == 8 * 3600 and rules.id_variants[0].last == 20


@pytest.mark.parametrize(("body", "message"), [
    ('[match]\nkeyz = ["merchant_txn_id"]', "match.keyz: unknown key"),
    ('[match]\nkeys = ["order_no"]', "match.keys: match key 'order_no'"),
    ('[match]\namount_tolerance = "-1"', "match.amount_tolerance: a tolerance cannot be negative"),
    ('[match]\namount_tolerance_rel = "2"', "match.amount_tolerance_rel: a relative tolerance"),
    ('[match]\nfee_tolerance_rel = "0.0000000001"', "match.fee_tolerance_rel: a relative tolerance has at most 9 decimal places"),
    ('[match]\ncross_day_window = "ten minutes"', "match.cross_day_window: 'ten minutes' is not a duration"),
    ('[match]\npasses = ["key", "fuzzy"]', "match.passes.1: Input should be"),
    ('[match]\nauto_accept_score = 1.5', "match.auto_accept_score: Input should be less than or equal to 1"),
    ('[[match.id_variants]]\nname = "x"\nprefix = "WX"', "match.id_variants.0.prefix: unknown key"),
])
def test_a_bad_rule_file_fails_with_file_key_and_reason(tmp_path: Path, body: str, message: str):
    path = tmp_path / "bad.toml"
    path.write_text(f'name = "bad"\n{body}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_rules_file(path)
    assert str(err.value).startswith(f"{path}: {message}")


def test_durations():
    assert [duration_seconds(t) for t in ("30s", "10m", "8h", "1d")] == [30, 600, 28800, 86400]


def test_output_is_the_same_whatever_the_thread_count():
    """FAULTS.md E4: DuckDB's parallelism must not leak into the order or content of results."""
    ours, theirs = clean_day(300, seed=11)
    for row in theirs[::17]:
        row["amount"] += Decimal("0.01")
    bill, internal = frames(ours, theirs)
    one = match_frames(bill, internal, MatchRules(), DAY, zone="Asia/Shanghai", con=engine.connect(threads=1))
    two = match_frames(bill, internal, MatchRules(), DAY, zone="Asia/Shanghai", con=engine.connect(threads=2))
    assert one.equals(two) and one.height == bill.height
