"""A channel's fetch settings as the transports use them: the declared table plus helpers.

`recon.config.fetch` declares the keys of `[channels.X.fetch]` per transport (validated when
recon.toml is loaded). The options of a transport are its declared table plus what every transport
needs around it (`FetchOptions`): the channel's name for messages, the workspace root that relative
key files and known_hosts resolve against, and typed access to secrets and key files
(`ChannelOptions`, which the re-query settings share).

Secrets are never values here: `*_env` names a variable, `*_file` names a key file. Files holding
private keys must not be readable by group or others (the rule OpenSSH applies).
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from recon.config.fetch import FetchCommon, HttpFetch, LocalFetch, PluginFetch, SftpFetch
from recon.config.secrets import Secret, secret_from_env
from recon.errors import ConfigError
from recon.workspace import Workspace


class ChannelOptions(BaseModel):
    """A channel's declared table (`[channels.<channel>.<TABLE>]`) with what its user needs around it."""

    model_config = ConfigDict(frozen=True)
    TABLE: ClassVar[str] = "fetch"
    ROLE: ClassVar[str] = "transport"  # what the table configures, for messages

    channel: str
    root: Path  # workspace root: relative key files and known_hosts resolve against it

    def setting(self, key: str) -> str:
        return f"channels.{self.channel}.{self.TABLE}.{key}"

    def require(self, *keys: str) -> None:
        for key in keys:
            if getattr(self, key) in (None, ""):
                raise ConfigError(f"{self.setting(key)} is required for this {self.ROLE}")

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


class FetchOptions(ChannelOptions):
    """What every transport's options carry besides its declared keys."""

    @staticmethod
    def for_channel(ws: Workspace, channel: str) -> FetchOptions:
        declared = ws.settings.channel(channel).fetch
        if declared is None:
            raise ConfigError(f"channels.{channel}.fetch is not configured in {ws.config_path}")
        return _OPTIONS[type(declared)](channel=channel, root=ws.root, **declared.model_dump())

    @property
    def idle_timeout(self) -> float:
        return self.read_timeout or self.timeout


class SftpOptions(FetchOptions, SftpFetch):
    pass


class HttpOptions(FetchOptions, HttpFetch):
    pass


class LocalOptions(FetchOptions, LocalFetch):
    pass


class PluginOptions(FetchOptions, PluginFetch):
    model_config = ConfigDict(extra="allow", frozen=True)


_OPTIONS: dict[type[FetchCommon], type[FetchOptions]] = {
    SftpFetch: SftpOptions, HttpFetch: HttpOptions, LocalFetch: LocalOptions, PluginFetch: PluginOptions}
