"""Rule sets: per-channel declarative rules (TOML), shipped in this folder, overridable per workspace.

A rule set holds what differs between channels but is not code: the map from each channel status
code to SUCCESS / FAILED / UNKNOWN, per-currency minor-unit exponents where the channel departs from
ISO 4217, and the matching policy (keys, tolerances, cross-day window). The built-in file
`rules/<name>.toml` is read first; `<workspace>/rules/<name>.toml`, when present, is merged over it
key by key. Unknown keys and bad values fail with the file, the key and the reason.

Status maps follow DOMAIN.md: only an explicit success is SUCCESS. A code that is not in the map is
UNKNOWN, never guessed.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from recon.errors import ConfigError

BUILTIN_DIR = Path(__file__).resolve().parent
Status = Literal["SUCCESS", "FAILED", "UNKNOWN"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MatchRules(_Strict):
    """Layer-1 policy: which keys pair rows, what counts as equal, how long a row may wait."""

    keys: tuple[str, ...] = ("merchant_txn_id", "channel_txn_id")
    amount_tolerance: Decimal = Decimal("0")
    fee_tolerance: Decimal = Decimal("0")
    compare_fee: bool = True
    cross_day_window: str = "10m"  # rows this close to the day boundary may land in the next bill
    pending_days: int = Field(1, ge=0, le=31)  # how many later days a cross-day row may wait

    @field_validator("amount_tolerance", "fee_tolerance")
    @classmethod
    def _non_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("a tolerance cannot be negative")
        return value

    @field_validator("keys")
    @classmethod
    def _known_keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        allowed = {"merchant_txn_id", "channel_txn_id", "merchant_refund_id", "channel_refund_id"}
        bad = [k for k in value if k not in allowed]
        if bad or not value:
            raise ValueError(f"match keys must be among {sorted(allowed)}, got {list(value)}")
        return value


class RuleSet(_Strict):
    name: str
    version: str = "1"
    description: str = ""
    # status.<field>.<raw code> = SUCCESS | FAILED | UNKNOWN
    status: dict[str, dict[str, Status]] = {}
    # currency -> exponent, where the channel departs from ISO 4217
    currency_exponent: dict[str, int] = {}
    match: MatchRules = MatchRules()

    def status_of(self, field: str, code: str | None) -> Status:
        """Map a raw code; anything the rules do not name explicitly is UNKNOWN."""
        if code is None:
            return "UNKNOWN"
        return self.status.get(field, {}).get(code.strip(), "UNKNOWN")

    def exponent_override(self, currency: str) -> int | None:
        return self.currency_exponent.get(currency)


def _deep_merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def load_rules(name: str, workspace_rules: Path | None = None) -> RuleSet:
    """The rule set `name`: built-in file, then the workspace's override merged over it."""
    override = workspace_rules / f"{name}.toml" if workspace_rules else None
    stamp = override.stat().st_mtime_ns if override and override.exists() else None
    return _load(name, str(override) if stamp is not None else None, stamp)


def load_rules_file(path: Path) -> RuleSet:
    """A complete rule set from one file (used by `recon match --rules FILE`)."""
    return _validate(_read(path), str(path))


@lru_cache(maxsize=64)
def _load(name: str, override: str | None, _stamp: int | None) -> RuleSet:
    builtin = BUILTIN_DIR / f"{name}.toml"
    data: dict = _read(builtin) if builtin.exists() else {}
    sources = [str(builtin)] if data else []
    if override:
        data = _deep_merge(data, _read(Path(override)))
        sources.append(override)
    if not sources:
        raise ConfigError(f"no rule set {name!r} (built-in: {', '.join(builtin_names())})")
    data.setdefault("name", name)
    return _validate(data, " + ".join(sources))


def _validate(data: dict, source: str) -> RuleSet:
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(f"{source}: {key}: {reason}") from None
