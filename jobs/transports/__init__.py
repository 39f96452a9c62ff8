"""Statement transports, loaded by entry point (`recon.fetchers`) like any third-party plugin.

`load_transport(options)` builds the transport named by `[channels.X.fetch] transport`; the
built-ins (`local`, `sftp`, `http`) are registered in pyproject.toml the same way a plugin is.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from jobs.transports.base import Transport
from jobs.transports.options import FetchOptions
from recon.errors import ConfigError

GROUP = "recon.fetchers"


def available() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load_transport(options: FetchOptions) -> Transport:
    found = available()
    if options.transport not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise ConfigError(f"{options.setting('transport')}: no fetcher {options.transport!r} ({known})")
    cls = found[options.transport].load()
    return cls(options)
