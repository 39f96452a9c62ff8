"""Meta-test: every key of the `[match]` section is documented in recon/matching/README.md."""

from __future__ import annotations

from pathlib import Path

from recon.config.ruleset import IdVariant, MatchRules

DOC = (Path(__file__).resolve().parents[2] / "recon" / "matching" / "README.md").read_text(encoding="utf-8")


def test_every_match_rule_key_is_documented():
    missing = [name for model in (MatchRules, IdVariant) for name in model.model_fields if f"`{name}`" not in DOC]
    assert not missing, f"[match] keys not documented in recon/matching/README.md: {missing}"
