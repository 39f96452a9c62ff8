"""A channel's fetch settings as the transports use them: the declared table plus the keys to come.

`recon.config.FetchSettings` declares the contract keys of `[channels.X.fetch]`. Transports need a
few more (signing keys and merchant ids for the channel APIs, timeouts, the in-attempt retry
budget, unpack limits). Until `FetchSettings` declares them, they are read here from the same
table of recon.toml, validated by `FetchOptions` (unknown keys are still errors). Once the lead
adds them to `FetchSettings`, the values come from the model and the raw read becomes a no-op.

Secrets are never values here: `*_env` names a variable, `*_file` names a key file. Files holding
private keys must not be readable by group or others (the rule OpenSSH applies).
"""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recon.config import FetchSettings, Secret, secret_from_env
from recon.errors import ConfigError

MiB = 1 << 20


class FetchOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str
    root: Path  # workspace root: relative key files and known_hosts resolve against it
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
    done_marker: str | None = None  # e.g. "{name}.done" or "/outgoing/{date:%Y%m%d}/READY"
    stable_wait: float = Field(2.0, ge=0)  # seconds between the two size checks
    keepalive: int = Field(30, ge=0)
    # http
    url: str | None = None
    headers_env: str | None = None
    flow: Literal["direct", "two_step"] = "direct"
    api: Literal["generic", "wechatpay_v3", "alipay"] = "generic"
    # channel APIs (WeChat Pay v3, Alipay)
    private_key_file: str | None = None
    mchid: str | None = None
    serial_no: str | None = None
    app_id: str | None = None
    bill_type: str | None = None  # WeChat: ALL|SUCCESS|REFUND (tradebill); Alipay: trade|signcustomer
    account_type: str | None = None  # WeChat fund-flow bill: BASIC|OPERATION|FEES
    platform_public_key_file: str | None = None  # verifies the channel's signed API answers
    # local
    path: str | None = None
    # schedule and limits
    retry: tuple[str, ...] = ("10m", "20m", "40m", "80m")
    deadline: str = "D+1 12:00"
    timeout: float = Field(30.0, gt=0)  # connect timeout
    read_timeout: float | None = Field(None, gt=0)  # idle read timeout; defaults to `timeout`
    transient_attempts: int = Field(4, ge=1, le=20)
    backoff: float = Field(2.0, ge=0)  # first wait between tries; doubles, capped by backoff_max
    backoff_max: float = Field(120.0, ge=0)
    max_unpacked_bytes: int = Field(4096 * MiB, gt=0)
    unpack: bool = True

    # --- construction --------------------------------------------------------------------------
    @classmethod
    def for_channel(cls, ws, channel: str) -> FetchOptions:  # ws: recon.workspace.Workspace
        declared = ws.settings.channel(channel).fetch
        if declared is None:
            raise ConfigError(f"channels.{channel}.fetch is not configured in {ws.config_path}")
        values = {k: v for k, v in declared.model_dump().items() if k in cls.model_fields}
        extra = set(cls.model_fields) - set(FetchSettings.model_fields) - {"channel", "root"}
        raw = _raw_fetch_table(ws.config_path, channel)
        values.update({k: v for k, v in raw.items() if k in extra and k not in values})
        unknown = set(raw) - set(cls.model_fields)
        if unknown:
            raise ConfigError(f"{ws.config_path}: channels.{channel}.fetch.{sorted(unknown)[0]}: unknown key")
        try:
            return cls(channel=channel, root=ws.root, **values)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"{ws.config_path}: channels.{channel}.fetch.{key}: {err['msg']}") from None

    # --- typed access --------------------------------------------------------------------------
    @property
    def idle_timeout(self) -> float:
        return self.read_timeout or self.timeout

    def setting(self, key: str) -> str:
        return f"channels.{self.channel}.fetch.{key}"

    def require(self, *keys: str) -> None:
        for key in keys:
            if getattr(self, key) in (None, ""):
                raise ConfigError(f"{self.setting(key)} is required for this transport")

    def secret(self, key: str) -> Secret | None:
        return secret_from_env(getattr(self, key), setting=self.setting(key))

    def file(self, key: str, *, private: bool = False) -> Path:
        """A file named by a setting; a private key readable by others is refused."""
        self.require(key)
        path = Path(getattr(self, key)).expanduser()
        path = path if path.is_absolute() else self.root / path
        if not path.is_file():
            raise ConfigError(f"{self.setting(key)}: {path} does not exist")
        if private and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"{self.setting(key)}: {path} is readable by group or others; chmod 600 it")
        return path


def _raw_fetch_table(config: Path, channel: str) -> dict:
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}  # load_settings already validated the file; nothing extra to read
    table = data.get("channels", {}).get(channel, {}).get("fetch", {})
    return table if isinstance(table, dict) else {}
