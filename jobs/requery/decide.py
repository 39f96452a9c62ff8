"""What the channel's answer does to a queue item: propose, wait for the next attempt, or MANUAL.

The answer is compared with each side of the item (jobs.requery.target.View):
- it agrees with the channel's bill (paid, with the bill's amount; or not paid where the bill has
  no line): the channel confirms its own statement, and the item proposes `accept_channel`
  (以渠道为准: correct our books). Where the bill has no line, this is the channel contradicting
  our record (an order it says was never paid), and accepting it is the matching action on our side.
- it agrees with our record and not the bill: our books stand, the bill line is the error, and
  the item proposes `accept_ours` (raise it with the channel).
- it agrees with neither: an explicit answer nobody expected; a person must look (MANUAL).
An UNKNOWN answer (no answer, an unmapped code, a non-final state) waits for the next attempt on
the escalating schedule; after the last attempt the item is MANUAL with every answer listed.
"Order does not exist" counts as "not paid" only once the window after the payment has passed and
the channel has said it `not_found_answers` times; before that it is UNKNOWN.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from jobs import schedule
from jobs.requery.codes import Answer
from jobs.requery.target import NOT_PAID, View, views
from jobs.requery.trail import Trail
from recon.config.ruleset import RequeryRules, duration_seconds

Outcome = Literal["WAITING", "PROPOSED", "MANUAL"]


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    why: str
    proposal: str | None = None  # accept_channel | accept_ours
    next_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Pace:
    """The channel's schedule: waits after each UNKNOWN answer and how many attempts there are."""

    waits: tuple[dt.timedelta, ...]
    attempts: int


def decide(item, answer: Answer, trail: Trail, now: dt.datetime, rules: RequeryRules, pace: Pace,
           paid_at: dt.datetime | None) -> Decision:
    attempt = trail.attempts + 1
    said = answer.said
    if answer.status == "NOT_FOUND":
        window_end = paid_at + dt.timedelta(seconds=duration_seconds(rules.not_found_window)) if paid_at else None
        if window_end is not None and now < window_end:
            return _wait(f"{said}: too soon after the payment to mean anything (until {window_end:%Y-%m-%d %H:%M} UTC)",
                         attempt, now, pace, not_before=window_end)
        count = trail.not_found(since=window_end) + 1
        if count < rules.not_found_answers:
            return _wait(f"{said} ({count} of the {rules.not_found_answers} answers needed)", attempt, now, pace)
        said, channel = f"{said} (answered {count} times)", NOT_PAID
    elif answer.status == "SUCCESS":
        if answer.reading.amount is None:
            return _wait(f"{said} but no amount: nothing to compare", attempt, now, pace)
        channel = View(True, answer.reading.amount, answer.reading.currency)
        said = f"{said}, {answer.reading.amount} {answer.reading.currency or ''}".rstrip()
    elif answer.status == "FAILED":
        channel = NOT_PAID
    else:
        return _wait(said, attempt, now, pace)
    ours, theirs = views(item)
    sides = item.sides()
    if channel.agrees(theirs):
        what = ("the channel confirms its bill line" if sides.get("theirs")
                else "the channel contradicts our record: no such payment at the channel")
        return Decision("PROPOSED", f"{said}: {what}", "accept_channel")
    if channel.agrees(ours):
        what = ("the channel confirms our record: its bill line is wrong" if sides.get("ours")
                else "the channel's own answer contradicts its bill line: our books stand")
        return Decision("PROPOSED", f"{said}: {what}", "accept_ours")
    return Decision("MANUAL", f"{said}: agrees with neither our record nor the bill; a person must look")


def _wait(said: str, attempt: int, now: dt.datetime, pace: Pace, *, not_before: dt.datetime | None = None) -> Decision:
    if attempt >= pace.attempts:
        return Decision("MANUAL", f"{said}; no explicit answer after {attempt} attempt(s): a person must look")
    when = now + schedule.wait_after(attempt, pace.waits)
    return Decision("WAITING", f"{said}; asking again", next_at=max(when, not_before) if not_before else when)
