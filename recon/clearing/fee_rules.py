"""Clearing rules: fee rules and split rules per merchant and channel, declared in TOML.

Finance changes what a merchant pays without a release, so fee and split rules are data:
`rules/clearing.toml` ships the defaults and `<workspace>/rules/clearing.toml` is merged over it
like every rule file (recon.config.toml). A merge cannot silently combine a built-in catch-all with
a workspace's per-merchant rule: the two overlap, and overlaps are refused at load (below), so a
workspace that adds per-merchant rules narrows the catch-all, redefines it by name, or switches it
off by name (`[fees.standard-payments] enabled = false`).

A rule applies to a scope: `merchant`, `channel`, `currency` (each a value or "*") and
`record_types` (a list). Exactly one fee rule must apply to every cleared transaction; two fee
rules (or two split rules) whose scopes can match the same merchant/channel/currency/record type
are refused at load, with both names: no "first match wins", no precedence to remember.

Every number is exact: rates and amounts are TOML strings (or integers) turned into Decimal; a TOML
float ("0.006" written without quotes) is refused, because it has already lost exactness
(recon.config.toml.Money).
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from recon.config.toml import Money, StrictModel, TomlDocument, validate
from recon.errors import StageFailed
from recon.money import Rounding, quantize
from recon.schema import RECORD_TYPES
from recon.workspace import Workspace

DOCUMENT = "clearing"
FILE_NAME = "clearing.toml"
ANY = "*"
MERCHANT = "merchant"  # the implicit split party: the merchant itself


class _Strict(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Scope(_Strict):
    """Which transactions a rule applies to. "*" matches anything."""

    merchant: str = ANY
    channel: str = ANY
    currency: str = ANY
    record_types: tuple[str, ...]

    @field_validator("record_types")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(RECORD_TYPES))
        if not value or unknown:
            raise ValueError(f"record_types must be a non-empty list among {list(RECORD_TYPES)}; got {list(value)}")
        return value

    def matches(self, merchant: str, channel: str, currency: str, record_type: str) -> bool:
        return (self.merchant in (ANY, merchant) and self.channel in (ANY, channel)
                and self.currency in (ANY, currency) and record_type in self.record_types)

    def overlaps(self, other: Scope) -> bool:
        same = lambda a, b: a == b or ANY in (a, b)  # noqa: E731
        return (same(self.merchant, other.merchant) and same(self.channel, other.channel)
                and same(self.currency, other.currency) and bool(set(self.record_types) & set(other.record_types)))

    def check_amount(self, name: str, value: Decimal | None) -> None:
        """Amounts (fixed fees, limits, tier bounds) only mean something in one currency's unit."""
        if value is None:
            return
        if self.currency == ANY:
            raise ValueError(f"{name} is an amount, so the rule must name its currency (not \"*\")")
        if value != quantize(value, self.currency, Rounding.DOWN):
            raise ValueError(f"{name} {value} is finer than the minor unit of {self.currency}")


class Tier(_Strict):
    """From `from` of month-to-date volume upward, `percent` applies."""

    start: Money = Field(alias="from")
    percent: Money


class FeeRule(Scope):
    """How much a merchant pays on one transaction; see clearing.toml for the worked meaning."""

    kind: Literal["percent", "fixed", "tiered", "none"]
    percent: Money | None = None
    fixed: Money | None = None
    min: Money | None = None
    max: Money | None = None
    tiers: tuple[Tier, ...] = ()
    direction: Literal["charge", "return"] = "charge"
    rounding: Rounding
    round_at: Literal["transaction", "total"]

    @model_validator(mode="after")
    def _coherent(self) -> FeeRule:
        needs = {"percent": ("percent",), "fixed": ("fixed",), "tiered": ("tiers",), "none": ()}[self.kind]
        given = {f for f in ("percent", "fixed", "tiers", "min", "max") if getattr(self, f) not in (None, ())}
        missing = [f for f in needs if f not in given]
        if missing:
            raise ValueError(f"kind {self.kind!r} needs {', '.join(missing)}")
        allowed = {"percent": {"percent", "fixed", "min", "max"}, "tiered": {"tiers", "fixed", "min", "max"},
                   "fixed": {"fixed"}, "none": set()}[self.kind]
        if given - allowed:
            raise ValueError(f"kind {self.kind!r} does not take {', '.join(sorted(given - allowed))}")
        for name in ("fixed", "min", "max"):
            self.check_amount(name, getattr(self, name))
        for i, tier in enumerate(self.tiers):
            self.check_amount(f"tiers[{i}].from", tier.start)
        rates = [self.percent] if self.percent is not None else [t.percent for t in self.tiers]
        if any(not Decimal(0) <= r <= Decimal(100) for r in rates):
            raise ValueError("percent must be between 0 and 100")
        if self.tiers and (self.tiers[0].start != 0 or any(
                a.start >= b.start for a, b in itertools.pairwise(self.tiers))):
            raise ValueError("tiers must start from \"0\" and rise strictly")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        if self.direction == "return" and set(self.record_types) != {"REFUND"}:
            raise ValueError("direction \"return\" (give the fee back) applies to record_types = [\"REFUND\"] only")
        return self


class Share(_Strict):
    """One party's part of a transaction's net: a percentage of it, or a fixed amount off the top."""

    party: str = Field(min_length=1)
    percent: Money | None = None
    fixed: Money | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Share:
        if (self.percent is None) == (self.fixed is None):
            raise ValueError(f"share of {self.party!r} needs exactly one of percent, fixed")
        return self


class SplitRule(Scope):
    """分账: who else gets part of each transaction's net. The merchant keeps what the listed parties
    do not take; the indivisible remainder left by rounding goes to `remainder_to`."""

    record_types: tuple[str, ...] = ("PAYMENT",)
    shares: tuple[Share, ...] = Field(min_length=1)
    remainder_to: str
    rounding: Rounding

    @model_validator(mode="after")
    def _coherent(self) -> SplitRule:
        parties = [s.party for s in self.shares]
        if len(set(parties)) != len(parties):
            raise ValueError(f"a party is listed twice in shares: {parties}")
        if MERCHANT in parties:
            raise ValueError(f"{MERCHANT!r} is implicit (it keeps the rest); list only the other parties")
        if self.remainder_to not in (MERCHANT, *parties):
            raise ValueError(f"remainder_to {self.remainder_to!r} must be {MERCHANT!r} or a listed party")
        total = sum((s.percent for s in self.shares if s.percent is not None), Decimal(0))
        if any(s.percent is not None and s.percent < 0 for s in self.shares) or total > 100:
            raise ValueError(f"share percentages must be >= 0 and add up to at most 100 (got {total})")
        for s in self.shares:
            if s.fixed is not None and s.fixed < 0:
                raise ValueError(f"fixed share of {s.party!r} must not be negative")
            self.check_amount(f"fixed share of {s.party!r}", s.fixed)
        return self


class ClearingRules(_Strict):
    name: str = "clearing"
    version: str = "1"
    # Where each split party's share is booked; placeholders: party, merchant_id, currency, channel.
    split_account: str = "liabilities:split:{party}:{merchant_id}"
    fees: dict[str, FeeRule]
    splits: dict[str, SplitRule] = {}
    source: str = ""

    @model_validator(mode="before")
    @classmethod
    def _switched_off(cls, data: Any) -> Any:
        """A rule with `enabled = false` is left out: how a workspace retires a built-in rule by name
        (the override is merged, so omitting it would keep it)."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for family in ("fees", "splits"):
            table = out.get(family)
            if isinstance(table, dict):
                out[family] = {name: {k: v for k, v in rule.items() if k != "enabled"}
                               for name, rule in table.items()
                               if not (isinstance(rule, dict) and rule.get("enabled", True) is False)}
        return out

    @model_validator(mode="after")
    def _no_overlaps(self) -> ClearingRules:
        for family in ("fees", "splits"):
            rules = sorted(getattr(self, family).items())
            for (a, ra), (b, rb) in itertools.combinations(rules, 2):
                if ra.overlaps(rb):
                    raise ValueError(f"{family} rules {a!r} and {b!r} overlap (both can match one "
                                     f"merchant/channel/currency/record type); narrow one of them, or "
                                     f"switch one off by name with `[{family}.<name>] enabled = false`")
        return self

    def fee_rule(self, merchant: str, channel: str, currency: str, record_type: str) -> tuple[str, FeeRule]:
        found = [(n, r) for n, r in sorted(self.fees.items()) if r.matches(merchant, channel, currency, record_type)]
        if not found:
            raise StageFailed(f"{self.source}: no fee rule for merchant {merchant}, channel {channel}, "
                              f"{currency} {record_type}", hint=f"add one to {FILE_NAME}, then re-run recon clear")
        return found[0]  # exactly one: overlaps are refused at load

    def split_rule(self, merchant: str, channel: str, currency: str, record_type: str) -> tuple[str, SplitRule] | None:
        found = [(n, r) for n, r in sorted(self.splits.items()) if r.matches(merchant, channel, currency, record_type)]
        return found[0] if found else None


def clearing_rules(document: TomlDocument) -> ClearingRules:
    """The clearing rules from their document (built-in `rules/clearing.toml`, overridable)."""
    return validate(ClearingRules, TomlDocument({**document.data, "source": document.source}, document.source))


def clearing_of(ws: Workspace) -> ClearingRules:
    return clearing_rules(ws.catalog.document(DOCUMENT))
