"""The cycle collector paused while a bank statement is read (#24).

Reading 200,000 entries makes millions of small objects (tuples, strings, Decimals, dates) that are
never cyclic garbage. Python's cycle collector, triggered by allocations, scans the growing heap of
rows again and again meanwhile: 5-10 % of an MT940 or camt parse. It is paused for the read and
enabled again after (as it was), so nothing it would collect is lost, only collected later.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
