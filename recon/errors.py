"""Errors and problems: the two ways recon says something went wrong.

A *problem* is a value: something wrong with the data (a row that does not parse, a footer that
disagrees). Stages collect problems and return them; one formatter prints them as `file:line
message`. An *exception* is for when a stage cannot go on. Every exception recon raises is a
`ReconError` carrying the exit code cron reads (DESIGN.md) and, where there is one, the command to
run next. Whether a fault is transient (retry later) or terminal decides what the job runner does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from recon.redact import mask_pans


class ExitCode(IntEnum):
    """The process exit codes of DESIGN.md; cron and ops scripts depend on them."""

    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    NOT_READY = 3
    STAGE_FAILED = 4  # an input (or the workspace) was refused: a person fixes it, then re-runs
    LOCKED = 5
    MANUAL = 6  # a statement missed its deadline: a person gets it; the next run picks it up


# When one run ends several ways, the code cron sees is the most urgent: a bug, a setting, an input
# a person must fix, a statement a person must get, then the codes that fix themselves.
PRECEDENCE = (ExitCode.UNEXPECTED, ExitCode.USAGE, ExitCode.STAGE_FAILED, ExitCode.MANUAL, ExitCode.LOCKED,
              ExitCode.NOT_READY, ExitCode.OK)


def most_urgent(codes) -> ExitCode:
    found = set(codes)
    return next((c for c in PRECEDENCE if c in found), ExitCode.OK)


@dataclass(frozen=True, slots=True)
class Problem:
    """One data problem, located as precisely as the input allows."""

    file: str
    line: int | None
    message: str
    code: str = "invalid"

    def __post_init__(self) -> None:  # a rejected line may be quoted whole: no card number in it
        object.__setattr__(self, "message", mask_pans(self.message))

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "code": self.code, "message": self.message}


class ReconError(Exception):
    """Root of recon's exceptions. `exit_code` is what the CLI exits with."""

    exit_code: ExitCode = ExitCode.UNEXPECTED
    transient: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        message = mask_pans(message)  # the one line goes to stderr, logs and the store
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} (next: {self.hint})"


class ConfigError(ReconError):
    """A setting, rule file or command-line value is wrong: fix it, then re-run."""

    exit_code = ExitCode.USAGE


# How many problems one refusal carries in full (the quarantine reason file, `--json`); the count
# beyond it is still reported. A file with a million bad rows must not make a million-line reason.
PROBLEM_CAP = 1000


class StatementRejected(ReconError):
    """A statement failed its own checks. It is quarantined and nothing from it is used.

    `problem` is the headline (the first failure in the format's own order); `problems` every failing
    line found (capped at PROBLEM_CAP) and `problem_count` how many there were in all, so a person
    sees every dropped row and why, not only the first.
    """

    exit_code = ExitCode.STAGE_FAILED

    def __init__(self, file: str, line: int | None, reason: str, *, code: str = "rejected",
                 more: tuple[Problem, ...] | list[Problem] = (), count: int | None = None) -> None:
        self.problem = Problem(file=file, line=line, message=reason, code=code)
        rest = tuple(p for p in more if p != self.problem)
        self.problems: tuple[Problem, ...] = (self.problem, *rest)[:PROBLEM_CAP]
        self.problem_count = max(count or 0, 1 + len(rest))
        super().__init__(str(self.problem))

    @classmethod
    def of(cls, problems: list[Problem], count: int | None = None, *, by_line: bool = False) -> StatementRejected:
        """One refusal for several problems; the first is the headline. With `by_line` the others
        are listed in file order (the headline stays the first failure in the format's own order)."""
        head, *rest = problems
        if by_line:
            rest = sorted(rest, key=lambda p: p.line or 0)
        return cls(head.file, head.line, head.message, code=head.code, more=rest, count=count)


class StageFailed(ReconError):
    """A stage could not finish for a reason in its input (not a bug)."""

    exit_code = ExitCode.STAGE_FAILED


class NotReady(ReconError):
    """A statement is not published yet; the next attempt is scheduled."""

    exit_code = ExitCode.NOT_READY
    transient = True


class Locked(ReconError):
    """Another run holds the lease on this day."""

    exit_code = ExitCode.LOCKED
    transient = True


class NotWritable(ReconError):
    """The workspace cannot be written (disk full, read-only mount): nothing was half-written."""

    exit_code = ExitCode.STAGE_FAILED


class InvariantBroken(ReconError):
    """recon's own guarantee failed (a bug): stop, keep the evidence, write nothing further."""

    exit_code = ExitCode.UNEXPECTED
