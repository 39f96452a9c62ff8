"""Rule sets: what differs between channels but is not code, as declared models.

A rule set holds the map from each channel status code to SUCCESS / FAILED / UNKNOWN, per-currency
minor-unit exponents where the channel departs from ISO 4217, the matching policy (keys,
tolerances, cross-day window) and what the channel's order-query answers mean (`[requery]`). The
files (built-in `rules/<name>.toml`, overridden per workspace) are found and merged by the `rules`
package; this module only says what a valid rule set is.

Status maps follow DOMAIN.md: only an explicit success is SUCCESS. A code that is not in the map is
UNKNOWN, never guessed. Tolerances are exact decimals: a TOML float is refused (recon.config.toml).
"""

from __future__ import annotations

import math
import re
import string
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from recon.config.toml import Money, StrictModel

Status = Literal["SUCCESS", "FAILED", "UNKNOWN"]


# Fields a match key may name. `channel_refund_id` on our side is the channel's serial of the refund
# record (our `channel_txn_id` on a REFUND row), which is how the payment core stores it.
MATCH_FIELDS = ("merchant_txn_id", "channel_txn_id", "merchant_refund_id", "channel_refund_id")
# Fields an N:M group key may name on each side (`our_group_key`, `their_group_key`): the ids, plus
# what each side carries that a batch can be named by (our order number; the channel's payout or
# settlement batch, `payout_id` in the standardized bill).
OUR_GROUP_FIELDS = ("merchant_txn_id", "channel_txn_id", "merchant_order_no", "original_txn_id", "counterparty")
THEIR_GROUP_FIELDS = ("merchant_txn_id", "channel_txn_id", "payout_id", "counterparty")
PassName = Literal["key", "id_variant", "group", "no_reference"]
Compared = Literal["currency", "amount", "status", "fee"]
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(text: str) -> int:
    """`"10m"` -> 600. Durations in rule files are an integer and one unit (s, m, h, d)."""
    found = _DURATION.match(text.strip())
    if not found:
        raise ValueError(f"{text!r} is not a duration like 30s, 10m, 8h or 1d")
    return int(found.group(1)) * _UNIT_SECONDS[found.group(2)]


def _duration(value: str) -> str:
    duration_seconds(value)
    return value


def _check_key(value: str, fields: tuple[str, ...] = MATCH_FIELDS) -> str:
    # A composite key joins fields with "+": "merchant_txn_id+merchant_refund_id".
    parts = value.split("+")
    bad = [p for p in parts if p not in fields]
    if bad or len(set(parts)) != len(parts):
        raise ValueError(f"match key {value!r}: each part must be one of {list(fields)}, once")
    return value


class IdVariant(StrictModel):
    """A channel that alters our serial: both sides' `key` are normalized the same way, then compared.

    `strip_prefix`/`strip_suffix` remove a fixed text where present (a channel prefixing "WX");
    `last` keeps the last N characters (a channel truncating a 32-character serial to 20).
    """

    name: str
    key: str = "merchant_txn_id"
    strip_prefix: str | None = None
    strip_suffix: str | None = None
    last: int | None = Field(None, ge=1, le=64)
    ignore_case: bool = False

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return _check_key(value)


# A proposal search enumerates at most this many subsets per block (recon.matching.proposals):
# the limits below are refused when their worst case exceeds it, so a day's search stays bounded.
MAX_SUBSET_EVALUATIONS = 2_000_000


def subset_bound(rows: int, members: int) -> int:
    """The most subsets of 1..`members` rows out of `rows` a block search may look at."""
    return sum(math.comb(rows, k) for k in range(1, members + 1))


class ProposalRules(StrictModel):
    """Exact-sum proposals (`[match.proposals]`): after every pass, several unmatched rows of one
    side whose sum equals one unmatched row of the other exactly, within a block (currency, record
    type and, unless `by_counterparty` is false, counterparty; the channel-day is the day window).
    A block of more than `max_block_rows` rows is not searched; subsets hold 2..`max_members` rows."""

    enabled: bool = True
    max_block_rows: int = Field(24, ge=3, le=200)
    max_members: int = Field(5, ge=2, le=10)
    by_counterparty: bool = True
    auto_accept: bool = False  # true: unambiguous proposals are MATCHED (pass_name exact_sum)

    @model_validator(mode="after")
    def _bounded(self) -> ProposalRules:
        worst = subset_bound(self.max_block_rows, self.max_members)
        if worst > MAX_SUBSET_EVALUATIONS:
            raise ValueError(f"max_block_rows = {self.max_block_rows} with max_members = {self.max_members} "
                             f"may look at {worst:,} subsets per block; at most {MAX_SUBSET_EVALUATIONS:,}")
        return self


class MatchRules(StrictModel):
    """Layer-1 policy: which keys pair rows, what counts as equal, how long a row may wait.

    The defaults are the policy for a channel that echoes our serial (merchant_txn_id) and gives its
    own (channel_txn_id): exact amounts and fees, a 10-minute cross-day window, one day of patience,
    and suggestions without references that a person must confirm (no automatic acceptance).
    """

    passes: tuple[PassName, ...] = ("key", "id_variant", "group", "no_reference")
    keys: tuple[str, ...] = ("merchant_txn_id", "channel_txn_id")  # payments and other non-refunds
    refund_keys: tuple[str, ...] = ("merchant_refund_id", "channel_refund_id")
    compare: tuple[Compared, ...] = ("currency", "amount", "status", "fee")  # also the outcome priority
    amount_tolerance: Money = Decimal("0")  # absolute, in the currency's major unit
    amount_tolerance_rel: Money = Decimal("0")  # fraction of our amount; the larger allowance wins
    fee_tolerance: Money = Decimal("0")
    fee_tolerance_rel: Money = Decimal("0")
    time_window: str = "15m"  # no-reference pass and near-miss search: how far apart times may be
    cross_day_window: str = "10m"  # rows this close to the day boundary may land in the next bill
    pending_days: int = Field(1, ge=0, le=31)  # how many later days a cross-day row may wait
    id_variants: tuple[IdVariant, ...] = ()
    group_key: str | None = None  # 1:N: one of our orders settled by several channel lines
    # N:M: rows of ours sharing `our_group_key` against channel lines sharing `their_group_key` (the
    # same value on both sides), compared on their sums; set both or neither
    our_group_key: str | None = None
    their_group_key: str | None = None
    auto_accept_score: float | None = Field(None, gt=0, le=1)  # None: suggestions always need a person
    proposals: ProposalRules = ProposalRules()

    @field_validator("amount_tolerance", "fee_tolerance", "amount_tolerance_rel", "fee_tolerance_rel")
    @classmethod
    def _non_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("a tolerance cannot be negative")
        return value

    @field_validator("amount_tolerance_rel", "fee_tolerance_rel")
    @classmethod
    def _fraction(cls, value: Decimal) -> Decimal:
        if value >= 1:
            raise ValueError("a relative tolerance is a fraction below 1 (0.001 = 0.1%)")
        if value.as_tuple().exponent < -9:  # both engines compare it as DECIMAL(18, 9): refuse, never round
            raise ValueError("a relative tolerance has at most 9 decimal places")
        return value

    @field_validator("keys", "refund_keys")
    @classmethod
    def _known_keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for key in value:
            _check_key(key)
        if len(set(value)) != len(value):
            raise ValueError(f"match keys repeat: {list(value)}")
        return value

    @field_validator("group_key")
    @classmethod
    def _group_key(cls, value: str | None) -> str | None:
        return None if value is None else _check_key(value)

    @field_validator("our_group_key")
    @classmethod
    def _our_group_key(cls, value: str | None) -> str | None:
        return None if value is None else _check_key(value, OUR_GROUP_FIELDS)

    @field_validator("their_group_key")
    @classmethod
    def _their_group_key(cls, value: str | None) -> str | None:
        return None if value is None else _check_key(value, THEIR_GROUP_FIELDS)

    @model_validator(mode="after")
    def _group_sides(self) -> MatchRules:
        if (self.our_group_key is None) != (self.their_group_key is None):
            raise ValueError("our_group_key and their_group_key name the two sides of one N:M group: "
                             "set both or neither")
        return self

    @property
    def many_to_many(self) -> bool:
        return self.our_group_key is not None

    _durations = field_validator("time_window", "cross_day_window")(_duration)

    @field_validator("passes")
    @classmethod
    def _passes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"a pass is named twice: {list(value)}")
        return value

    @field_validator("id_variants")
    @classmethod
    def _variant_names(cls, value: tuple[IdVariant, ...]) -> tuple[IdVariant, ...]:
        names = [v.name for v in value]
        if len(set(names)) != len(names):
            raise ValueError(f"id variant names repeat: {names}")
        return value

    @property
    def time_window_seconds(self) -> int:
        return duration_seconds(self.time_window)

    @property
    def cross_day_seconds(self) -> int:
        return duration_seconds(self.cross_day_window)


# --- [requery]: what the channel's order-query answers mean (jobs.requery) ---------------------------
ErrorMeaning = Literal["NOT_FOUND", "UNKNOWN"]
RequeryKind = Literal["LOCAL_ONLY", "CHANNEL_ONLY", "STATUS_MISMATCH", "AMOUNT_MISMATCH", "FEE_MISMATCH", "PENDING"]
PATH_IDS = ("merchant_txn_id", "channel_txn_id", "merchant_refund_id", "channel_refund_id", "account")


class HttpJson(StrictModel):
    """A JSON order-query API for the generic adapter: where to ask, how, and where the answer says what.

    Paths are templates over the item's ids (`{merchant_txn_id}`, `{channel_txn_id}`,
    `{merchant_refund_id}`, `{channel_refund_id}`, `{account}`), joined to the channel's `url`
    (recon.toml) or to `base`; a refund is asked at `refund_path`. Fields are dotted paths into the
    answer (`data.order.status`); the status is looked up in `[requery.status.<status_map>]`
    (payments) and `[requery.status.<refund_status_map>]` (refunds), so an API shaped like a
    built-in one can reuse its map. Without a `currency` field the item's currency is taken. The
    credential is the value of the channel's `api_key_env`, sent as `auth_header` after `auth_prefix`.
    """

    base: str | None = None
    path: str
    refund_path: str | None = None
    auth_header: str = "Authorization"
    auth_prefix: str = "Bearer "
    status: str
    status_map: str = "status"
    refund_status_map: str = "refund_status"
    amount: str | None = None
    amount_unit: Literal["major", "minor"] = "major"
    currency: str | None = None
    time: str | None = None  # ISO 8601 text or seconds since the epoch
    channel_txn_id: str | None = None
    error: str | None = None  # where an error answer carries its code; else the code is "HTTP <status>"

    @field_validator("path", "refund_path")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value.startswith("/"):
            raise ValueError(f"{value!r}: a path starts with '/'")
        for _, name, spec, conversion in string.Formatter().parse(value):
            if name is not None and (name not in PATH_IDS or spec or conversion):
                raise ValueError(f"{value!r}: placeholders are plain {{name}} of {', '.join(PATH_IDS)}")
        return value


class RequeryRules(StrictModel):
    """An answer is read in two layers, and this table says what each code means.

    1. The API layer (`errors`): the call failed and the channel said why (`ORDER_NOT_EXIST`,
       `SYSTEM_ERROR`, `ACQ.TRADE_NOT_EXIST`, `resource_missing`, or `HTTP 404` where an API gives
       only a status). An error is never a business result: the only meaning it may carry is
       NOT_FOUND ("the order does not exist"); anything else, mapped or not, is UNKNOWN.
    2. The business layer (`status.<field>`): the call succeeded and the state field says SUCCESS,
       FAILED or UNKNOWN. A communication-level OK is not a business result, so only a code listed
       here counts; an unlisted code is UNKNOWN, never guessed (DOMAIN.md).

    "Order does not exist" right after a payment is not a failure (the channel may not have the
    order yet): it counts only once `not_found_window` has passed since the payment, and only when
    it was answered `not_found_answers` times. `auto_accept` names kinds whose confirmation by the
    channel may be accepted without a person, each currency up to `auto_accept_max`; a currency not
    listed is never auto-accepted. `http` describes a JSON order-query API for the generic adapter.
    """

    errors: dict[str, ErrorMeaning] = {}
    status: dict[str, dict[str, Status]] = {}
    not_found_window: str = "1h"
    not_found_answers: int = Field(2, ge=1, le=10)
    auto_accept: tuple[RequeryKind, ...] = ()
    auto_accept_max: dict[str, Money] = {}
    http: HttpJson | None = None

    _window = field_validator("not_found_window")(_duration)

    @field_validator("auto_accept_max")
    @classmethod
    def _caps(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for currency, cap in value.items():
            if len(currency) != 3 or not currency.isupper() or cap < 0:
                raise ValueError(f"{currency}: needs an ISO 4217 code and an amount of at least 0")
        return value

    def error_meaning(self, code: object) -> ErrorMeaning:
        return "UNKNOWN" if code is None else self.errors.get(str(code).strip(), "UNKNOWN")

    def meaning(self, field: str, code: object) -> Status:
        """The business state; anything the rules do not name explicitly is UNKNOWN."""
        if code is None:
            return "UNKNOWN"
        return self.status.get(field, {}).get(str(code).strip(), "UNKNOWN")


class RuleSet(StrictModel):
    name: str
    version: str = "1"
    description: str = ""
    # status.<field>.<raw code> = SUCCESS | FAILED | UNKNOWN
    status: dict[str, dict[str, Status]] = {}
    # currency -> exponent, where the channel departs from ISO 4217
    currency_exponent: dict[str, int] = {}
    match: MatchRules = MatchRules()
    requery: RequeryRules = RequeryRules()

    def status_of(self, field: str, code: str | None) -> Status:
        """Map a raw code; anything the rules do not name explicitly is UNKNOWN."""
        if code is None:
            return "UNKNOWN"
        return self.status.get(field, {}).get(code.strip(), "UNKNOWN")

    def exponent_override(self, currency: str) -> int | None:
        return self.currency_exponent.get(currency)
