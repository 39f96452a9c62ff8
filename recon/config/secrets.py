"""Secrets: read from the environment by the name a setting gives, never shown once read.

recon.toml never holds a secret; it names the environment variable (or key file) that does. A
`Secret` is usable but prints as its variable's name only, so a repr in a log line, a traceback or
an error message cannot carry the value.
"""

from __future__ import annotations

import os

from recon.errors import ConfigError


class Secret:
    """A secret value: usable, but never shown by repr/str, so it cannot leak into logs."""

    __slots__ = ("_value", "name")

    def __init__(self, value: str, name: str) -> None:
        self._value = value
        self.name = name

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.name}=***)"

    __str__ = __repr__


def secret_from_env(variable: str | None, *, setting: str) -> Secret | None:
    """Read the secret named by a setting; a named but unset variable is a config error."""
    if not variable:
        return None
    value = os.environ.get(variable)
    if value is None:
        raise ConfigError(f"{setting} names environment variable {variable}, which is not set")
    return Secret(value, variable)
