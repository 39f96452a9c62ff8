"""Fees: what one transaction costs the merchant under its fee rule, and where rounding happens.

A fee is first computed *exactly* (no rounding) from the transaction's magnitude |amount|:
- `percent`: |amount| x percent / 100, plus `fixed` if given, then held within [`min`, `max`];
- `tiered` (阶梯费率): as `percent`, with the percent of the tier the merchant's month-to-date
  volume has reached *including this transaction*. Volume is the sum of the merchant's cleared
  PAYMENT amounts in this currency since the 1st of the clearing day's month, taken in clearing
  order (earlier clearing days first, then by trade time and txn id). So the transaction that
  crosses a tier's `from` is charged wholly at the new tier's rate, and so is every later one;
  refunds do not lower the volume (the tier a merchant earned stays earned);
- `fixed`: the fixed amount; `none`: zero.
The sign follows the rule's `direction`: "charge" is a positive fee (the merchant pays), "return"
a negative one (a refund gives the merchant its fee back, computed by the same formula).

Rounding to the currency's minor unit is named by the rule (`rounding`), and so is where it
happens (`round_at`): "transaction" quantizes each fee; "total" quantizes the day's total per
merchant, currency and rule once, then apportions that total back to the transactions by largest
remainder, so every transaction still carries a whole-unit fee and the lines add up to the total.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, localcontext

from recon.clearing.fee_rules import FeeRule
from recon.money import Rounding, context, exponent, quantize

_HUNDRED = Decimal(100)


def exact_fee(rule: FeeRule, amount: Decimal, volume_after: Decimal) -> Decimal:
    """The unrounded fee on one transaction (signed by the rule's direction)."""
    base = abs(amount)
    with localcontext(context()):
        if rule.kind == "none":
            fee = Decimal(0)
        elif rule.kind == "fixed":
            fee = rule.fixed or Decimal(0)
        else:
            percent = rule.percent if rule.kind == "percent" else tier_percent(rule, volume_after)
            fee = base * percent / _HUNDRED + (rule.fixed or Decimal(0))
            if rule.min is not None:
                fee = max(fee, rule.min)
            if rule.max is not None:
                fee = min(fee, rule.max)
        return -fee if rule.direction == "return" else fee


def tier_percent(rule: FeeRule, volume_after: Decimal) -> Decimal:
    """The percent of the highest tier whose `from` the month-to-date volume has reached."""
    reached = [t for t in rule.tiers if volume_after >= t.start]
    return reached[-1].percent  # tiers start at 0 (validated), so one is always reached


def round_fees(rule: FeeRule, currency: str, exact: list[Decimal]) -> list[Decimal]:
    """Whole-unit fees for one group (same merchant, currency and rule), in the given order."""
    if rule.round_at == "transaction":
        return [quantize(f, currency, rule.rounding) for f in exact]
    return apportion(quantize(sum(exact, Decimal(0)), currency, rule.rounding), exact, currency)


def apportion(total: Decimal, exact: list[Decimal], currency: str) -> list[Decimal]:
    """Split a rounded `total` over lines proportional to their exact values (largest remainder).

    All lines of a group share one sign (one rule, one direction), so the work is done on
    magnitudes: each line gets its value rounded toward zero, and the units still missing from the
    total go one each to the lines with the largest cut-off part (ties: the earlier line).
    """
    if not exact:
        return []
    unit = Decimal(1).scaleb(-exponent(currency))
    sign = -1 if total < 0 or any(f < 0 for f in exact) else 1
    floors = [quantize(abs(f), currency, Rounding.DOWN) for f in exact]
    with localcontext(context()):
        missing = int((abs(total) - sum(floors, Decimal(0))) / unit)
        if not 0 <= missing <= len(exact):  # cannot happen for a total rounded from these lines
            raise ValueError(f"cannot apportion {total} over {exact}")
        order = sorted(range(len(exact)), key=lambda i: (-(abs(exact[i]) - floors[i]), i))
        for i in order[:missing]:
            floors[i] += unit
        return [sign * f if f else f for f in floors]


class MonthVolume:
    """Month-to-date cleared PAYMENT volume per (merchant, currency), for tier selection."""

    def __init__(self, prior: dict[tuple[str, str], Decimal] | None = None) -> None:
        self._volume: dict[tuple[str, str], Decimal] = defaultdict(Decimal, prior or {})

    def after(self, merchant: str, currency: str, record_type: str, amount: Decimal) -> Decimal:
        """Count one cleared transaction; return the volume including it."""
        key = (merchant, currency)
        if record_type == "PAYMENT":
            self._volume[key] += abs(amount)
        return self._volume[key]
