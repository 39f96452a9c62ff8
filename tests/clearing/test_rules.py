"""Fee and split rules: what the loader refuses, and the rounding of fees and shares by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from clearing_support import BUILTIN_FEES_OFF

from recon.clearing.fee_rules import clearing_rules
from recon.clearing.fees import apportion, exact_fee, round_fees
from recon.clearing.splits import split_net
from recon.errors import ConfigError
from rules.loader import RuleBook

D = Decimal


def rules_from(tmp_path, text: str):
    (tmp_path / "clearing.toml").write_text(BUILTIN_FEES_OFF + text, encoding="utf-8")
    return clearing_rules(RuleBook(tmp_path).document("clearing"))


PAY = 'record_types = ["PAYMENT"]\nrounding = "half_up"\nround_at = "transaction"\n'


def test_builtin_rules_load_and_cover_payments_and_refunds():
    rules = clearing_rules(RuleBook().document("clearing"))
    assert rules.fee_rule("ANY", "wechat", "CNY", "PAYMENT")[0] == "standard-payments"
    assert rules.fee_rule("ANY", "alipay", "JPY", "REFUND")[1].direction == "return"


@pytest.mark.parametrize("text, message", [
    (f'[fees.a]\nmerchant = "M1"\nkind = "none"\n{PAY}[fees.b]\nchannel = "wechat"\nkind = "none"\n{PAY}',
     "fees rules 'a' and 'b' overlap"),
    (f'[fees.a]\nkind = "percent"\npercent = 0.6\n{PAY}', "fees.a.percent: 0.6 is a TOML float"),
    (f'[fees.a]\nkind = "percent"\npercent = "0.6"\nmin = "0.10"\n{PAY}', "must name its currency"),
    (f'[fees.a]\nkind = "percent"\npercent = "0.6"\ncurrency = "JPY"\nmin = "0.5"\n{PAY}', "finer than the minor unit"),
    (f'[fees.a]\nkind = "fixed"\npercent = "1"\nfixed = "1.00"\ncurrency = "CNY"\n{PAY}', "does not take percent"),
    (f'[fees.a]\ncurrency = "CNY"\nkind = "tiered"\ntiers = [{{from = "100.00", percent = "1"}}]\n{PAY}',
     "tiers must start"),
    (f'[fees.a]\nkind = "percent"\npercent = "1"\ndirection = "return"\n{PAY}', r'applies to record_types = \["REFUND"\] only'),
    (f'[fees.a]\nkind = "none"\n{PAY}[splits.s]\nshares = [{{party = "p", percent = "60"}}, {{party = "q", percent = "50"}}]\n'
     'remainder_to = "p"\nrounding = "down"\n', "add up to at most 100"),
    (f'[fees.a]\nkind = "none"\n{PAY}[splits.s]\nshares = [{{party = "p", percent = "10"}}]\n'
     'remainder_to = "nobody"\nrounding = "down"\n', "remainder_to 'nobody'"),
    (f'[fees.a]\nkind = "none"\nrecord_types = ["PAYMENT"]\nround_at = "transaction"\n', "fees.a.rounding: Field required"),
])
def test_ambiguous_or_invalid_rules_are_refused_by_name(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        rules_from(tmp_path, text)


def test_percent_with_fixed_min_and_max_by_hand(tmp_path):
    rule = rules_from(tmp_path, f'[fees.a]\ncurrency = "CNY"\nkind = "percent"\npercent = "2"\nfixed = "0.30"\n'
                                f'min = "1.00"\nmax = "10.00"\n{PAY}').fees["a"]
    # 2% of 10.00 + 0.30 = 0.50 -> min 1.00; of 100.00 + 0.30 = 2.30; of 1000.00 + 0.30 = 20.30 -> max 10.00.
    assert [exact_fee(rule, D(a), D(0)) for a in ("10.00", "100.00", "1000.00")] == [D("1.00"), D("2.30"), D("10.00")]


def test_rounding_per_total_apportions_the_rounded_total_by_largest_remainder(tmp_path):
    rule = rules_from(tmp_path, '[fees.a]\nkind = "percent"\npercent = "0.6"\nrecord_types = ["PAYMENT"]\n'
                                'rounding = "half_up"\nround_at = "total"\n').fees["a"]
    exact = [exact_fee(rule, D(a), D(0)) for a in ("0.75", "0.75", "0.75")]
    assert exact == [D("0.0045")] * 3
    # Per transaction each would be 0.00; per total 0.0135 -> 0.01, given to the first of the equal remainders.
    assert round_fees(rule, "CNY", exact) == [D("0.01"), D("0.00"), D("0.00")]
    # 0.333 + 0.333 + 0.334 = 1.000 -> 1.00: floors 0.33 x 3 = 0.99, the extra cent to the largest remainder.
    assert apportion(D("1.00"), [D("0.333"), D("0.333"), D("0.334")], "CNY") == [D("0.33"), D("0.33"), D("0.34")]
    assert apportion(D("-1.00"), [D("-0.333"), D("-0.333"), D("-0.334")], "CNY") == [D("-0.33"), D("-0.33"), D("-0.34")]


def test_split_with_fixed_share_and_refund_takes_shares_back(tmp_path):
    rules = rules_from(tmp_path, f'[fees.a]\nkind = "none"\n{PAY}[splits.s]\ncurrency = "CNY"\n'
                                 'record_types = ["PAYMENT", "REFUND"]\n'
                                 'shares = [{party = "partner", fixed = "1.00"}, {party = "platform", percent = "10"}]\n'
                                 'remainder_to = "merchant"\nrounding = "half_even"\n')
    rule = rules.splits["s"]
    # 20.05: partner 1.00 off the top; 19.05 x 10% = 1.905 -> 1.90 (half-even); merchant 90% = 17.145 -> 17.14;
    # 1.00 + 1.90 + 17.14 = 20.04, the cent left goes to the merchant: 17.15.
    assert split_net(rule, D("20.05"), "CNY") == (("merchant", D("17.15")), ("partner", D("1.00")), ("platform", D("1.90")))
    # A refund of 20.05 takes the same shares back.
    assert split_net(rule, D("-20.05"), "CNY") == (("merchant", D("-17.15")), ("partner", D("-1.00")),
                                                   ("platform", D("-1.90")))
