"""SFTP statements (paramiko): a pinned host key, secrets from the environment, verified copies.

The channel's server is trusted only if its host key is in the workspace's `known_hosts`: the
client loads that file and uses paramiko's `RejectPolicy`, so an unknown or changed key stops the
connection *before* any credential is sent (`HostKeyRefused`, exit 2). Auto-adding keys would let
anyone on the path impersonate the channel.

paramiko's `SFTPClient.get()` only checks that the local file has as many bytes as it copied, not
that the remote file is complete. So the copy here streams with a sha256, then stats the remote
file again: the size before, the bytes copied and the size after must all agree. A dropped
connection raises a transient fault; `jobs.fetch` discards the temporary file and tries again.
Timeouts: `timeout` bounds connect, banner and auth; `read_timeout` bounds each read; `keepalive`
keeps idle NATs from dropping a long listing.
"""

from __future__ import annotations

import socket
import stat as stat_mod
from pathlib import Path

import paramiko

from jobs.transports.base import Downloaded, HostKeyRefused, PermanentFault, RemoteFile, TransientFault, copy_hashed
from jobs.transports.folder import FolderTransport
from jobs.transports.options import FetchOptions
from recon.errors import ConfigError

_TRANSIENT = (socket.timeout, TimeoutError, EOFError, ConnectionError, OSError, paramiko.SSHException)


class SftpTransport(FolderTransport):
    path_key = "remote_path"

    def __init__(self, options: FetchOptions) -> None:
        options.require("host", "username", "known_hosts", "remote_path")
        if not (options.password_env or options.key_file):
            raise ConfigError(f"{options.setting('password_env')} or {options.setting('key_file')} is required")
        super().__init__(options)
        self.client: paramiko.SSHClient | None = None
        self.sftp: paramiko.SFTPClient | None = None

    # --- connection ------------------------------------------------------------------------
    def __enter__(self) -> SftpTransport:
        o = self.options
        known_hosts = o.file("known_hosts")
        password = o.secret("password_env")
        pkey = None
        if o.key_file:
            passphrase = o.secret("key_passphrase_env")
            try:
                pkey = paramiko.PKey.from_path(o.file("key_file", private=True),
                                               passphrase.reveal().encode() if passphrase else None)
            except (paramiko.SSHException, ValueError, TypeError) as exc:
                raise ConfigError(f"{o.setting('key_file')}: cannot load the private key ({type(exc).__name__})") from None
        client = paramiko.SSHClient()
        client.load_host_keys(str(known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(o.host, port=o.port, username=o.username,
                           password=password.reveal() if password else None, pkey=pkey,
                           timeout=o.timeout, banner_timeout=o.timeout, auth_timeout=o.timeout,
                           channel_timeout=o.timeout, allow_agent=False, look_for_keys=False)
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyRefused(
                f"{self._where()}: host key CHANGED (server offers {exc.key.get_name()} "
                f"{exc.key.fingerprint}); refusing to connect, nothing was sent",
                hint=f"confirm the new key with the channel, then update {known_hosts}") from None
        except paramiko.AuthenticationException:
            client.close()
            raise PermanentFault(f"{self._where()}: authentication failed for user {o.username!r}",
                                 hint=f"check {o.setting('password_env' if password else 'key_file')}") from None
        except paramiko.SSHException as exc:
            client.close()
            if "not found in known_hosts" in str(exc):
                raise HostKeyRefused(f"{self._where()}: host key UNKNOWN (not in {known_hosts}); refusing to connect",
                                     hint=f"get the key from the channel and add it to {known_hosts}") from None
            raise TransientFault(f"{self._where()}: SSH failed: {exc}") from None
        except (socket.timeout, TimeoutError, OSError) as exc:
            client.close()
            raise TransientFault(f"{self._where()}: cannot connect ({type(exc).__name__}: {exc})") from None
        transport = client.get_transport()
        if transport is not None and o.keepalive:
            transport.set_keepalive(o.keepalive)
        self.client = client
        try:
            self.sftp = client.open_sftp()
            self.sftp.get_channel().settimeout(o.idle_timeout)
        except _TRANSIENT as exc:
            self.__exit__()
            raise TransientFault(f"{self._where()}: SFTP session failed ({type(exc).__name__})") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        self.client = self.sftp = None

    def _where(self) -> str:
        return f"sftp://{self.options.username}@{self.options.host}:{self.options.port}"

    # --- folder primitives -----------------------------------------------------------------
    def listdir(self, folder: str) -> list[str] | None:
        try:
            return [a.filename for a in self.sftp.listdir_attr(folder)
                    if a.st_mode is None or not stat_mod.S_ISDIR(a.st_mode)]
        except FileNotFoundError:
            return None
        except _TRANSIENT as exc:
            raise TransientFault(f"{self.source(folder)}: listing failed ({type(exc).__name__})") from None

    def stat(self, path: str) -> tuple[int, float] | None:
        try:
            st = self.sftp.stat(path)
        except FileNotFoundError:
            return None
        except _TRANSIENT as exc:
            raise TransientFault(f"{self.source(path)}: stat failed ({type(exc).__name__})") from None
        return int(st.st_size or 0), float(st.st_mtime or 0)

    def read_small(self, path: str, limit: int = 4096) -> bytes:
        with self.sftp.open(path, "rb") as fh:
            return fh.read(limit)

    def source(self, path: str) -> str:
        return f"{self._where()}{path if path.startswith('/') else '/' + path}"

    # --- copy ------------------------------------------------------------------------------
    def download(self, remote: RemoteFile, dest: Path) -> Downloaded:
        path = str(remote.handle)
        try:
            before = self.stat(path)
            if before is None:
                raise TransientFault(f"{remote.source} vanished before the copy")
            with self.sftp.open(path, "rb") as fh:
                fh.prefetch(before[0])
                size, sha = copy_hashed(iter(lambda: fh.read(1 << 18), b""), dest)
            after = self.stat(path)
        except PermissionError:
            raise PermanentFault(f"{remote.source}: permission denied") from None
        except _TRANSIENT as exc:
            raise TransientFault(f"{remote.source}: transfer interrupted ({type(exc).__name__}: {exc})") from None
        if after is None or not (before[0] == size == after[0]) or before[1] != after[1]:
            raise TransientFault(f"{remote.source}: remote size {before[0]} -> {after and after[0]}, "
                                 f"copied {size} bytes: the file changed or the copy is short")
        return Downloaded(dest, size, sha, remote_size=after[0])
