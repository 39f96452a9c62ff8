"""`[fx]`: how layer 1 compares a pair whose currencies differ (recon.toml, or one channel's table).

A channel that settles in another currency than we booked (Adyen paying EUR for a USD order) gives
CURRENCY_MISMATCH on every such pair unless the amounts are compared through a rate. Two sources:
the rate the statement itself states on the row (preferred: it is what the channel booked), and a
rates file the workspace names (CSV `date,from,to,rate`, rates as decimal text). A tolerance is the
channel's or account's own, in minor units of the channel's currency or in percent; none unless
configured (a global allowance floods the queue with false matches), so the default is exact.

    [fx]                                  # every channel
    rates_file = "rates.csv"

    [channels.adyen.fx]                   # one channel: keys here win over [fx]
    tolerance_minor = 2                   # 0.02 EUR
    tolerance_percent = "0.5"             # or 0.5 % of the converted amount; the larger wins
    [channels.adyen.fx.accounts.AcmeEU]   # one account of the channel
    tolerance_minor = 5
"""

from __future__ import annotations

from pydantic import Field

from recon.config.toml import Money, StrictModel
from recon.money import Rounding


class FxTolerance(StrictModel):
    tolerance_minor: int | None = Field(None, ge=0)  # minor units of the channel's currency
    tolerance_percent: Money | None = Field(None, ge=0)  # percent of the converted amount, e.g. "0.5"


class FxSettings(FxTolerance):
    rates_file: str | None = None  # CSV date,from,to,rate (workspace-relative); `from` x rate = `to`
    statement_rate: bool = True  # use the rate a statement states on the row, before the file
    rounding: Rounding = Rounding.HALF_EVEN  # our amount x rate, rounded to the channel currency's unit
    accounts: dict[str, FxTolerance] = {}  # a channel account's own tolerance

    def over(self, base: FxSettings) -> FxSettings:
        """These settings, each key not set here taken from `base` (a channel's table over [fx])."""
        merged = base.model_dump()
        merged.update(self.model_dump(include=self.model_fields_set))
        return FxSettings.model_validate(merged)
