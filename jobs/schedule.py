"""The escalating retry schedule of a late statement, as plain functions of time.

A channel publishes day D's statement some time on D+1, often late. Cron runs `recon fetch` every
few minutes; each run must know whether this is the moment to ask the server again. The channel's
`retry = ["10m", "20m", "40m", "80m"]` gives the waits after the 1st, 2nd, 3rd and every later
failed attempt; `deadline = "D+1 12:00"` (in the channel's time zone) is when a person must look
(MANUAL). The attempt count lives in the store (jobs.fetch_state), so separate processes continue
one schedule; everything here is pure, so tests drive it with explicit clocks.

Durations: a number and a unit, `ms`, `s`, `m`, `h` or `d` (`"90s"`, `"1.5h"`).
Deadlines: `D HH:MM` or `D+N HH:MM` (N days after the business date).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from recon.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DEADLINE = re.compile(r"^\s*D\s*(?:\+\s*(\d+))?\s+(\d{1,2}):(\d{2})\s*$")
UTC = dt.timezone.utc


def parse_duration(text: str, *, setting: str = "retry") -> dt.timedelta:
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"{setting}: {text!r} is not a duration like '10m', '90s' or '2h'")
    return dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def waits(retry: tuple[str, ...] | list[str], *, setting: str = "retry") -> tuple[dt.timedelta, ...]:
    if not retry:
        raise ConfigError(f"{setting}: needs at least one wait, e.g. [\"10m\", \"20m\"]")
    return tuple(parse_duration(t, setting=setting) for t in retry)


def deadline_at(spec: str, date: dt.date, zone: ZoneInfo, *, setting: str = "deadline") -> dt.datetime:
    """The deadline for business date `date`, as an aware UTC datetime."""
    match = _DEADLINE.match(spec)
    if not match:
        raise ConfigError(f"{setting}: {spec!r} is not a deadline like 'D+1 12:00'")
    days, hour, minute = int(match.group(1) or 0), int(match.group(2)), int(match.group(3))
    if hour > 23 or minute > 59:
        raise ConfigError(f"{setting}: {spec!r} has no such time of day")
    local = dt.datetime.combine(date + dt.timedelta(days=days), dt.time(hour, minute), tzinfo=zone)
    return local.astimezone(UTC)


def wait_after(attempts: int, schedule: tuple[dt.timedelta, ...]) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt (the last wait repeats)."""
    return schedule[min(max(attempts, 1), len(schedule)) - 1]


def next_attempt(now: dt.datetime, attempts: int, schedule: tuple[dt.timedelta, ...], deadline: dt.datetime,
                 *, not_before: dt.datetime | None = None) -> dt.datetime | None:
    """When to try again after a failed attempt; None once the deadline has passed (MANUAL).

    The last attempt lands on the deadline itself rather than after it, so the day is never given
    up without one try at the deadline.
    """
    if now >= deadline:
        return None
    when = now + wait_after(attempts, schedule)
    if not_before is not None:  # a server's Retry-After longer than we would wait within an attempt
        when = max(when, not_before)
    return min(when, deadline)


def is_due(now: dt.datetime, next_at: dt.datetime | None) -> bool:
    return next_at is None or now >= next_at

