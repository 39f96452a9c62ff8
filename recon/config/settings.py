"""recon.toml: every setting declared in one table, validated at the edge.

The models below *are* the configuration reference (the README's table is checked against them by a
test). Unknown keys are errors, not ignored: a typo like `pasword_env` would otherwise silently fall
back to a default. A bad value is reported with its dotted key and the file (recon.config.toml).
Secrets never live in the file: it names environment variables or key files (recon.config.secrets).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from recon.config.fetch import FetchSettings
from recon.config.fx import FxSettings
from recon.config.toml import Money, StrictModel, TomlDocument, read_toml, validate
from recon.errors import ConfigError

CONFIG_NAME = "recon.toml"


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class StoreSettings(StrictModel):
    url: str = "sqlite:///recon.db"
    password_env: str | None = None  # the PostgreSQL password, read from this variable


class DefaultSettings(StrictModel):
    timezone: str = "Asia/Shanghai"
    lookback_days: int = Field(7, ge=1, le=366)
    lease_seconds: int = Field(600, ge=1)  # a crashed run's claim on a day expires after this

    _zone = field_validator("timezone")(_check_zone)


class InternalSettings(StrictModel):
    source: Literal["core", "file", "sql"] = "core"
    path: str | None = None  # file: a date template, CSV or Parquet
    url: str | None = None  # sql: any SQLAlchemy URL
    query: str | None = None  # sql: bound parameters :date and :channel


class RequerySettings(StrictModel):
    """`[channels.X.requery]`: asking the channel's order-query API about queue items (jobs.requery)."""

    adapter: str  # a `recon.requery` plugin: wechatpay_v3, alipay, stripe, http
    in_run: bool = True  # re-query due items at the end of `recon run`; false: only by hand
    url: str | None = None  # the API's base URL (default: the channel's production host)
    # keys and ids; WeChat Pay and Alipay take any left out here from [channels.X.fetch]
    mchid: str | None = None
    serial_no: str | None = None
    app_id: str | None = None
    private_key_file: str | None = None
    platform_public_key_file: str | None = None  # required: every answer is verified with it
    api_key_env: str | None = None  # Stripe's secret key, or the generic adapter's credential
    # pace and schedule
    rate: float = Field(5.0, gt=0)  # requests per second at most
    max_per_run: int = Field(100, ge=1)  # items asked per channel and run; the rest wait for the next
    retry: tuple[str, ...] = ("10m", "30m", "2h", "6h")  # waits after an UNKNOWN answer
    attempts: int = Field(5, ge=1, le=50)  # after this many answers without an explicit result: MANUAL
    timeout: float = Field(10.0, gt=0)


Engine = Literal["duckdb", "spark"]


class ChannelMatchSettings(StrictModel):
    engine: Engine | None = None  # this channel's layer-1 engine; default: [match] engine


class ChannelSettings(StrictModel):
    format: str
    account: str = ""
    rules: str | None = None  # rule set name; defaults to the channel's format family
    timezone: str | None = None
    fetch: FetchSettings | None = None
    internal: InternalSettings = InternalSettings()
    requery: RequerySettings | None = None
    match: ChannelMatchSettings = ChannelMatchSettings()
    fx: FxSettings | None = None  # this channel's [fx], over the workspace's (recon.config.fx)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_zone(value)


class SparkSettings(StrictModel):
    master: str | None = None  # "local[4]", "spark://host:7077", "yarn"; default local[*]
    remote: str | None = None  # Spark Connect instead: "sc://host:15002"
    staging: str = "tmp/spark"  # a folder recon and every Spark executor see at the same path
    conf: dict[str, str] = {}  # extra Spark settings; recon's exactness settings always win

    @model_validator(mode="after")
    def _one_target(self) -> SparkSettings:
        if self.master is not None and self.remote is not None:
            raise ValueError("set master or remote, not both")
        return self


class MatchSettings(StrictModel):
    engine: Engine = "duckdb"  # where layer 1 runs: the local DuckDB, or a Spark cluster
    memory_limit: str = "2GB"  # DuckDB's memory_limit; beyond it DuckDB spills to temp_dir
    temp_dir: str = "tmp/duckdb"
    threads: int | None = Field(None, ge=1)
    spark: SparkSettings = SparkSettings()


class ReportSettings(StrictModel):
    language: Literal["en", "zh"] = "en"


class QueueSettings(StrictModel):
    medium_amount: Money = Decimal("100")  # severity: amounts at stake from here score higher
    high_amount: Money = Decimal("10000")
    warn_age_days: int = Field(3, ge=0)  # severity: items older than this score higher
    critical_age_days: int = Field(7, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> QueueSettings:
        if self.medium_amount > self.high_amount or self.warn_age_days > self.critical_age_days:
            raise ValueError("medium_amount/warn_age_days must not exceed high_amount/critical_age_days")
        return self


class AlertSettings(StrictModel):
    webhook_env: str | None = None  # environment variable holding the webhook URL
    discrepancy_threshold: Money | None = None  # alert when a day's discrepancy amount passes this


class Settings(StrictModel):
    store: StoreSettings = StoreSettings()
    defaults: DefaultSettings = DefaultSettings()
    channels: dict[str, ChannelSettings] = {}
    match: MatchSettings = MatchSettings()
    report: ReportSettings = ReportSettings()
    alerts: AlertSettings = AlertSettings()
    queue: QueueSettings = QueueSettings()
    fx: FxSettings = FxSettings()  # comparing pairs across currencies (recon.config.fx)

    @field_validator("channels")
    @classmethod
    def _names(cls, value: dict[str, ChannelSettings]) -> dict[str, ChannelSettings]:
        for name in value:
            if not name.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"channel name {name!r} may use letters, digits, '-' and '_' only")
        return value

    def channel(self, name: str) -> ChannelSettings:
        try:
            return self.channels[name]
        except KeyError:
            known = ", ".join(sorted(self.channels)) or "none"
            raise ConfigError(f"no channel {name!r} in {CONFIG_NAME} (configured: {known})") from None

    def channel_zone(self, name: str) -> ZoneInfo:
        return ZoneInfo(self.channel(name).timezone or self.defaults.timezone)


def load_settings(path: Path) -> Settings:
    """Read and validate `recon.toml`; errors name the file and the dotted key."""
    if not path.exists():
        raise ConfigError(f"{path}: not found", hint=f"recon init {path.parent}")
    return parse_settings(read_toml(path), str(path))


def parse_settings(data: dict, source: str) -> Settings:
    return validate(Settings, TomlDocument(data, source))
