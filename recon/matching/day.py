"""One day's reconciliation, all three layers in order: what the match stage runs.

Layer 1 pairs transactions; layers 2 and 3 compare totals, settlements and cash, reading layer 1's
internal side and the channels' payouts. Each layer writes its results atomically, so a crash
between them is repaired by running the day again. The discrepancy queue sits above matching: the
caller syncs it once every layer's results are on disk (jobs.stages.match), so an item never
reflects half a day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from recon.config.ruleset import MatchRules
from recon.core.positions import positions_at
from recon.matching.internal_source import internal_totals
from recon.matching.layer1 import Matcher
from recon.matching.layer1_day import match_day
from recon.matching.layers23 import Layers23Summary, run_layers23
from recon.matching.model import Layer1Summary
from recon.workspace import Workspace


@dataclass(frozen=True)
class DayReconciliation:
    layer1: Layer1Summary
    layers23: Layers23Summary | None  # None on a dry run: only layer 1 is previewed

    def __str__(self) -> str:
        return f"{self.layer1}; {self.layers23}" if self.layers23 is not None else str(self.layer1)


def reconcile_day(ws: Workspace, date: dt.date, channel: str | None = None, *,
                  rules_override: MatchRules | None = None, dry_run: bool = False,
                  matchers: Mapping[str, Matcher] | None = None, engine: str | None = None) -> DayReconciliation:
    """Layers 1-3 of a day; `matchers` / `engine`: layer 1's engines, as match_day takes them."""
    layer1 = match_day(ws, date, channel, rules_override=rules_override, dry_run=dry_run,
                       matchers=matchers, engine_override=engine)
    if dry_run:
        return DayReconciliation(layer1, None)
    matched = {c.channel for c in layer1.channels}  # their typed exports were checked by layer 1
    layers23 = run_layers23(ws, date, channel,
                            internal=lambda name: internal_totals(ws, name, date, checked=name in matched),
                            positions=positions_at(ws, date))
    return DayReconciliation(layer1, layers23)
