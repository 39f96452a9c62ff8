"""Splits (分账): part of a transaction's net goes to other parties, and nothing is lost to rounding.

The net of a transaction is `amount - fee` (signed: a refund's net is negative, so a refund takes
each party's share back in proportion). Under a split rule (recon/clearing/fee_rules.py,
`SplitRule`):
1. fixed shares come off the top first (with the net's sign: a refund takes them back);
2. each percentage share is `base x percent / 100` of what is left (`base`), rounded with the
   rule's named policy; the merchant's own percentage is the rest (100 - the listed percentages),
   rounded the same way;
3. what rounding left over (`net - every rounded share`, a few minor units at most) goes to the
   party named by `remainder_to`, so the shares always add up to the net exactly.
The merchant's part is what becomes payable to it; the other parties' parts are the `splits`.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from recon.clearing.fee_rules import MERCHANT, SplitRule
from recon.money import context, quantize

_HUNDRED = Decimal(100)


def split_net(rule: SplitRule | None, net: Decimal, currency: str) -> tuple[tuple[str, Decimal], ...]:
    """Each party's share of `net`, the merchant's first, then the others in rule order."""
    if rule is None:
        return ((MERCHANT, net),)
    sign = -1 if net < 0 else 1
    with localcontext(context()):
        fixed = {s.party: sign * s.fixed for s in rule.shares if s.fixed is not None}
        base = net - sum(fixed.values(), Decimal(0))
        percents = {s.party: s.percent for s in rule.shares if s.percent is not None}
        merchant_percent = _HUNDRED - sum(percents.values(), Decimal(0))
        shares = {MERCHANT: quantize(base * merchant_percent / _HUNDRED, currency, rule.rounding)}
        for share in rule.shares:
            if share.party in fixed:
                shares[share.party] = fixed[share.party]
            else:
                shares[share.party] = quantize(base * percents[share.party] / _HUNDRED, currency, rule.rounding)
        shares[rule.remainder_to] += net - sum(shares.values(), Decimal(0))
    return tuple(shares.items())
