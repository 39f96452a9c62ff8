"""`[channels.<name>.fetch]`: how a channel's statement is fetched, one table per transport.

The table is a union discriminated by `transport`: each built-in transport (sftp, http, local)
declares exactly its own keys, so `host` under a local drop folder is an unknown key, not a silently
ignored one. Every transport shares the schedule and limits (`retry`, `deadline`, timeouts, unpack
limits). A third-party transport, registered as a `recon.fetchers` entry point, gets the shared
keys validated here and its own keys passed through to it; the plugin validates them when loaded
(`recon check` loads every configured transport, so a typo there still fails before the night).

Secrets are never values: `*_env` names an environment variable and `*_file` a key file.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Discriminator, Field, Tag

from recon.config.toml import StrictModel

BUILTIN_TRANSPORTS = ("sftp", "http", "local")


class FetchCommon(StrictModel):
    """The schedule and limits every transport shares."""

    transport: str
    retry: tuple[str, ...] = ("10m", "20m", "40m", "80m")  # escalating waits between attempts
    deadline: str = "D+1 12:00"  # after this the day is MANUAL
    timeout: float = Field(30.0, gt=0)
    read_timeout: float | None = Field(None, gt=0)  # longest silence between two reads
    download_timeout: float = Field(1800.0, gt=0)  # longest a whole body may take (a stalled drip ends)
    transient_attempts: int = Field(4, ge=1, le=20)  # tries within one attempt for timeouts and 5xx
    backoff: float = Field(2.0, ge=0)
    backoff_max: float = Field(120.0, ge=0)
    max_unpacked_bytes: int = Field(4 << 30, gt=0)  # a gzip/zip that inflates beyond this is refused
    unpack: bool = True


class _Folder(FetchCommon):
    """A folder another system writes into (remote or local): when is a file complete?"""

    done_marker: str | None = None  # "{name}.done" or "READY_{date:%Y%m%d}": take files only once it exists
    stable_wait: float = Field(2.0, ge=0)  # seconds between the two size checks of a file being written


class SftpFetch(_Folder):
    transport: Literal["sftp"]
    host: str | None = None
    port: int = Field(22, ge=1, le=65535)
    username: str | None = None
    password_env: str | None = None
    key_file: str | None = None
    key_passphrase_env: str | None = None
    known_hosts: str | None = None
    remote_path: str | None = None
    keepalive: int = Field(30, ge=0)  # SSH keepalive interval, seconds


class HttpFetch(FetchCommon):
    transport: Literal["http"]
    url: str | None = None
    headers_env: str | None = None
    flow: Literal["direct", "two_step"] = "direct"
    # a channel's signed bill-download API, a `recon.fetchers` plugin named "http.<api>"
    api: str = "generic"
    private_key_file: str | None = None  # the merchant's signing key (PEM), never inline
    platform_public_key_file: str | None = None  # the channel's public key, for verifying its answers
    mchid: str | None = None
    serial_no: str | None = None
    app_id: str | None = None
    bill_type: str | None = None
    account_type: str | None = None


class LocalFetch(_Folder):
    transport: Literal["local"]
    path: str | None = None


class PluginFetch(FetchCommon):
    """A third-party transport: its own keys pass through to the plugin, which validates them."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @property
    def plugin_options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def _transport_of(value: Any) -> str:
    name = value.get("transport") if isinstance(value, dict) else getattr(value, "transport", None)
    return f"transport={name if name in BUILTIN_TRANSPORTS else 'plugin'}"


FetchSettings = Annotated[
    Annotated[SftpFetch, Tag("transport=sftp")] | Annotated[HttpFetch, Tag("transport=http")] | Annotated[LocalFetch, Tag("transport=local")]
    | Annotated[PluginFetch, Tag("transport=plugin")],
    Discriminator(_transport_of),
]
