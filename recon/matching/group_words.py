"""Plain words for N:M groups (`our_group_key` / `their_group_key`): both sums and both member counts.

An N:M group is decided on its sums, so a row of it read alone says little: 30.00 of ours beside
50.00 of the channel's may be a perfect match. Every row of the group therefore gets the group's
reason: the group id, how many rows of ours and lines of the channel it holds, what each side sums
to and, when they differ, by how much. Built from the rows that need words (explain_where.sql takes
every row of a group of more than one row, and every row of a group that is not MATCHED).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from recon.matching.explain import money


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def members(rows: list[dict], prefix: str) -> dict[str, tuple[int, int, str]]:
    """group id -> (rows of ours, lines of the channel, our status or MIXED) of the N:M groups in `rows`."""
    ours: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        if not (row["pass_name"] or "").startswith(prefix):
            continue
        gid = row["group_id"]
        if row["our_source_file"] is not None:
            counts[gid][0] += 1
            ours[gid].add(row["our_status"])
        if row["their_source_file"] is not None:
            counts[gid][1] += 1
    return {gid: (n_o, n_t, min(ours[gid]) if len(ours[gid]) == 1 else "MIXED")
            for gid, (n_o, n_t) in counts.items()}


def reason(row: dict, group: tuple[int, int, str], *, date: dt.date) -> str:
    """The reason of every row of one N:M group: its sums and counts, then what differs."""
    n_o, n_t, our_status = group
    currency = row["our_currency"] or row["their_currency"]
    ours, theirs = f"our {_plural(n_o, 'row')}", f"the channel's {_plural(n_t, 'line')}"
    our_sum, their_sum = row["x_our_amount"], row["x_their_amount"]
    parts = [f"group {row['group_id']}: {ours} sum to {money(our_sum, currency)} {currency}, "
             f"{theirs} to {money(their_sum, currency)} {currency}"]
    found = []
    if our_sum is not None and their_sum is not None and our_sum != their_sum:
        found.append(f"amount differs by {money(their_sum - our_sum, currency)}"
                     + (" (within tolerance)" if row["outcome"] != "AMOUNT_MISMATCH" else ""))
    our_fee, their_fee = row["x_our_fee"], row["x_their_fee"]
    if our_fee is not None and their_fee is not None and our_fee != their_fee:
        found.append(f"fees {money(our_fee, currency)} over {ours}, {money(their_fee, currency)} over {theirs}"
                     + (" (within tolerance)" if row["outcome"] != "FEE_MISMATCH" else ""))
    if our_status != row["x_their_status"] or our_status == "MIXED":
        found.append(f"status {our_status} over {ours}, {row['x_their_status']} over {theirs}")
    lead = row["outcome"].split("_")[0].lower()
    parts += sorted(found, key=lambda text: not (text.startswith(lead) or text.startswith(lead[:3])))
    if row["outcome"] == "AUTO_RESOLVED" or (row["carried_from"] and row["outcome"] == "MATCHED"):
        parts.insert(0, f"pending since {row['carried_from']}, found on {date}")
    return "; ".join(parts)

