"""One day's reconciliation, all three layers, then the queue: what `recon match` and `recon run` do.

Layer 1 pairs transactions; layers 2 and 3 compare totals, settlements and cash, reading layer 1's
internal side and the channels' payouts; the queue is synced last, once every layer's results are
on disk, so an item never reflects half a day. Each step writes its results atomically, so a crash
between steps is repaired by running the day again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from recon.workspace import Workspace


@dataclass(frozen=True)
class DayReconciliation:
    layer1: object  # recon.matching.model.Layer1Summary
    layers23: object | None  # recon.layers.Layers23Summary

    def __str__(self) -> str:
        return f"{self.layer1}; {self.layers23}" if self.layers23 is not None else str(self.layer1)


def reconcile_day(ws: Workspace, date: dt.date, channel: str | None = None, *, rules_override=None,
                  dry_run: bool = False) -> DayReconciliation:
    from recon.core.positions import positions_at
    from recon.layers import run_layers23
    from recon.matching.internal_source import load_internal
    from recon.matching.layer1 import match_day

    layer1 = match_day(ws, date, channel, rules_override=rules_override, dry_run=dry_run, sync_queue=False)
    if dry_run:
        return DayReconciliation(layer1, None)
    layers23 = run_layers23(ws, date, channel, internal=lambda name: load_internal(ws, name, date),
                            positions=positions_at(ws, date))
    from recon.queue.sync import sync_results

    sync_results(ws, date)
    return DayReconciliation(layer1, layers23)

