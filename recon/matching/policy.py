"""Layer 2/3 settings: the business calendar, per-channel settlement rules, the book-position file.

The defaults ship in `rules/settlement.toml`; a workspace overrides any key in
`<workspace>/rules/settlement.toml` (deep-merged, recon.config.toml). A channel's policy is
`[defaults]`, then its format's table (`[formats."stripe.balance"]`), then its own
(`[channels.stripe]`), merged key by key, so a team states only what differs. Unknown keys fail
with the file and the key, as recon.toml does.

Which channels take part where follows from what their statements are (the parser's kind, asked
through the workspace's catalog): bank statements are where payouts land (layer 3), payout reports
(a fund-flow bill) and channels named as another's `payout_channel` only report payouts (layer 2).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from recon.config.toml import StrictModel, TomlDocument, deep_merge, validate
from recon.errors import ConfigError
from recon.matching.calendar import BusinessCalendar
from recon.matching.settlement_cycle import SettlementPolicy
from recon.workspace import Workspace

DOCUMENT = "settlement"


class CalendarTable(StrictModel):
    weekend: tuple[str, ...] = ("sat", "sun")
    holidays: tuple[dt.date | str, ...] = ()
    workdays: tuple[dt.date | str, ...] = ()


class BooksTable(StrictModel):
    path: str | None = None  # a CSV of book positions, when they do not come from the core's ledger


class SettlementFile(StrictModel):
    calendar: CalendarTable = CalendarTable()
    books: BooksTable = BooksTable()
    # Policies are validated per channel, after the three levels are merged (a level alone may be partial).
    defaults: dict[str, Any] = Field(default_factory=dict)
    formats: dict[str, dict[str, Any]] = Field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = Field(default_factory=dict)


@dataclass(frozen=True)
class LayerSettings:
    """Everything layers 2 and 3 read from configuration, validated when built."""

    calendar: BusinessCalendar
    books_path: str | None
    source: str
    file: SettlementFile

    @classmethod
    def from_document(cls, document: TomlDocument) -> LayerSettings:
        file = validate(SettlementFile, document)
        try:
            calendar = BusinessCalendar.from_config(file.calendar.model_dump())
        except ConfigError as exc:
            raise ConfigError(f"{document.source}: {exc.message}") from None
        settings = cls(calendar, file.books.path, document.source, file)
        settings._policy("defaults", file.defaults)  # fail early on a bad default
        return settings

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "settlement.toml") -> LayerSettings:
        return cls.from_document(TomlDocument(data, source))

    @classmethod
    def of(cls, ws: Workspace) -> LayerSettings:
        return cls.from_document(ws.catalog.document(DOCUMENT))

    def _policy(self, where: str, table: dict[str, Any]) -> SettlementPolicy:
        return validate(SettlementPolicy, TomlDocument(table, self.source), prefix=where)

    def policy(self, channel: str, format_id: str | None) -> SettlementPolicy:
        table = deep_merge(self.file.defaults, self.file.formats.get(format_id or "", {}))
        table = deep_merge(table, self.file.channels.get(channel, {}))
        return self._policy(f"channels.{channel}", table)


def bank_channels(ws: Workspace) -> list[str]:
    """Channels whose statements are bank accounts with balances (layer 3 reads them)."""
    return sorted(c for c in ws.settings.channels if ws.catalog.kind(c) == "bank")


def payout_only_channels(ws: Workspace, cfg: LayerSettings) -> set[str]:
    """Channels that only report payouts: payout statements, and any named as a `payout_channel`."""
    named = {cfg.policy(c, ch.format).payout_channel for c, ch in ws.settings.channels.items()} - {None}
    return named | {c for c in ws.settings.channels if ws.catalog.kind(c) == "payout"}


def transaction_channels(ws: Workspace) -> list[str]:
    """The channels layer 1 matches transaction by transaction: not banks, not payout reporters.

    A bank statement's lines are cash movements (layer 3 reads them) and a payout-only fund-flow
    bill restates trades the trade bill already carries; matching either against our transactions
    would report every line as CHANNEL_ONLY.
    """
    skip = payout_only_channels(ws, LayerSettings.of(ws)) | set(bank_channels(ws))
    return sorted(c for c in ws.settings.channels if c not in skip)
