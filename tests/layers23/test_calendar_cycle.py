"""Business days and settlement cycles, with dates worked out by hand (2024-03-01 is a Friday)."""

from __future__ import annotations

import datetime as dt

import pytest

from recon.errors import ConfigError
from recon.matching.calendar import BusinessCalendar
from recon.matching.policy import LayerSettings
from rules.loader import RuleBook
from recon.matching.settlement_cycle import SettlementCycle, SettlementPolicy

D = dt.date
CAL = BusinessCalendar.from_config({"holidays": ["2024-04-01"], "workdays": ["2024-04-07"]})


def test_weekends_holidays_and_makeup_workdays():
    assert CAL.is_business_day(D(2024, 3, 1))  # Friday
    assert not CAL.is_business_day(D(2024, 3, 2))  # Saturday
    assert not CAL.is_business_day(D(2024, 4, 1))  # Easter Monday, configured
    assert CAL.is_business_day(D(2024, 4, 7))  # a Sunday declared a working day (调休)
    assert CAL.add_business_days(D(2024, 3, 1), 1) == D(2024, 3, 4)  # Fri + 1 = Mon
    assert CAL.add_business_days(D(2024, 3, 29), 1) == D(2024, 4, 2)  # Fri + 1 skips the holiday
    assert CAL.business_days(D(2024, 3, 1), D(2024, 3, 4)) == [D(2024, 3, 1), D(2024, 3, 4)]


def test_t_plus_1_on_business_days_pays_friday_to_sunday_on_monday():
    cycle = SettlementCycle(SettlementPolicy(cycle="T+1"), CAL)
    assert [cycle.due_date(D(2024, 3, d)) for d in (1, 2, 3, 4)] == [D(2024, 3, 4)] * 3 + [D(2024, 3, 5)]
    monday = [p for p in cycle.open_periods(D(2024, 3, 4)) if p.due == D(2024, 3, 4)]
    assert (monday[0].start, monday[0].end) == (D(2024, 3, 1), D(2024, 3, 3))
    assert monday[0].close == D(2024, 3, 6)  # two business days of grace


def test_t_plus_0_calendar_days_and_weekly():
    t0 = SettlementCycle(SettlementPolicy(cycle="T+0", business_days=False), CAL)
    assert t0.due_date(D(2024, 3, 2)) == D(2024, 3, 2)
    weekly = SettlementCycle(SettlementPolicy(cycle="weekly", week_ends_on="sun", weekly_lag_days=2), CAL)
    # The week of Mon 4 .. Sun 10 March is due two business days after the Sunday: Tue 12 March.
    assert {weekly.due_date(D(2024, 3, d)) for d in range(4, 11)} == {D(2024, 3, 12)}
    periods = [p for p in weekly.open_periods(D(2024, 3, 12)) if p.due == D(2024, 3, 12)]
    assert (periods[0].start, periods[0].end) == (D(2024, 3, 4), D(2024, 3, 10))


def test_an_incomplete_period_is_not_judged():
    cycle = SettlementCycle(SettlementPolicy(cycle="weekly"), CAL)
    # On Wednesday the current week is still growing: it is not among the open periods.
    assert all(p.end < D(2024, 3, 6) for p in cycle.open_periods(D(2024, 3, 6)))


def test_settings_merge_defaults_format_and_channel_and_reject_unknown_keys():
    cfg = LayerSettings.from_dict({
        "defaults": {"cycle": "T+1"},
        "formats": {"stripe.balance": {"cycle": "T+2", "landing_days": 3}},
        "channels": {"stripe": {"cycle": "T+0"}},
    })
    policy = cfg.policy("stripe", "stripe.balance")
    assert (policy.cycle, policy.landing_days) == ("T+0", 3)
    with pytest.raises(ConfigError, match="channels.stripe.cylce: unknown key"):
        LayerSettings.from_dict({"channels": {"stripe": {"cylce": "T+1"}}}).policy("stripe", None)
    with pytest.raises(ConfigError, match="cycle must be"):
        LayerSettings.from_dict({"defaults": {"cycle": "monthly"}})
    with pytest.raises(ConfigError, match="not a date"):
        LayerSettings.from_dict({"calendar": {"holidays": ["1 May"]}})


def test_builtin_settings_load():
    cfg = LayerSettings.from_document(RuleBook().document("settlement"))
    assert cfg.policy("stripe", "stripe.balance").cycle == "T+2"
    assert not cfg.calendar.is_business_day(D(2024, 3, 2))
