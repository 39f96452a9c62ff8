"""Matching: layer 1 pairs transactions (recon.matching.layer1); layers 2 and 3 compare totals.

Layer 1 answers, for every row of our transactions and of the channel's bill, "which row of the
other side is this, and do they agree?" - exactly one outcome per row, with the pass that decided
it and a reason in plain words. See `layer1` for the problem in full and `passes` for the cascade.
"""

from recon.matching.model import RESULT_COLUMNS, Layer1Summary, Outcome

__all__ = ["Layer1Summary", "Outcome", "RESULT_COLUMNS"]
