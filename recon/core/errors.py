"""The payment core's refusals: each names what was asked and why it cannot be done.

They are `StageFailed` (exit 4): the request is wrong for the state of the books, not a bug. A
refusal never leaves a partial write behind, because every one is raised inside a unit of work that
then rolls back.
"""

from __future__ import annotations

from recon.errors import StageFailed


class CoreError(StageFailed):
    """Root of the payment core's refusals."""


class IllegalTransition(CoreError):
    """An event that the order's state machine does not allow from its current state."""

    def __init__(self, kind: str, key: str, state: str | None, event: str) -> None:
        self.kind, self.key, self.state, self.event = kind, key, state, event
        super().__init__(f"{kind} {key}: event {event} is not allowed in state {state or '(new)'}")


class IdempotencyConflict(CoreError):
    """The same idempotency key arrived again with a different payload."""

    def __init__(self, key: str, differences: dict[str, tuple[object, object]]) -> None:
        self.key, self.differences = key, differences
        said = ", ".join(f"{f}: first {a}, now {b}" for f, (a, b) in sorted(differences.items()))
        super().__init__(f"request {key} was already recorded with different values ({said})",
                         hint="send a new request id for a different request")


class RefundExceedsPaid(CoreError):
    """A refund larger than what is still refundable on its payment."""


class NotFound(CoreError):
    """No transaction with the given identifier."""


class Unbalanced(CoreError):
    """A journal entry whose postings are not balanced or mix currencies (a rules bug)."""
