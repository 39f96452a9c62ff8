"""What an answer means, in two layers, with nothing guessed.

Layer 1, the wire and the API: no answer, a refused signature, a redirect, or an API error code is
never a business result. An error code means NOT_FOUND only where the rule set says so ("order does
not exist"), else UNKNOWN. Layer 2, the business: only when the API said the call succeeded does
the state field count, and then only a code the rule set maps explicitly is SUCCESS or FAILED.
Everything else is UNKNOWN (DOMAIN.md: "only an explicit success is success").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from jobs.requery.model import Exchange, Reading
from recon.config.ruleset import RequeryRules

Status = Literal["SUCCESS", "FAILED", "UNKNOWN", "NOT_FOUND"]
Layer = Literal["transport", "api", "business"]


@dataclass(frozen=True, slots=True)
class Answer:
    """An exchange, what the adapter read from it, and what the rule set says it means."""

    status: Status
    layer: Layer
    said: str  # the answer in words: "trade_state SUCCESS", "ORDER_NOT_EXIST", "timed out"
    exchange: Exchange
    reading: Reading

    @property
    def code(self) -> str | None:
        return self.reading.error if self.layer == "api" else self.reading.code


def interpret(exchange: Exchange, reading: Reading, rules: RequeryRules) -> Answer:
    if exchange.fault is not None:
        return Answer("UNKNOWN", "transport", exchange.fault, exchange, reading)
    if reading.error is not None:
        meaning = rules.error_meaning(reading.error)
        unmapped = "" if str(reading.error).strip() in rules.errors else " (not in the rule set's [requery.errors])"
        return Answer(meaning, "api", f"error {reading.error}{unmapped}", exchange, reading)
    field = reading.field or "status"
    meaning = rules.meaning(field, reading.code)
    known = reading.code is not None and str(reading.code).strip() in rules.status.get(field, {})
    unmapped = "" if known else f" (not in [requery.status.{field}])"
    return Answer(meaning, "business", f"{field} {reading.code or '(absent)'}{unmapped}", exchange, reading)
