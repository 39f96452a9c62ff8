"""The parser protocol: what every statement format plugin implements.

A parser is a small class with two jobs. `identify(sample)` says, from the first bytes of a file
(and the member names of a zip), whether the file is in its format; it must be cheap and must not
claim files it cannot parse. `parse(path, ctx)` turns the whole file into the standardized bill
(recon/schema.py) or raises `StatementRejected` naming the file, line and reason. A parser checks
the file against itself (footer counts and totals, balances) *before* returning anything: a bill
that is returned is a bill that passed every check the format allows.

Parsers register through the `recon.parsers` entry point group (pyproject.toml); the built-ins use
the same mechanism as a third-party plugin. A parser also says what *kind* of statement it reads
and which rule set a channel of its format uses unless configured otherwise: everything that must
know whether a channel is a bank or a payout reporter asks the parser, so a third-party bank format
takes part in layer 3 exactly like a built-in one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

import polars as pl

from recon.config.ruleset import RuleSet
from recon.errors import Problem
from recon.workspace import ChannelKind

SAMPLE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Sample:
    """What `identify` sees: the file name, its first bytes (decompressed), zip member names."""

    name: str
    head: bytes
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParseContext:
    """Everything a parser needs that is not in the file."""

    channel: str
    rules: RuleSet
    zone: ZoneInfo  # the channel's business-day zone: local times in the file are read in it
    account: str | None = None
    bill_date: dt.date | None = None  # known to the caller (the fetch date); else from the file
    source_name: str | None = None  # how messages name the file; defaults to its path


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    """A statement that passed its own checks."""

    bill: pl.DataFrame
    balances: pl.DataFrame | None = None  # bank formats: opening/closing per account and day
    checks: tuple[str, ...] = ()  # what was verified, in words ("summary count 3 = 3 lines")
    warnings: tuple[Problem, ...] = ()


@runtime_checkable
class StatementParser(Protocol):
    format_id: ClassVar[str]
    description: ClassVar[str]
    # What the statement is, which decides where it takes part: "channel" (transactions, layer 1 and
    # the bill totals of layer 2), "payout" (a fund or account flow read for the payouts it reports,
    # layer 2) or "bank" (an account statement with balances, layer 3).
    kind: ClassVar[ChannelKind]
    rule_family: ClassVar[str]  # the built-in rule set a channel of this format uses by default
    # Optional: bill money columns the format documents finer than the currency's minor unit
    # (`{"fee": 5}` for WeChat). Without it every amount must fit its currency (JPY 0, CNY 2...):
    # the registry checks every bill, a plugin's included (recon.schema.standard_problems).
    # Optional: `sensitive_id_fields`, the bill id columns where this format may carry card data
    # (`frozenset({"merchant_txn_id"})` for a format whose order number is the card number). Ids are
    # never masked otherwise; the parse stage masks card numbers in these as in memo/counterparty.
    # Read with `sensitive_id_fields(parser)` (default empty): optional, like `max_decimals`, so a
    # plugin written before it still satisfies the protocol.

    def identify(self, sample: Sample) -> bool: ...

    def parse(self, path: Path, ctx: ParseContext) -> ParsedStatement: ...


def sensitive_id_fields(parser: object) -> frozenset[str]:
    """The id columns the parser declares may hold card data (empty unless it declares some)."""
    return frozenset(getattr(parser, "sensitive_id_fields", frozenset()))
