"""Layer 2/3 settings: the business calendar, per-channel settlement rules, the book-position file.

The defaults ship in `recon/layers/settlement.toml`; a workspace overrides any key in
`<workspace>/rules/settlement.toml`. A channel's policy is `[defaults]`, then its format's table
(`[formats."stripe.balance"]`), then its own (`[channels.stripe]`), merged key by key, so a team
states only what differs. Unknown keys fail with the file and the key, as recon.toml does.

Bank channels (statement formats that carry balances) are not settled: they are where payouts land.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from parsers.balances import BANK_FORMATS
from recon.errors import ConfigError
from recon.layers.calendar import BusinessCalendar
from recon.layers.settlement_cycle import SettlementPolicy

BUILTIN = Path(__file__).resolve().parent / "settlement.toml"
OVERRIDE_NAME = "settlement.toml"
_TOP_KEYS = {"calendar", "books", "defaults", "formats", "channels"}


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class LayerSettings:
    """Everything layers 2 and 3 read from configuration, validated when built."""

    calendar: BusinessCalendar
    books_path: str | None
    source: str
    _data: dict

    @classmethod
    def from_dict(cls, data: dict, source: str = "settlement.toml") -> LayerSettings:
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {sorted(unknown)}")
        books = dict(data.get("books", {}))
        if set(books) - {"path"}:
            raise ConfigError(f"{source}: books: unknown key(s) {sorted(set(books) - {'path'})}")
        try:
            calendar = BusinessCalendar.from_config(data.get("calendar"))
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc.message}") from None
        settings = cls(calendar, books.get("path"), source, data)
        settings._policy("defaults", data.get("defaults", {}))  # fail early on a bad default
        return settings

    @classmethod
    def load(cls, workspace_rules: Path | None = None) -> LayerSettings:
        data, sources = _read(BUILTIN), [str(BUILTIN)]
        override = workspace_rules / OVERRIDE_NAME if workspace_rules else None
        if override is not None and override.exists():
            data = _merge(data, _read(override))
            sources.append(str(override))
        return cls.from_dict(data, " + ".join(sources))

    def _policy(self, where: str, table: dict) -> SettlementPolicy:
        try:
            return SettlementPolicy.model_validate(table)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            raise ConfigError(f"{self.source}: {where}.{key}: {reason}") from None

    def policy(self, channel: str, format_id: str | None) -> SettlementPolicy:
        table = dict(self._data.get("defaults", {}))
        table = _merge(table, self._data.get("formats", {}).get(format_id or "", {}))
        table = _merge(table, self._data.get("channels", {}).get(channel, {}))
        return self._policy(f"channels.{channel}", table)


def is_bank_format(format_id: str | None) -> bool:
    return format_id in BANK_FORMATS


def payout_only_channels(ws, cfg: LayerSettings) -> set[str]:
    """Channels whose statements only report another channel's payouts (WeChat's fund-flow bill)."""
    return {cfg.policy(c, ch.format).payout_channel for c, ch in ws.settings.channels.items()} - {None}


def transaction_channels(ws) -> list[str]:
    """The channels layer 1 matches transaction by transaction: not banks, not payout reporters.

    A bank statement's lines are cash movements (layer 3 reads them) and a payout-only fund-flow
    bill restates trades the trade bill already carries; matching either against our transactions
    would report every line as CHANNEL_ONLY.
    """
    cfg = LayerSettings.load(ws.rules_dir)
    skip = payout_only_channels(ws, cfg)
    return sorted(c for c, ch in ws.settings.channels.items() if not is_bank_format(ch.format) and c not in skip)
