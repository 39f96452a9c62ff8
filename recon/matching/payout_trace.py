"""Which bank credit is which payout: by the payout's trace first, by amount and date only after.

Two payouts of 500.00 on the same day and two bank credits of 500.00: paired by amount, each payout
takes whichever credit comes first, and a payout that in fact never landed looks received while the
one that did looks lost. The PSP's own trace settles it where the bank line carries one: Stripe's
payout id (`po_...`) in the remittance text, Adyen's batch number ("batch 380"), the settlement
batch of a WeChat or Alipay fund flow. So linking runs in two rounds over all payouts at once:

1. **Trace**: a payout whose id (or, lacking one, its own serial) appears as a whole word in a bank
   credit's reference, end-to-end id, remittance text or counterparty is linked to that credit,
   whatever the amounts (a different amount is then a discrepancy naming both, never a silent
   amount match to another line). A short number (Adyen's batch "380") counts only right after the
   word "batch": on its own it would be found in any text.
2. **Amount and date**: the payouts left take the first credit, not linked by any trace, of the
   same currency and amount whose value date lies in the landing window.

A trace is searched case-insensitively (banks upper-case remittance text) and as a whole token
(`po_12` is not `po_123`). Each credit is linked to one payout at most; a credit named by two
payouts goes to the first in the payouts' order and the other falls back to round 2.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from recon.matching.layer2_settlement import Payout

# A reference shorter than this ("1", "AB") would be found inside unrelated bank text.
MIN_REF_LENGTH = 6
# Where a bank line may carry the payer's trace, and how a reason names the place.
TRACE_FIELDS = {
    "channel_txn_id": "bank reference",
    "merchant_txn_id": "end-to-end reference",
    "memo": "remittance info",
    "counterparty": "counterparty",
}


@dataclass(frozen=True, slots=True)
class Link:
    """A payout paired with a bank credit, and how (`how` is the reason's words)."""

    payout: Payout
    credit: dict
    by_trace: bool
    how: str


def trace_pattern(ref: str) -> re.Pattern[str] | None:
    """The regex finding `ref` as a whole token in bank text, or None when it is too short to trust.

    A short all-digit reference is a batch number: it is trusted only after the word "batch".
    """
    ref = ref.strip()
    if not ref:
        return None
    token = rf"(?<![0-9A-Za-z_]){re.escape(ref)}(?![0-9A-Za-z_])"
    if len(ref) >= MIN_REF_LENGTH:
        return re.compile(token, re.IGNORECASE)
    if ref.isdigit():
        return re.compile(rf"\bbatch[\s:#\-_]*0*{re.escape(ref.lstrip('0') or '0')}(?![0-9A-Za-z_])", re.IGNORECASE)
    return None


def traced_in(credit: dict, pattern: re.Pattern[str]) -> str | None:
    """The field of `credit` where the trace appears (its reason words), or None."""
    for field, words in TRACE_FIELDS.items():
        text = credit.get(field)
        if text and pattern.search(text):
            return words
    return None


# Whole tokens of bank text (lower-cased), and the number after the word "batch": what a trace is
# looked up by, so each payout costs a dictionary lookup instead of a scan of every credit.
TOKEN = re.compile(r"[0-9a-z_]+")
BATCH = re.compile(r"\bbatch[\s:#\-_]*([0-9]+)(?![0-9a-z_])")


class _Index:
    """The credits by a wanted token (the first field of each credit holding it) and by currency and amount."""

    def __init__(self, credits: list[dict], wanted: set[str]) -> None:
        self.traces: dict[str, list[tuple[int, str]]] = {}
        self.amounts: dict[tuple[str, object], list[int]] = {}
        for j, c in enumerate(credits):
            seen: set[str] = set()
            for field, words in TRACE_FIELDS.items():
                text = c.get(field)
                if not text:
                    continue
                low = text.lower()
                keys = TOKEN.findall(low)
                if "batch" in low:
                    keys += [f"batch:{int(n)}" for n in BATCH.findall(low)]
                for key in keys:
                    if key in wanted and key not in seen:
                        seen.add(key)
                        self.traces.setdefault(key, []).append((j, words))
            self.amounts.setdefault((c["currency"], c["amount"]), []).append(j)

    @staticmethod
    def key(ref: str) -> str | None:
        """The token a reference is found by; None when it is no single token (scan instead)."""
        ref = ref.strip().lower()
        if len(ref) >= MIN_REF_LENGTH:
            return ref if TOKEN.fullmatch(ref) else None
        return f"batch:{int(ref)}" if ref.isdigit() else None


def _label(p: Payout) -> str:
    return "payout id" if p.payout_id and p.ref == p.payout_id else "payout reference"


def link_payouts(payouts: Iterable[Payout], credits: list[dict],
                 close_of: Callable[[Payout], dt.date]) -> dict[int, Link]:
    """{index of the payout in `payouts`: its Link}; payouts absent from the result are unlinked."""
    payouts = list(payouts)
    keys = [_Index.key(p.ref) for p in payouts]
    index = _Index(credits, {k for k in keys if k is not None})
    taken: set[int] = set()
    links: dict[int, Link] = {}
    for i, (p, key) in enumerate(zip(payouts, keys, strict=True)):
        if key is not None:
            hits = iter(index.traces.get(key, []))
        elif (pattern := trace_pattern(p.ref)) is not None:
            # a reference of several words ("batch 7 line 3"): searched for in every line
            hits = ((j, traced_in(c, pattern)) for j, c in enumerate(credits))
        else:
            continue  # too short to be told from other text
        for j, where in hits:
            if j not in taken and where is not None:
                taken.add(j)
                links[i] = Link(p, credits[j], True, f"linked by {_label(p)} {p.ref} in {where}")
                break
    for i, p in enumerate(payouts):
        if i in links:
            continue
        start = min(p.pay_date, p.arrival_date)
        close = close_of(p)
        for j in index.amounts.get((p.currency, p.to_bank), []):
            if j not in taken and start <= credits[j]["value_date"] <= close:
                taken.add(j)
                links[i] = Link(p, credits[j], False, "linked by amount and date")
                break
    return links
