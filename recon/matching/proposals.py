"""Exact-sum proposals: several unmatched rows of one side that add up to one row of the other.

The problem: a channel books a day's payments of one payer as one aggregate line, or pays one of
our orders in three lines without a shared key. Layer 1 then leaves five LOCAL_ONLY orders and one
CHANNEL_ONLY line, and a person who does not see that they add up books the money a second time.
After every pass, this post-pass looks inside each block of leftover rows (same currency and
record type, and the same counterparty when both sides carry one; the channel-day is the window)
for subsets of 2..`max_members` rows of one side whose sum equals one row of the other exactly
(Decimal, in millionths). Each hit becomes a proposal: its members and its target are SUGGESTED
(or MATCHED with pass_name `exact_sum` when the rule set auto-accepts unambiguous ones), and every
row of the proposal says in its reason which rows add up and how sure we are.

Bounded whatever the data: a block of more than `max_block_rows` rows is not searched (its rows say
so), and a searched block looks at most `subset_bound(max_block_rows, max_members)` subsets, which
the rule set caps (recon.config.ruleset.MAX_SUBSET_EVALUATIONS). A row joins at most one proposal.
Deterministic: blocks, members and targets are visited in a fixed order of their labels, so both
engines (it runs on whatever connection layer 1 ran on) write the same rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from recon.config.ruleset import ProposalRules
from recon.matching import engine
from recon.money import plain

PASS_NAME = "exact_sum"
SURE = 0.9  # a unique exact sum is strong evidence, but a person still knows the story best
SCALE = 6  # amounts are DECIMAL(38, 6): millionths are exact integers
# What each side's rows are called in a reason, singular and plural.
NOUNS = {"O": ("our order", "of our orders"), "T": ("channel line", "channel lines")}


@dataclass(frozen=True, slots=True)
class Row:
    """One leftover row as the search sees it."""

    side: str  # "O" ours, "T" theirs
    key: int  # res.x_key
    label: str
    amount: Decimal
    currency: str
    order: tuple  # fixed visiting order: amount, label, source, key

    @property
    def units(self) -> int:
        return int(self.amount.scaleb(SCALE))


@dataclass(frozen=True, slots=True)
class Proposal:
    target: Row
    members: tuple[Row, ...]
    confidence: float
    accepted: bool = False

    def reason(self) -> str:
        side = self.members[0].side
        noun = NOUNS[side][1]
        cur = self.target.currency
        parts = "+".join(plain(m.amount, cur) or "" for m in self.members)
        what = "exact-sum match" if self.accepted else "exact-sum proposal"
        return (f"{what}: sum of {len(self.members)} {noun} {', '.join(m.label for m in self.members)} "
                f"({parts} = {plain(self.target.amount, cur)}) equals {NOUNS[self.target.side][0]} "
                f"{self.target.label}; confidence {self.confidence:g}")


@dataclass(slots=True)
class Stats:
    """What one run of the post-pass did (the benchmark and the bound tests read it)."""

    blocks: int = 0
    searched: int = 0
    too_large: int = 0
    evaluations: int = 0
    max_block_evaluations: int = 0
    proposals: list[Proposal] = field(default_factory=list)


def propose(con, rules: ProposalRules) -> Stats:
    """Find proposals among the leftovers in `res` on `con` (either engine) and write them into it."""
    stats = Stats()
    if not rules.enabled:
        return stats
    frame = con.sql(engine.sql("proposal_rows")).pl()
    if frame.height == 0:
        return stats
    updates: list[tuple[str, int, str, str | None, float | None, str | None]] = []
    for rows in blocks(frame, by_counterparty=rules.by_counterparty):
        stats.blocks += 1
        sides = {r[0].side for r in rows}
        if len(sides) < 2:
            continue  # one side only: nothing can add up to anything
        if len(rows) > rules.max_block_rows:
            stats.too_large += 1
            note = f"block of {len(rows)} rows too large to search (limit {rules.max_block_rows})"
            updates += [(r.side, r.key, outcome, None, None, "; ".join(filter(None, (reason, note))))
                        for r, outcome, reason in rows]
            continue
        stats.searched += 1
        found, evaluations = search_block([r for r, _, _ in rows], rules.max_members,
                                          auto_accept=rules.auto_accept)
        stats.evaluations += evaluations
        stats.max_block_evaluations = max(stats.max_block_evaluations, evaluations)
        stats.proposals += found
        for p in found:
            outcome, reason = "MATCHED" if p.accepted else "SUGGESTED", p.reason()
            updates += [(r.side, r.key, outcome, PASS_NAME, p.confidence, reason) for r in (*p.members, p.target)]
    if updates:
        _write(con, updates)
    return stats


def blocks(frame: pl.DataFrame, *, by_counterparty: bool) -> list[list[tuple[Row, str, str | None]]]:
    """The leftovers grouped into blocks, each block's rows and the blocks in a fixed order.

    The counterparty splits blocks only when both sides carry one somewhere: an internal export
    without it must still meet a bill that has it.
    """
    known = {s for s, c in zip(frame["x_side"], frame["counterparty"], strict=True) if c is not None}
    split = by_counterparty and known == {"O", "T"}
    grouped: dict[tuple[str, str, str], list[tuple[Row, str, str | None]]] = defaultdict(list)
    for r in frame.iter_rows(named=True):
        if r["amount"] is None or r["amount"] == 0 or r["currency"] is None:
            continue  # zeros add up to anything; no currency, nothing to compare
        row = Row(r["x_side"], r["x_key"], r["label"], r["amount"], r["currency"],
                  (r["amount"], r["label"], r["source_file"] or "", r["source_line"] or 0, r["x_key"]))
        block = (r["currency"], r["record_type"] or "", (r["counterparty"] or "") if split else "")
        grouped[block].append((row, r["outcome"], r["reason"]))
    return [sorted(grouped[b], key=lambda x: (x[0].side, x[0].order)) for b in sorted(grouped)]


def search_block(rows: list[Row], max_members: int, *, auto_accept: bool = False) -> tuple[list[Proposal], int]:
    """Proposals within one block, both ways (theirs adding up to ours first), and the number of
    subsets looked at, never more than `subset_bound(len(rows), max_members)`."""
    used: set[tuple[str, int]] = set()
    found: list[Proposal] = []
    evaluations = 0
    for member_side, target_side in (("T", "O"), ("O", "T")):
        members = [r for r in rows if r.side == member_side and (r.side, r.key) not in used]
        targets = [r for r in rows if r.side == target_side and (r.side, r.key) not in used]
        proposals, looked = _one_way(members, targets, max_members, auto_accept=auto_accept)
        evaluations += looked
        for p in proposals:
            used.update((r.side, r.key) for r in (*p.members, p.target))
        found += proposals
    return found, evaluations


def _one_way(members: list[Row], targets: list[Row], max_members: int, *,
             auto_accept: bool) -> tuple[list[Proposal], int]:
    if len(members) < 2 or not targets:
        return [], 0
    # Same-signed rows are searched on their absolute values in ascending order, so a partial sum
    # beyond the largest target ends its branch; mixed signs are searched without that cut.
    signs = {r.units > 0 for r in (*members, *targets)}
    flip = -1 if signs == {False} else 1
    members = sorted(members, key=lambda r: (flip * r.units, r.order))
    wanted: dict[int, list[Row]] = defaultdict(list)
    for t in sorted(targets, key=lambda r: r.order):
        wanted[flip * t.units].append(t)
    hits, evaluations = subsets([flip * m.units for m in members], set(wanted), max_members,
                                prune=len(signs) == 1)
    alternatives = Counter(total for _, total in hits)
    taken_targets: set[int] = set()
    taken: set[int] = set()  # member positions
    proposals = []
    for chosen, total in sorted(hits, key=lambda h: (len(h[0]), h[0])):  # fewest members first
        free = [t for t in wanted[total] if t.key not in taken_targets]
        if not free or any(i in taken for i in chosen):
            continue
        target = free[0]
        taken_targets.add(target.key)
        taken.update(chosen)
        rivals = alternatives[total] + len(wanted[total]) - 1
        confidence = SURE if rivals == 1 else round(SURE / rivals, 2) or 0.01
        proposals.append(Proposal(target, tuple(members[i] for i in chosen), confidence,
                                  accepted=auto_accept and rivals == 1))
    return proposals, evaluations


def subsets(units: list[int], wanted: set[int], max_members: int, *,
            prune: bool) -> tuple[list[tuple[tuple[int, ...], int]], int]:
    """Every subset of 2..max_members positions of `units` whose sum is in `wanted`, in
    lexicographic order, and how many subsets were summed (each once, incrementally).

    With `prune`, `units` are positive and ascending: a sum past the largest wanted ends the branch.
    """
    top = max(wanted)
    hits: list[tuple[tuple[int, ...], int]] = []
    chosen: list[int] = []
    evaluations = 0
    n = len(units)

    def walk(start: int, total: int) -> None:
        nonlocal evaluations
        for i in range(start, n):
            s = total + units[i]
            if prune and s > top:
                break
            evaluations += 1
            chosen.append(i)
            if len(chosen) >= 2 and s in wanted:
                hits.append((tuple(chosen), s))
            if len(chosen) < max_members:
                walk(i + 1, s)
            chosen.pop()

    walk(0, 0)
    return hits, evaluations


def _write(con, updates: list[tuple]) -> None:
    """The proposals' outcomes and reasons into `res` (an UPDATE both engines carry out)."""
    frame = pl.DataFrame(updates, orient="row", schema={
        "x_side": pl.String, "x_key": pl.Int64, "outcome": pl.String, "pass_name": pl.String,
        "confidence": pl.Float64, "reason": pl.String})
    con.register("proposals_frame", frame)
    con.execute("UPDATE res SET outcome = x.outcome, pass_name = coalesce(x.pass_name, res.pass_name), "
                "confidence = coalesce(x.confidence, res.confidence), reason = x.reason "
                "FROM proposals_frame x WHERE res.x_side = x.x_side AND res.x_key = x.x_key")
    con.unregister("proposals_frame")
