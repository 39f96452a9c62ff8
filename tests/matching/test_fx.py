"""Layer 1 across currencies: the statement's rate or the rates file, a per-channel tolerance, FX_MISMATCH."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal as D
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, strategies as st

from recon.config.fx import FxSettings, FxTolerance
from recon.config.ruleset import MatchRules
from recon.errors import ConfigError
from recon.internal import INTERNAL_COLUMNS
from recon.matching.fx import FxPolicy, convert, decide, load_rates
from recon.matching.layer1 import match_frames
from recon.money import Rounding
from tests.matching.factory import BILL_SCHEMA, DAY, _ours, _theirs

AT = dt.datetime(2024, 5, 1, 4, 0, tzinfo=dt.UTC)
FX_SCHEMA = {**BILL_SCHEMA, "fx_rate": pl.String, "fx_from": pl.String}


def ours(i: int, amount: str, currency: str = "USD", fee: str = "0") -> dict:
    return {**_ours(i, f"M{i}", None, "PAYMENT", None, D(amount), D(fee), AT), "currency": currency,
            "source_line": i + 2}


def theirs(i: int, amount: str, currency: str = "EUR", *, rate: str | None = None, rate_from: str | None = None,
           fee: str = "0", account: str = "1900000109") -> dict:
    row = _theirs(f"C{i}", f"M{i}", "PAYMENT", None, None, D(amount), D(fee), AT)
    return {**row, "currency": currency, "source_line": i + 2, "fx_rate": rate, "fx_from": rate_from,
            "account": account}


def run(our_rows, their_rows, policy: FxPolicy | None) -> pl.DataFrame:
    internal = pl.DataFrame([{c: r[c] for c in INTERNAL_COLUMNS} for r in our_rows], schema=INTERNAL_COLUMNS,
                            orient="row")
    bill = pl.DataFrame([{c: r.get(c) for c in FX_SCHEMA} for r in their_rows], schema=FX_SCHEMA, orient="row")
    return match_frames(bill, internal, MatchRules(), DAY,
                        channel="adyen", zone="Asia/Shanghai", fx_policy=policy)


def by_txn(res: pl.DataFrame) -> dict[str, dict]:
    return {r["our_txn_id"]: r for r in res.to_dicts()}


def rates_file(tmp_path, text: str):
    path = tmp_path / "rates.csv"
    path.write_text(text, encoding="utf-8")
    return load_rates(path)


def test_statement_rate_within_tolerance_matches_and_beyond_is_fx_mismatch():
    policy = FxPolicy(FxSettings(tolerance_minor=2))
    res = by_txn(run([ours(0, "100.00"), ours(1, "100.00")],
                     [theirs(0, "92.01", rate="0.9200", rate_from="USD"),   # 92.00 converted: 0.01 off
                      theirs(1, "92.50", rate="0.9200", rate_from="USD")],  # 0.50 off
                     policy))
    ok, bad = res["T000000"], res["T000001"]
    assert ok["outcome"] == "MATCHED"
    assert ok["reason"] == ("matched across currencies: 100.00 USD here at 0.9200 USD->EUR (stated on bill.csv:2) "
                            "is 92.00 EUR, the channel has 92.01 EUR, within the tolerance 0.02 EUR")
    assert bad["outcome"] == "FX_MISMATCH"
    assert bad["reason"] == ("100.00 USD here at 0.9200 USD->EUR (stated on bill.csv:3) is 92.00 EUR, the channel "
                             "has 92.50 EUR: off by 0.50 EUR, beyond the tolerance 0.02 EUR")
    # both figures stay in their own currencies; no difference is computed across them
    assert (bad["our_amount"], bad["their_amount"], bad["diff_amount"]) == (D("100"), D("92.5"), None)


def test_rates_file_rate_of_the_latest_day_on_or_before_the_business_day(tmp_path):
    rates = rates_file(tmp_path, "date,from,to,rate\n2024-04-29,USD,EUR,0.9000\n2024-04-30,USD,EUR,0.9300\n"
                                 "2024-05-02,USD,EUR,0.9900\n")
    res = by_txn(run([ours(0, "10.00")], [theirs(0, "9.30")], FxPolicy(FxSettings(), rates)))
    assert res["T000000"]["outcome"] == "MATCHED"
    assert "at 0.9300 USD->EUR (rates.csv line 3, 2024-04-30)" in res["T000000"]["reason"]


def test_statement_rate_wins_over_the_rates_file(tmp_path):
    rates = rates_file(tmp_path, "date,from,to,rate\n2024-05-01,USD,EUR,0.5\n")
    res = by_txn(run([ours(0, "10.00")], [theirs(0, "9.20", rate="0.92", rate_from="USD")],
                     FxPolicy(FxSettings(), rates)))
    assert res["T000000"]["outcome"] == "MATCHED" and "stated on bill.csv:2" in res["T000000"]["reason"]


def test_no_rate_stays_currency_mismatch_and_says_so(tmp_path):
    rates = rates_file(tmp_path, "date,from,to,rate\n2024-05-01,GBP,EUR,1.17\n2024-05-02,USD,EUR,0.92\n")
    res = by_txn(run([ours(0, "10.00")], [theirs(0, "9.20")], FxPolicy(FxSettings(tolerance_minor=5), rates)))
    row = res["T000000"]
    assert row["outcome"] == "CURRENCY_MISMATCH"
    assert row["reason"] == ("currency USD here, EUR at the channel; no exchange rate USD->EUR: the statement "
                             "states none, rates.csv has none on or before 2024-05-01")


def test_without_fx_settings_a_rate_on_the_line_changes_nothing():
    res = by_txn(run([ours(0, "10.00")], [theirs(0, "9.20", rate="0.92", rate_from="USD")], None))
    assert res["T000000"]["outcome"] == "CURRENCY_MISMATCH"


def test_no_tolerance_configured_means_exact():
    policy = FxPolicy(FxSettings())
    res = by_txn(run([ours(0, "10.00"), ours(1, "10.00")],
                     [theirs(0, "9.20", rate="0.92", rate_from="USD"), theirs(1, "9.21", rate="0.92", rate_from="USD")],
                     policy))
    assert res["T000000"]["outcome"] == "MATCHED" and "no tolerance configured: exact" in res["T000000"]["reason"]
    assert res["T000001"]["outcome"] == "FX_MISMATCH" and "off by 0.01 EUR" in res["T000001"]["reason"]


def test_percent_tolerance_and_an_accounts_own_tolerance():
    policy = FxPolicy(FxSettings(tolerance_percent=D("1"), accounts={"strict": FxTolerance(tolerance_minor=0)}))
    res = by_txn(run([ours(0, "100.00"), ours(1, "100.00")],
                     [theirs(0, "92.90", rate="0.92", rate_from="USD"),                 # 0.90 off, 1 % is 0.92
                      theirs(1, "92.01", rate="0.92", rate_from="USD", account="strict")],
                     policy))
    assert res["T000000"]["outcome"] == "MATCHED" and "tolerance 0.92 EUR" in res["T000000"]["reason"]
    assert res["T000001"]["outcome"] == "FX_MISMATCH"


def test_a_rate_from_another_currency_is_not_used():
    res = by_txn(run([ours(0, "10.00")], [theirs(0, "9.20", rate="1.17", rate_from="GBP")], FxPolicy(FxSettings())))
    assert res["T000000"]["outcome"] == "CURRENCY_MISMATCH" and "no exchange rate" in res["T000000"]["reason"]


def test_fee_and_status_still_compared_after_the_rate_agrees():
    res = by_txn(run([ours(0, "100.00", fee="1.00")], [theirs(0, "92.00", rate="0.92", rate_from="USD", fee="0.50")],
                     FxPolicy(FxSettings(tolerance_minor=1))))
    assert res["T000000"]["outcome"] == "FEE_MISMATCH"
    assert res["T000000"]["reason"].startswith("fee 1.00 USD here at 0.92 USD->EUR (stated on bill.csv:2) is 0.92 EUR")


@pytest.mark.parametrize(("text", "error"), [
    ("date,from,to,rate\n2024-05-01,USD,EUR,0.92\n2024-05-01,USD,EUR,0.93\n", "rates.csv:3: a second rate USD->EUR"),
    ("date,from,to,rate\n2024-05-01,USD,EUR,1e-2\n", "rates.csv:2"),
    ("date,from,to,rate\n2024-05-01,USD,EUR,0\n", "is not positive"),
    ("day,from,to,rate\n", "has the columns"),
])
def test_a_bad_rates_file_is_refused_with_its_line(tmp_path, text, error):
    with pytest.raises(ConfigError, match=error.replace("(", r"\(")):
        rates_file(tmp_path, text)


amounts = st.decimals(min_value=D("-1000000"), max_value=D("1000000"), places=2, allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=D("0.000001"), max_value=D("2000"), places=8, allow_nan=False, allow_infinity=False)


@given(amounts, rates, st.sampled_from(["EUR", "JPY", "KWD"]))
def test_conversion_is_the_exact_product_rounded_once_and_symmetric(amount, rate, currency):
    got = convert(amount, rate, currency, Rounding.HALF_EVEN)
    # the true product, rounded half-even by hand in Fractions: no Decimal context involved
    units = Fraction(amount) * Fraction(rate) * 10 ** {"EUR": 2, "JPY": 0, "KWD": 3}[currency]
    low = math.floor(units)
    nearest = low + (1 if units - low > Fraction(1, 2) or (units - low == Fraction(1, 2) and low % 2) else 0)
    assert Fraction(got) * 10 ** {"EUR": 2, "JPY": 0, "KWD": 3}[currency] == nearest
    # a refund (both amounts negated) converts to exactly the negated figure, and decides the same
    assert convert(-amount, rate, currency, Rounding.HALF_EVEN) == -got
    for mode in Rounding:
        assert convert(-amount, rate, currency, mode) == -convert(amount, rate, currency, mode)


@given(amounts, rates, amounts)
def test_decision_is_symmetric_for_refunds(ours_amount, rate, theirs_amount):
    policy = FxPolicy(FxSettings(tolerance_minor=3, tolerance_percent=D("0.1")))
    row = {"our_currency": "USD", "their_currency": "EUR", "fx_rate": str(rate), "fx_from": "USD",
           "their_file": "b", "their_line": 2, "our_status": "SUCCESS", "their_status": "SUCCESS",
           "our_fee": D(0), "their_fee": D(0), "account": "a", "carried_from": None}
    compare = ("currency", "amount")
    plus = decide({**row, "our_amount": ours_amount, "their_amount": theirs_amount}, policy, DAY, compare)
    minus = decide({**row, "our_amount": -ours_amount, "their_amount": -theirs_amount}, policy, DAY, compare)
    assert plus[0] == minus[0]
