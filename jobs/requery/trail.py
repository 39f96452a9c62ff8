"""Where an item's re-query stands, read back from the item's own history.

Every answer is a `requery` event on the queue item (recon.queue.actions.annotate), so the history
is the schedule: how many attempts were made, when the next is due, and whether the last one left
the item waiting, with a proposal, or MANUAL. Separate cron runs continue one schedule without a
table of their own. Anything else that happens to the item after an answer (its figures change,
it is re-opened) starts the count again: the old answers were about an item that is no longer so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from recon.queue.actions import REQUERY as ACTION

ACTOR = "recon-requery"
KEEPS_TRAIL = frozenset({ACTION, "assign"})  # events that do not change what the answers were about


@dataclass(frozen=True, slots=True)
class Trail:
    answers: tuple[dict, ...] = ()  # each requery event's data, oldest first

    @property
    def attempts(self) -> int:
        return len(self.answers)

    @property
    def state(self) -> str:
        """NEW, WAITING, PROPOSED, ACCEPTED (auto-accepted: the item is closed) or MANUAL."""
        return self.answers[-1]["outcome"] if self.answers else "NEW"

    @property
    def next_attempt_at(self) -> dt.datetime | None:
        text = self.answers[-1].get("next_attempt_at") if self.answers else None
        return dt.datetime.fromisoformat(text) if text else None

    def not_found(self, since: dt.datetime | None = None) -> int:
        """How many answers said "does not exist" (asked at or after `since`)."""
        return sum(1 for a in self.answers if a.get("status") == "NOT_FOUND"
                   and (since is None or dt.datetime.fromisoformat(a["asked_at"]) >= since))

    def due(self, now: dt.datetime) -> bool:
        """Whether a scheduled run should ask now: new items, and waiting ones whose time has come."""
        if self.state == "NEW":
            return True
        return self.state == "WAITING" and (self.next_attempt_at is None or now >= self.next_attempt_at)


def trail_of(events: list[dict]) -> Trail:
    """The answers since the item last changed (events as recon.queue.store.history gives them)."""
    answers: list[dict] = []
    for event in events:
        if event["action"] == ACTION:
            answers.append(event["data"])
        elif event["action"] not in KEEPS_TRAIL:
            answers = []
    return Trail(tuple(answers))
