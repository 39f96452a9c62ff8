"""What a cron log must show: one line per (day, channel, stage) that did not finish, and what to do.

A run can leave a stage FAILED (its input was refused), MANUAL (a statement missed its deadline),
WAITING (not published yet) or refused before it started (locked, misconfigured). Each becomes one
`Outcome` here: the state, where it happened, what is at fault (the file and line, or the setting)
and the command to run next. The command layer prints them on stderr in every mode, as text or as
one JSON object per line, and nowhere else, so a message never appears twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from recon.errors import ExitCode, ReconError


@dataclass(frozen=True, slots=True)
class Outcome:
    """A stage of a day that did not succeed, as one line a person can act on."""

    date: dt.date
    channel: str  # "*" for the day's own stages (match, clear, report)
    stage: str
    state: str  # FAILED, MANUAL, WAITING, LOCKED
    code: ExitCode
    message: str
    next: str = ""

    def line(self) -> str:
        where = "day" if self.channel == "*" else self.channel
        text = f"{self.state} {self.date} {where} {self.stage}: {self.message}"
        return f"{text} (next: {self.next})" if self.next else text

    def as_dict(self) -> dict:
        return {"date": self.date.isoformat(), "channel": self.channel, "stage": self.stage, "state": self.state,
                "exit_code": int(self.code), "error": self.message, "next": self.next or None}


def next_step(date: dt.date, channel: str, stage: str) -> str:
    """The command that re-does a stage once a person has fixed what its line names."""
    if stage == "fetch":
        return f"fix it, then recon rerun --date {date} --channel {channel} --from-stage fetch"
    if stage == "parse":
        return f"put a corrected statement into the source, then recon rerun --date {date} --channel {channel}"
    return f"fix it, then recon rerun --date {date} --from-stage {stage}"


def of_error(date: dt.date, channel: str, stage: str, exc: ReconError, state: str = "FAILED") -> Outcome:
    """An exception a stage raised, with its own hint as the next step when it has one."""
    return Outcome(date, channel, stage, state, exc.exit_code, exc.message,
                   exc.hint or next_step(date, channel, stage))


def split_hint(text: str) -> tuple[str, str]:
    """('message', 'next step') from a stored "message (next: step)" text."""
    head, sep, tail = text.rpartition(" (next: ")
    if sep and tail.endswith(")"):
        return head, tail[:-1]
    return text, ""
