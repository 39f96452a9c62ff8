"""The one clock: what instant it is, and which business day that is for a workspace or channel.

Every instant recon keeps is aware and in UTC. A business day ("today", "yesterday", an item's age)
only has a meaning in a zone: the workspace's `defaults.timezone`, or a channel's own `timezone`.
There is no default zone here on purpose: a library function that needs a business day is given
the zone, so the host's zone can never leak in (a server in UTC would otherwise cut the days of an
Asia/Shanghai team eight hours early).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from recon.errors import ConfigError

UTC = dt.timezone.utc
EARLIEST = dt.date(1970, 1, 1)


def utcnow() -> dt.datetime:
    """The current instant, aware, in UTC."""
    return dt.datetime.now(UTC)


def business_today(zone: ZoneInfo, now: dt.datetime | None = None) -> dt.date:
    """The calendar date in `zone` at `now` (default: this instant)."""
    return (now or utcnow()).astimezone(zone).date()


def window_utc(date: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a business day in `zone`, as UTC instants."""
    start = dt.datetime.combine(date, dt.time(0), zone)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), zone)
    return start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)


def on_screen(instant: dt.datetime, zone: ZoneInfo) -> str:
    """An instant as people read it: in the business zone, with the zone named."""
    return f"{instant.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"


def parse_date(text: str, today: dt.date) -> dt.date:
    """`YYYY-MM-DD`, or `today`/`yesterday` relative to `today`: the workspace's business date
    (`Workspace.today()`), never the host's."""
    special = {"today": today, "yesterday": today - dt.timedelta(days=1)}
    if text in special:
        return special[text]
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--date: {text!r} is not a date (YYYY-MM-DD)") from None
    # a typo like 9999-12-31 would otherwise open a run, leases and log lines for a day that cannot exist yet
    if date > today + dt.timedelta(days=1) or date < EARLIEST:
        raise ConfigError(f"date {date} is outside {EARLIEST}..{today + dt.timedelta(days=1)} "
                          f"(at most one day after the business today, {today})")
    return date
