"""Plain-words reasons: why a row got its outcome, and for an unmatched row, what came closest.

A person working the queue should not need to diff two rows by eye. A mismatch says what differs
("amount 100.00 here, 99.99 at the channel"); an unmatched row names the closest row of the other
side and how it differs ("closest: channel line bill.csv:17 (4200001): same amount and currency,
3 min later, different id"). Reasons are built here in Python, for the few rows that need one (the
discrepancies), never for the millions that simply matched.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from recon.money import exponent, normalize_zero


def money(amount: Decimal | None, currency: str | None) -> str:
    """Amount padded to the currency's unit; finer digits are shown, never rounded away."""
    if amount is None:
        return "none"
    try:
        unit = Decimal(1).scaleb(-exponent(currency or "XXX"))
    except ValueError:
        unit = Decimal("0.01")
    shown = amount.quantize(unit) if amount == amount.quantize(unit) else amount.normalize()
    return str(normalize_zero(shown))


def gap(ours: dt.datetime | None, theirs: dt.datetime | None, *, their_side: bool = True) -> str:
    """'3 min later' (the other side's time relative to this one), or '' when unknown or equal."""
    if ours is None or theirs is None:
        return ""
    seconds = (theirs - ours).total_seconds() if their_side else (ours - theirs).total_seconds()
    if seconds == 0:
        return "same time"
    size = abs(seconds)
    text = f"{size:.0f} s" if size < 120 else f"{size / 60:.0f} min" if size < 7200 else f"{size / 3600:.1f} h"
    return f"{text} {'later' if seconds > 0 else 'earlier'}"


def pair_differences(row: dict) -> list[str]:
    """Every compared field that differs between the two sides of a paired row.

    A 1:N group compares our order with the sums of its channel lines, on every line of the group.
    """
    found = []
    currency, size = row["our_currency"], row.get("group_size") or 1
    theirs = "at the channel" if size == 1 else f"over the {size} channel lines"
    if row["our_currency"] != row["their_currency"]:
        found.append(f"currency {row['our_currency']} here, {row['their_currency']} at the channel")
    for field in ("amount", "fee"):
        ours, other = row[f"x_our_{field}"], row[f"x_their_{field}"]
        if ours is not None and other is not None and ours != other:
            found.append(f"{field} {money(ours, currency)} here, {money(other, currency)} {theirs}")
    if row["our_status"] != row["x_their_status"]:
        found.append(f"status {row['our_status']} here, {row['x_their_status']} {theirs}")
    # the fee differing is said last: it is the least surprising difference
    return sorted(found, key=lambda text: text.startswith("fee"))


def _first_difference(row: dict, outcome: str) -> list[str]:
    # Put the difference that decided the outcome first, then the others.
    found = pair_differences(row)
    lead = outcome.split("_")[0].lower()
    return sorted(found, key=lambda text: not text.startswith(lead))


def _near(row: dict, near: dict | None, *, ours: bool) -> str:
    if not near:
        return ""
    other = "channel line" if ours else "our record"
    what = f"{other} {near['c_file']}:{near['c_line']} ({near['c_label']})"
    amount, currency, rtype, time = (row["our_amount"], row["our_currency"], row["our_record_type"],
                                     row["our_trade_time"]) if ours else \
        (row["their_amount"], row["their_currency"], row["their_record_type"], row["their_trade_time"])
    notes = []
    if near["kind"] != "amount":
        notes.append(f"same {near['kind']}")
    if near["c_record_type"] != rtype:
        notes.append(f"but it is a {near['c_record_type']}")
    if near["c_currency"] == currency and near["c_amount"] == amount:
        notes.append("same amount and currency")
    else:
        notes.append(f"amount {money(near['c_amount'], near['c_currency'])} {near['c_currency']}")
    moment = gap(time, near["c_trade_time"])
    if moment:
        notes.append(moment)
    if near["kind"] == "amount":
        notes.append("different id")
    if near["c_state"] != "unmatched":
        notes.append(f"already {near['c_state']}" if near["c_state"] == "paired" else "a duplicate there")
    if near["ties"] > 1:
        notes.append(f"{near['ties']} rows equally close")
    return f"; closest: {what}: {', '.join(notes)}"


def group_hints(rows: list[dict]) -> dict[int, str]:
    """Without a group rule, a combined payment (one order of ours, several channel lines echoing
    its serial) falls apart into LOCAL_ONLY + CHANNEL_ONLY + DUPLICATE. When the lines add up to our
    amount exactly, each of those rows names the likely group and the rule that would pair it."""
    unpaired = ("LOCAL_ONLY", "CHANNEL_ONLY", "DUPLICATE")
    ours = {}
    lines: dict[tuple, list[int]] = {}
    for n, r in enumerate(rows):
        if r["outcome"] not in unpaired:
            continue
        if r["our_source_file"] is not None and r["our_merchant_txn_id"]:
            ours.setdefault((r["our_merchant_txn_id"], r["our_currency"]), []).append(n)
        elif r["their_source_file"] is not None and r["their_merchant_txn_id"]:
            lines.setdefault((r["their_merchant_txn_id"], r["their_currency"]), []).append(n)
    hints: dict[int, str] = {}
    for key, members in lines.items():
        mine = ours.get(key, [])
        if len(members) < 2 or len(mine) != 1:
            continue
        order = rows[mine[0]]
        total = sum((rows[m]["their_amount"] for m in members), Decimal(0))
        if total != order["our_amount"]:
            continue
        hint = (f"likely one combined payment: {len(members)} channel lines with merchant_txn_id {key[0]} add up "
                f"to our {order['our_txn_id']} ({money(total, key[1])} {key[1]}); the rule "
                f'[match] group_key = "merchant_txn_id" would pair them')
        for n in (*mine, *members):
            hints[n] = hint
    return hints


def reason(row: dict, near: dict | None, *, pending_days: int, window: str, date: dt.date) -> str | None:
    """The `reason` text of one result row (None for a plain match)."""
    outcome = row["outcome"]
    carried = row["carried_from"]
    if outcome == "DUPLICATE":
        side = "our records" if row["our_source_file"] is not None else "the channel's bill"
        return (f"{row['match_key']} appears again in {side}; "
                f"the first copy is {row['x_twin_file']}:{row['x_twin_line']}")
    if outcome in ("LOCAL_ONLY", "CHANNEL_ONLY", "PENDING"):
        ours = row["our_source_file"] is not None
        missing = "not in the channel's bill" if ours else "no record of ours"
        if outcome == "PENDING":
            head = (f"pending since {carried}, still {missing}" if carried else
                    f"within {window} of the day's end and {missing}: expected in the next day's data")
        elif carried:
            head = f"pending since {carried}; {missing} within {pending_days} day(s)"
        else:
            head = missing
        return head + _near(row, near, ours=ours)
    parts = _first_difference(row, outcome) if outcome != "MATCHED" else []
    if outcome == "SUGGESTED":
        ids = ("different ids" if row["our_merchant_txn_id"] and row["their_merchant_txn_id"]
               and row["our_merchant_txn_id"] != row["their_merchant_txn_id"] else "no shared reference")
        parts.insert(0, f"{ids}; same amount and currency, {gap(row['our_trade_time'], row['their_trade_time'])}"
                        f" at the channel (confidence {row['confidence']:.2f}); confirm or reject")
    if outcome == "AUTO_RESOLVED" or (carried and outcome != "SUGGESTED"):
        parts.insert(0, f"pending since {carried}, found on {date}")
    if row["pass_name"] == "no_reference" and outcome != "SUGGESTED":
        parts.append(f"paired without a reference at confidence {row['confidence']:.2f}")
    if (row.get("group_size") or 1) > 1 and outcome == "MATCHED":
        parts.append(f"one of {row['group_size']} channel lines settling {row['group_id']}")
    if row.get("x_cross_midnight"):
        parts.append(f"across midnight: {gap(row['our_trade_time'], row['their_trade_time'])} at the channel")
    return "; ".join(parts) or None
