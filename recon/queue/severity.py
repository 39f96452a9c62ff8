"""How urgent a discrepancy is: severity from the money at stake and its age; aging buckets.

Analysts work the queue from the top, so severity must reflect both what it costs (a large
difference) and how stale it is (most discrepancies are cross-day and resolve themselves in a day or
two; one still open after a week is a real problem). Each dimension scores 0-2 against two
thresholds and the sum names the level. Thresholds come from the optional `[queue]` table of
recon.toml; amounts are Decimals (a TOML float would bring binary rounding into money comparisons,
so a float threshold is refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from recon.errors import ConfigError

LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS)}
BUCKETS = ("0-1", "2-3", "4-7", ">7")


@dataclass(frozen=True, slots=True)
class Thresholds:
    medium_amount: Decimal = Decimal("100")
    high_amount: Decimal = Decimal("10000")
    warn_age_days: int = 3
    critical_age_days: int = 7


def _decimal(value: object, key: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except ArithmeticError:
            pass
    raise ConfigError(f"queue.{key}: expected an amount as a string or integer, got {value!r}")


def thresholds_from(settings: object) -> Thresholds:
    """Read `[queue]` from the settings if recon.config declares it; defaults otherwise."""
    section = getattr(settings, "queue", None)
    if section is None:
        return Thresholds()
    get = (section.get if isinstance(section, dict) else lambda k, d: getattr(section, k, d))
    base = Thresholds()
    result = Thresholds(
        medium_amount=_decimal(get("medium_amount", base.medium_amount), "medium_amount"),
        high_amount=_decimal(get("high_amount", base.high_amount), "high_amount"),
        warn_age_days=int(get("warn_age_days", base.warn_age_days)),
        critical_age_days=int(get("critical_age_days", base.critical_age_days)),
    )
    if result.medium_amount > result.high_amount or result.warn_age_days > result.critical_age_days:
        raise ConfigError("queue: medium_amount/warn_age_days must not exceed high_amount/critical_age_days")
    return result


def severity(at_stake: Decimal, age_days: int, t: Thresholds) -> str:
    amount_score = 2 if at_stake >= t.high_amount else 1 if at_stake >= t.medium_amount else 0
    age_score = 2 if age_days > t.critical_age_days else 1 if age_days > t.warn_age_days else 0
    return LEVELS[min(amount_score + age_score, len(LEVELS) - 1)]


def aging_bucket(age_days: int) -> str:
    if age_days <= 1:
        return BUCKETS[0]
    if age_days <= 3:
        return BUCKETS[1]
    if age_days <= 7:
        return BUCKETS[2]
    return BUCKETS[3]
