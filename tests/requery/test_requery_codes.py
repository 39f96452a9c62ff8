"""Return codes never guess: only a code mapped in the business layer is SUCCESS or FAILED."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.requery.codes import interpret
from jobs.requery.model import Exchange, Reading
from rules.loader import load_rules
from recon.config.ruleset import RequeryRules

codes = st.text(min_size=1, max_size=12)
meanings = st.sampled_from(["SUCCESS", "FAILED", "UNKNOWN"])
maps = st.dictionaries(codes, meanings, max_size=6)
rule_sets = st.builds(lambda trade, errors: RequeryRules(status={"trade_state": trade}, errors=errors),
                      maps, st.dictionaries(codes, st.sampled_from(["NOT_FOUND", "UNKNOWN"]), max_size=4))
ANSWERED = Exchange("GET", "https://api.example/v3/pay", "GET /v3/pay", 200, (), b"{}")
BUILT_IN = [load_rules(name).requery for name in ("wechatpay", "alipay", "stripe")]
# No test may depend on the machine's speed: building a rule set is pydantic work, slow on a busy box.
UNTIMED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@UNTIMED
@given(rule_sets, codes, st.sampled_from(["trade_state", "other_field"]))
def test_a_business_code_is_success_or_failed_only_when_mapped_so(rules, code, field):
    answer = interpret(ANSWERED, Reading(field=field, code=code), rules)
    mapped = rules.status.get(field, {}).get(code.strip())
    if answer.status in ("SUCCESS", "FAILED"):
        assert mapped == answer.status
    else:
        assert answer.status == "UNKNOWN" and mapped in (None, "UNKNOWN")


@UNTIMED
@given(rule_sets, codes, st.one_of(st.none(), codes))
def test_an_api_error_is_never_a_business_result(rules, error, business_code):
    # Even when the business field of an error answer carries a mapped success code.
    answer = interpret(ANSWERED, Reading(error=error, field="trade_state", code=business_code), rules)
    assert answer.status in ("NOT_FOUND", "UNKNOWN") and answer.layer == "api"
    assert (answer.status == "NOT_FOUND") == (rules.errors.get(error.strip()) == "NOT_FOUND")


@UNTIMED
@given(st.sampled_from(BUILT_IN), codes, codes)
def test_no_answer_is_unknown_whatever_it_carries(rules, field, code):
    refused = Exchange("GET", "https://api.example/v3/pay", "GET /v3/pay", 200, (), b"{}", fault="signature refused")
    assert interpret(refused, Reading(field=field, code=code), rules).status == "UNKNOWN"


@UNTIMED
@given(st.sampled_from(BUILT_IN), codes, codes)
def test_built_in_rule_sets_map_only_what_they_name(rules, field, code):
    status = interpret(ANSWERED, Reading(field=field, code=code), rules).status
    assert status == rules.status.get(field, {}).get(code.strip(), "UNKNOWN")


def test_communication_ok_is_not_business_ok():
    wechat = load_rules("wechatpay").requery
    assert interpret(ANSWERED, Reading(field="trade_state", code=None), wechat).status == "UNKNOWN"
    assert interpret(ANSWERED, Reading(field="trade_state", code="NOTPAY"), wechat).status == "UNKNOWN"
    assert interpret(ANSWERED, Reading(error="SUCCESS"), wechat).status == "UNKNOWN"
