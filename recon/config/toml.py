"""The one way recon reads a TOML file into a model: read, merge the override, validate, explain.

Every declared file goes through here: `recon.toml`, the rule sets, and the settlement, clearing and
accounting rules. The override rule is stated once: a workspace file is deep-merged over the
built-in file of the same name (tables merge key by key; any other value, arrays included, is
replaced whole), so a team writes only what differs. Validation is pydantic with unknown keys
refused, and every error names the file(s) and the dotted key, whichever file it came from.

Numbers that are money or rates are exact decimals. A TOML float (`0.10` without quotes) has
already been rounded to binary by the TOML reader, so `Money` refuses it everywhere with the same
words instead of silently accepting 0.1000000000000000055511151231257827: write it as a string.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from recon.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """A declared table: unknown keys are errors (a typo must not fall back to a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def exact_decimal(value: object) -> Decimal:
    """A decimal from TOML or the command line: a string or an integer, never a float."""
    if isinstance(value, float):
        raise ValueError(f"{value!r} is a TOML float, which is not exact; write it as a string: \"{value}\"")
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"{value!r} is not a decimal number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


# An amount of money or a rate, exact: `"0.10"` or `10`, never `0.10`.
Money = Annotated[Decimal, BeforeValidator(exact_decimal)]


@dataclass(frozen=True, slots=True)
class TomlDocument:
    """A TOML table and where it came from (`builtin + override` when merged)."""

    data: dict[str, Any]
    source: str


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` merged into `base`: tables key by key, every other value replaced whole."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def layered(paths: Iterable[Path]) -> TomlDocument | None:
    """The files that exist among `paths` (built-in first), each deep-merged over the ones before."""
    data: dict[str, Any] = {}
    sources = []
    for path in paths:
        if path.is_file():
            data = deep_merge(data, read_toml(path))
            sources.append(str(path))
    return TomlDocument(data, " + ".join(sources)) if sources else None


def validate(model: type[M], document: TomlDocument, *, prefix: str = "") -> M:
    """`document` as `model`; the first error names the source, the dotted key and the reason."""
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        raise ConfigError(explain(exc, document.source, prefix)) from None


def explain(exc: ValidationError, source: str, prefix: str = "") -> str:
    err = exc.errors()[0]
    # a tagged union's branch ("transport=sftp") is part of pydantic's path, not of the file's keys
    path = [str(p) for p in err["loc"] if "=" not in str(p)]
    key = ".".join([prefix, *path] if prefix else path)
    reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{source}: {key}: {reason}{more}" if key else f"{source}: {reason}{more}"
