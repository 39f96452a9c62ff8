"""The one table of kind labels and the Chinese reasons (issue 20)."""

from __future__ import annotations

import pytest

from recon.excel.words import KINDS, OK_OUTCOMES, WAITING_OUTCOMES, kind_from_label, kind_label
from recon.matching.layer23_results import OK_KINDS, WAITING_KINDS
from recon.matching.model import Outcome
from recon.report.reasons import reason_text


def test_every_outcome_of_every_layer_has_one_label_per_language_read_back_either_way():
    assert {o.value for o in Outcome} <= set(KINDS) and OK_KINDS <= OK_OUTCOMES and WAITING_KINDS <= WAITING_OUTCOMES
    for language in ("en", "zh"):
        labels = [kind_label(k, language) for k in KINDS]
        assert len(set(labels)) == len(labels), language  # no two kinds share a label
    for kind, (en, zh) in KINDS.items():
        assert kind_from_label(kind) == kind_from_label(en) == kind_from_label(f" {zh} ") == kind
    assert kind_label("SOMETHING_NEW", "zh") == "SOMETHING_NEW" and kind_from_label("no such label") is None
    assert kind_label("CHANNEL_ONLY", "zh") == "长款(渠道有我方无)" and kind_label("PENDING", "zh") == "跨日挂账"


@pytest.mark.parametrize(("english", "chinese"), [
    ("amount 100.00 here, 99.90 at the channel", "金额 我方 100.00，渠道 99.90"),
    ("fee 0.66 here, 0.77 at the channel", "手续费 我方 0.66，渠道 0.77"),
    ("status FAILED here, SUCCESS at the channel", "状态 我方 FAILED，渠道 SUCCESS"),
    ("no record of ours", "我方无记录"),
    ("not in the channel's bill", "渠道账单中没有"),
    ("S1 appears again in the channel's bill; the first copy is raw/w.csv:25", "S1 在渠道账单中重复出现；首次出现于 raw/w.csv:25"),
    ("acct: books and bank both hold 500,000.00 CNY at the end of 2026-11-20",
     "acct：2026-11-20 日终账面与银行余额均为 500,000.00 CNY"),
    ("AUTO_RESOLVED in the results of 2026-11-21", "自动核销（2026-11-21 结果）"),
])
def test_fixed_reason_phrases_read_in_chinese_with_their_figures_unchanged(english, chinese):
    assert reason_text(english, "zh") == chinese
    assert reason_text(english, "en") == english


def test_a_phrase_no_template_knows_stays_as_written():
    assert reason_text("the analyst's own words, 12.30", "zh") == "the analyst's own words, 12.30"
    assert reason_text(None, "zh") is None
