"""Settlement cycles: which trade days a channel pays out together, and when that payout is due.

A channel does not pay each payment: it settles a *period* of trade days in one go. T+1 on business
days means Monday's payout covers Friday, Saturday and Sunday; T+0 pays the same day; a weekly
cycle pays the week that ends on a configured weekday, some days later. We model a period as the
set of trade days that share one due date, so every cycle reduces to one function `due_date(day)`
and the periods fall out of grouping by it. After the due date a payout still has a grace window
(`payout_window_days`) to appear before it is called missing: a payout a day late is pending first.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from pydantic import Field, field_validator

from recon.config.toml import Money, StrictModel
from recon.matching.calendar import BusinessCalendar, weekday_number

_T_PLUS = re.compile(r"^T\+(\d{1,2})$")


class SettlementPolicy(StrictModel):
    """One channel's settlement and payout-landing rules (see rules/settlement.toml)."""

    cycle: str = "T+1"  # "T+0", "T+1", ... "T+N", or "weekly"
    business_days: bool = True  # lags count business days; due dates roll to a business day
    week_ends_on: str = "sun"  # weekly: last trade day of the period
    weekly_lag_days: int = Field(1, ge=0, le=31)  # weekly: due this many days after the period
    payout_window_days: int = Field(2, ge=0, le=31)  # grace after the due date before "missing"
    tolerance: Money = Decimal("0")  # |paid - owed| at or under this is settled
    payout_channel: str | None = None  # where payouts are reported (WeChat: the fund-flow bill)
    payouts_reported: bool = True  # the channel's own bills carry its payouts (false: trade-only bills)
    landing_days: int = Field(2, ge=0, le=31)  # a payout's credit may reach the bank this late
    flag_unexpected_credits: bool = True  # bank credits no payout explains are discrepancies

    @field_validator("cycle")
    @classmethod
    def _cycle(cls, value: str) -> str:
        text = value.strip()
        if text != "weekly" and not _T_PLUS.match(text):
            raise ValueError(f"cycle must be 'T+N' or 'weekly', got {value!r}")
        return text

    @field_validator("week_ends_on")
    @classmethod
    def _weekday(cls, value: str) -> str:
        weekday_number(value)
        return value

    @field_validator("tolerance")
    @classmethod
    def _tolerance(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("a tolerance cannot be negative")
        return value


@dataclass(frozen=True, slots=True)
class Period:
    """Trade days settled together; `close` is the last day the payout may still arrive."""

    start: dt.date
    end: dt.date
    due: dt.date
    close: dt.date
    days: tuple[dt.date, ...]


@dataclass(frozen=True, slots=True)
class SettlementCycle:
    policy: SettlementPolicy
    calendar: BusinessCalendar

    @property
    def lag(self) -> int:
        match = _T_PLUS.match(self.policy.cycle)
        return int(match.group(1)) if match else self.policy.weekly_lag_days

    def due_date(self, trade_day: dt.date) -> dt.date:
        """When the channel must have paid out the money earned on `trade_day`."""
        anchor = trade_day
        if self.policy.cycle == "weekly":
            last = weekday_number(self.policy.week_ends_on)
            anchor = trade_day + dt.timedelta(days=(last - trade_day.weekday()) % 7)
        due = self.calendar.add_days(anchor, self.lag, business=self.policy.business_days)
        # A channel that pays on business days only cannot pay on a holiday: it pays the next day.
        return self.calendar.roll_forward(due) if self.policy.business_days else due

    def close_date(self, due: dt.date) -> dt.date:
        return self.calendar.add_days(due, self.policy.payout_window_days, business=self.policy.business_days)

    def horizon_days(self) -> int:
        """How many calendar days back a still-open period can start (generous for long holidays)."""
        span = 7 if self.policy.cycle == "weekly" else 1
        return span + 3 * (self.lag + self.policy.payout_window_days) + 14

    def open_periods(self, as_of: dt.date, closed_since: dt.date | None = None) -> list[Period]:
        """Complete periods (every trade day <= `as_of`) whose payout window has not closed before `as_of`
        (or before `closed_since`, to include the periods whose window closed since then)."""
        first = as_of - dt.timedelta(days=self.horizon_days())
        by_due: dict[dt.date, list[dt.date]] = {}
        for offset in range((as_of - first).days + 1):
            day = first + dt.timedelta(days=offset)
            by_due.setdefault(self.due_date(day), []).append(day)
        periods = []
        for due, days in sorted(by_due.items()):
            # The first group may be cut by the horizon and the last may still be growing: a
            # period is only judged whole, so both must be complete.
            if self.due_date(days[0] - dt.timedelta(days=1)) == due:
                continue
            if self.due_date(days[-1] + dt.timedelta(days=1)) == due and days[-1] >= as_of:
                continue
            close = self.close_date(due)
            if close >= (closed_since or as_of):
                periods.append(Period(days[0], days[-1], due, close, tuple(days)))
        return periods
