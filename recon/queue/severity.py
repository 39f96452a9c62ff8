"""How urgent a discrepancy is: severity from the money at stake and its age; aging buckets.

Analysts work the queue from the top, so severity must reflect both what it costs (a large
difference) and how stale it is (most discrepancies are cross-day and resolve themselves in a day or
two; one still open after a week is a real problem). Each dimension scores 0-2 against two
thresholds and the sum names the level. Thresholds are the `[queue]` table of recon.toml
(recon.config.settings.QueueSettings): amounts are exact decimals, a TOML float is refused.
"""

from __future__ import annotations

from decimal import Decimal

from recon.config.settings import QueueSettings

LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS)}
BUCKETS = ("0-1", "2-3", "4-7", ">7")


def severity(at_stake: Decimal, age_days: int, t: QueueSettings) -> str:
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
