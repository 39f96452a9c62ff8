"""recon.toml: every setting declared in one table, validated at the edge.

The models below *are* the configuration reference (the README's table is checked against them by a
test). Unknown keys are errors, not ignored: a typo like `pasword_env` would otherwise silently fall
back to a default. A bad value is reported with its dotted key and the file. Secrets never live in
the file: it names environment variables or key files; `Secret` keeps a value out of reprs and logs.
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from recon.errors import ConfigError

CONFIG_NAME = "recon.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class StoreSettings(_Strict):
    url: str = "sqlite:///recon.db"
    password_env: str | None = None  # the PostgreSQL password, read from this variable


class DefaultSettings(_Strict):
    timezone: str = "Asia/Shanghai"
    lookback_days: int = Field(7, ge=1, le=366)
    lease_seconds: int = Field(600, ge=1)  # a crashed run's claim on a day expires after this

    _zone = field_validator("timezone")(_check_zone)


class FetchSettings(_Strict):
    transport: Literal["sftp", "http", "local"]
    # sftp
    host: str | None = None
    port: int = Field(22, ge=1, le=65535)
    username: str | None = None
    password_env: str | None = None
    key_file: str | None = None
    key_passphrase_env: str | None = None
    known_hosts: str | None = None
    remote_path: str | None = None
    # http
    url: str | None = None
    headers_env: str | None = None
    flow: Literal["direct", "two_step"] = "direct"
    # local
    path: str | None = None
    done_marker: str | None = None  # "{name}.done" or "READY_{date:%Y%m%d}": take files only once it exists
    stable_wait: float = Field(2.0, ge=0)  # seconds between the two size checks of a file being written
    keepalive: int = Field(30, ge=0)  # SSH keepalive interval, seconds
    # channel APIs (http): WeChat Pay v3 and Alipay bill download
    api: Literal["generic", "wechatpay_v3", "alipay"] = "generic"
    private_key_file: str | None = None  # the merchant's signing key (PEM), never inline
    platform_public_key_file: str | None = None  # the channel's public key, for verifying its answers
    mchid: str | None = None
    serial_no: str | None = None
    app_id: str | None = None
    bill_type: str | None = None
    account_type: str | None = None
    # schedule and limits
    retry: tuple[str, ...] = ("10m", "20m", "40m", "80m")
    deadline: str = "D+1 12:00"
    timeout: float = Field(30.0, gt=0)
    read_timeout: float | None = Field(None, gt=0)
    transient_attempts: int = Field(4, ge=1, le=20)  # tries within one attempt for timeouts and 5xx
    backoff: float = Field(2.0, ge=0)
    backoff_max: float = Field(120.0, ge=0)
    max_unpacked_bytes: int = Field(4 << 30, gt=0)  # a gzip/zip that inflates beyond this is refused
    unpack: bool = True


class InternalSettings(_Strict):
    source: Literal["core", "file", "sql"] = "core"
    path: str | None = None  # file: a date template, CSV or Parquet
    url: str | None = None  # sql: any SQLAlchemy URL
    query: str | None = None  # sql: bound parameters :date and :channel


class ChannelSettings(_Strict):
    format: str
    account: str = ""
    rules: str | None = None  # rule set name; defaults to the channel's format family
    timezone: str | None = None
    fetch: FetchSettings | None = None
    internal: InternalSettings = InternalSettings()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_zone(value)


class MatchSettings(_Strict):
    memory_limit: str = "2GB"  # DuckDB's memory_limit; beyond it DuckDB spills to temp_dir
    temp_dir: str = "tmp/duckdb"
    threads: int | None = Field(None, ge=1)


class ReportSettings(_Strict):
    language: Literal["en", "zh"] = "en"


class QueueSettings(_Strict):
    medium_amount: Decimal = Decimal("100")  # severity: amounts at stake from here score higher
    high_amount: Decimal = Decimal("10000")
    warn_age_days: int = Field(3, ge=0)  # severity: items older than this score higher
    critical_age_days: int = Field(7, ge=0)


class AlertSettings(_Strict):
    webhook_env: str | None = None  # environment variable holding the webhook URL
    discrepancy_threshold: Decimal | None = None  # alert when a day's discrepancy amount passes this


class Settings(_Strict):
    store: StoreSettings = StoreSettings()
    defaults: DefaultSettings = DefaultSettings()
    channels: dict[str, ChannelSettings] = {}
    match: MatchSettings = MatchSettings()
    report: ReportSettings = ReportSettings()
    alerts: AlertSettings = AlertSettings()
    queue: QueueSettings = QueueSettings()

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
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found", hint=f"recon init {path.parent}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_settings(data, str(path))


def parse_settings(data: dict, source: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{source}: {key}: {reason}{more}") from None


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
