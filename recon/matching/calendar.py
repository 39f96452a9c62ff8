"""Business days: when banks publish statements and when channels pay out.

Layers 2 and 3 reason about dates that are not calendar arithmetic: a T+1 settlement of a Friday's
trades is due on Monday, a bank publishes no statement on a Sunday or on a bank holiday, and a
payout sent on the eve of a holiday lands after it. `BusinessCalendar` answers those questions from
configuration only (weekend days, a list of holidays, and the make-up working days some countries
declare, such as the Saturdays China works around its Golden Week, 调休). Nothing is downloaded and
nothing is guessed: a day is a business day exactly when the configuration says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from recon.errors import ConfigError

_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
# A configuration error (every day a holiday) must not turn a date search into an endless loop.
_MAX_SCAN_DAYS = 3660


def weekday_number(name: str) -> int:
    """`"sat"` / `"Saturday"` -> 5 (Monday is 0, as in `datetime.weekday`)."""
    key = str(name).strip().lower()[:3]
    if key not in _WEEKDAYS:
        raise ConfigError(f"calendar: {name!r} is not a weekday name (mon, tue, ... sun)")
    return _WEEKDAYS[key]


def _dates(values: Iterable[object], what: str) -> frozenset[dt.date]:
    out = set()
    for value in values:
        if isinstance(value, dt.date):
            out.add(value)
            continue
        try:
            out.add(dt.date.fromisoformat(str(value).strip()))
        except ValueError:
            raise ConfigError(f"calendar.{what}: {value!r} is not a date (YYYY-MM-DD)") from None
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Which days are business days. Immutable; build it with `from_config`."""

    weekend: frozenset[int] = frozenset({5, 6})
    holidays: frozenset[dt.date] = frozenset()
    # Weekend days declared working days (调休): they count as business days.
    workdays: frozenset[dt.date] = frozenset()

    @classmethod
    def from_config(cls, data: Mapping[str, object] | None) -> BusinessCalendar:
        """From a `[calendar]` table: `weekend = ["sat", "sun"]`, `holidays = [...]`, `workdays = [...]`."""
        data = dict(data or {})
        unknown = set(data) - {"weekend", "holidays", "workdays"}
        if unknown:
            raise ConfigError(f"calendar: unknown key(s) {sorted(unknown)}")
        weekend = data.get("weekend", ["sat", "sun"])
        if not isinstance(weekend, list | tuple):
            raise ConfigError("calendar.weekend must be a list of weekday names")
        return cls(
            weekend=frozenset(weekday_number(w) for w in weekend),
            holidays=_dates(data.get("holidays", ()), "holidays"),  # type: ignore[arg-type]
            workdays=_dates(data.get("workdays", ()), "workdays"),  # type: ignore[arg-type]
        )

    def is_business_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() not in self.weekend and day not in self.holidays

    def roll_forward(self, day: dt.date) -> dt.date:
        """`day` if it is a business day, else the next one (the "following" convention)."""
        for offset in range(_MAX_SCAN_DAYS):
            candidate = day + dt.timedelta(days=offset)
            if self.is_business_day(candidate):
                return candidate
        raise ConfigError(f"calendar has no business day within {_MAX_SCAN_DAYS} days of {day}")

    def add_business_days(self, day: dt.date, count: int) -> dt.date:
        """The `count`-th business day after `day` (0: `day` rolled forward to a business day)."""
        if count < 0:
            raise ValueError("count must be >= 0")
        current = self.roll_forward(day) if count == 0 else day
        for _ in range(count):
            current = self.roll_forward(current + dt.timedelta(days=1))
        return current

    def add_days(self, day: dt.date, count: int, *, business: bool) -> dt.date:
        """Shift by business days or by calendar days, as a rule asks."""
        if business:
            return self.add_business_days(day, count)
        return day + dt.timedelta(days=count)

    def business_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Business days in [start, end]."""
        days = (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
        return [d for d in days if self.is_business_day(d)]
