"""`recon check`: everything that can be wrong with a workspace, said before its first night.

A typo in `fetch.path` otherwise looks exactly like a late statement until the deadline; a wrong
`format` or `rules` name fails only after fetching. Here each class of mistake is looked for up
front and reported as one line naming the setting: format ids, rule sets that exist and load, retry
and deadline specs, folders that path templates point into, key files and known_hosts, environment
variables that settings name, the store (reachable, migrated) and our internal source (its folder,
or its SQL connection). `connect=True` also opens each transport (an SSH handshake with the
host-key check, an HTTP request to the listing endpoint) and asks what it has for a day, without
downloading anything. `recon run` makes the static checks at start.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa

from jobs import schedule
from jobs.transports import load_transport
from jobs.transports.options import FetchOptions
from parsers.registry import get_parser
from recon.config.secrets import secret_from_env
from recon.errors import ConfigError, ReconError
from recon.store.engine import open_store
from recon.workspace import Workspace

_TEMPLATED = re.compile(r"[{*?\[]")
_KEY_FILES = {"key_file": True, "known_hosts": False, "private_key_file": True, "platform_public_key_file": False}
_ENV_KEYS = ("password_env", "key_passphrase_env", "headers_env", "api_key_env")


def problems(ws: Workspace, *, connect: bool = False, day: dt.date | None = None) -> list[str]:
    """One line per problem found; empty when the workspace is ready to run."""
    found: list[str] = []
    for check in (_store, _environment, *(_channel_checks(ws, name) for name in sorted(ws.settings.channels))):
        found.extend(_collect(check, ws))
    if connect and not found:
        when = day or ws.today() - dt.timedelta(days=1)
        for name in sorted(ws.settings.channels):
            found.extend(_collect(lambda w, n=name: _connect(w, n, when), ws))
    return found


def _collect(check: Callable[[Workspace], Iterator[str]], ws: Workspace) -> list[str]:
    try:
        return list(check(ws))
    except ReconError as exc:
        return [str(exc)]


def _store(ws: Workspace) -> Iterator[str]:
    try:
        with open_store(ws.store_url()).connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except ReconError:
        raise
    except Exception as exc:  # any driver's error: said as one line naming the setting
        yield f"store.url: cannot open the store: {type(exc).__name__}: {str(exc).splitlines()[0]}"


def _environment(ws: Workspace) -> Iterator[str]:
    named = [("store.password_env", ws.settings.store.password_env),
             ("alerts.webhook_env", ws.settings.alerts.webhook_env)]
    for setting, variable in named:
        try:
            secret_from_env(variable, setting=setting)
        except ConfigError as exc:
            yield str(exc)


def _channel_checks(ws: Workspace, name: str) -> Callable[[Workspace], Iterator[str]]:
    def check(w: Workspace) -> Iterator[str]:
        cfg = w.settings.channel(name)
        yield from _collect(lambda _: _format_and_rules(w, name), w)
        if cfg.fetch is not None:
            yield from _collect(lambda _: _fetch(w, name), w)
        yield from _collect(lambda _: _internal(w, name), w)
        if cfg.requery is not None:
            yield from _env_of(f"channels.{name}.requery", cfg.requery)
            yield from _files_of(w, f"channels.{name}.requery", cfg.requery)
    return check


def _format_and_rules(ws: Workspace, name: str) -> Iterator[str]:
    cfg = ws.settings.channel(name)
    try:
        get_parser(cfg.format)
    except ReconError as exc:
        yield f"channels.{name}.format: {exc}"
        return
    try:
        ws.catalog.rule_set(name)
    except ReconError as exc:
        yield f"channels.{name}.rules: {exc}"


def _fetch(ws: Workspace, name: str) -> Iterator[str]:
    options = FetchOptions.for_channel(ws, name)
    for key, check in (("retry", lambda: schedule.waits(options.retry, setting=options.setting("retry"))),
                       ("deadline", lambda: schedule.deadline_at(options.deadline, ws.today(), ws.channel_zone(name),
                                                                  setting=options.setting("deadline")))):
        try:
            check()
        except ConfigError as exc:
            yield str(exc)
    path = getattr(options, "path", None)
    if options.transport == "local":
        if not path:
            yield f"{options.setting('path')} is required for transport = \"local\""
        elif not (folder := _fixed_folder(ws, path)).is_dir():
            yield f"{options.setting('path')}: folder {folder} does not exist (a typo would look like a late statement)"
    if options.transport == "sftp":
        for key in ("host", "username", "remote_path"):
            if not getattr(options, key, None):
                yield f"{options.setting(key)} is required for transport = \"sftp\""
        if not options.known_hosts:
            yield f"{options.setting('known_hosts')} is required: host keys are always verified"
    if options.transport == "http" and options.api == "generic" and not options.url:
        yield f"{options.setting('url')} is required for transport = \"http\""
    yield from _env_of(f"channels.{name}.fetch", options)
    yield from _files_of(ws, f"channels.{name}.fetch", options)


def _fixed_folder(ws: Workspace, template: str) -> Path:
    """The deepest folder of a path template that does not depend on the date or a glob."""
    parts = Path(template).parts[:-1]
    fixed = []
    for part in parts:
        if _TEMPLATED.search(part):
            break
        fixed.append(part)
    return ws.resolve(str(Path(*fixed))) if fixed else ws.root


def _env_of(table: str, options) -> Iterator[str]:
    for key in _ENV_KEYS:
        variable = getattr(options, key, None)
        try:
            secret_from_env(variable, setting=f"{table}.{key}")
        except ConfigError as exc:
            yield str(exc)


def _files_of(ws: Workspace, table: str, options) -> Iterator[str]:
    for key in _KEY_FILES:
        value = getattr(options, key, None)
        if not value:
            continue
        path = Path(value).expanduser()
        path = path if path.is_absolute() else ws.root / path
        if not path.is_file():
            yield f"{table}.{key}: {path} does not exist"


def _internal(ws: Workspace, name: str) -> Iterator[str]:
    cfg = ws.settings.channel(name).internal
    where = f"channels.{name}.internal"
    if cfg.source == "file":
        if not cfg.path:
            yield f"{where}.path is required when source = \"file\""
        elif not (folder := _fixed_folder(ws, cfg.path)).is_dir():
            yield f"{where}.path: folder {folder} does not exist"
    elif cfg.source == "sql":
        if not cfg.url or not cfg.query:
            yield f"{where}: url and query are required when source = \"sql\""
            return
        engine = sa.create_engine(cfg.url)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:  # any driver's error, as one line
            yield f"{where}.url: cannot connect: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        finally:
            engine.dispose()


def _connect(ws: Workspace, name: str, day: dt.date) -> Iterator[str]:
    if ws.settings.channel(name).fetch is None:
        return
    options = FetchOptions.for_channel(ws, name)
    try:
        with load_transport(options) as transport:
            found = transport.discover(day)  # what is there for the day; nothing is downloaded
            client = getattr(transport, "client", None)
            for remote in found.files if client is not None else ():
                # a direct URL is only "discovered" by its template: ask for its headers, not its body
                if isinstance(remote.handle, str) and remote.handle.startswith(("http://", "https://")):
                    client.head(remote.handle)
    except ReconError as exc:
        yield f"channels.{name}.fetch: {options.transport} connection failed: {exc}"
    except Exception as exc:  # a driver's own error (DNS, refused port): one line, never a traceback
        yield f"channels.{name}.fetch: {options.transport} connection failed: {type(exc).__name__}: {exc}"
