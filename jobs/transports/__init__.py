"""Statement transports, loaded by entry point (`recon.fetchers`) like any third-party plugin.

`load_transport(options)` builds the transport named by `[channels.X.fetch] transport`; the
built-ins (`local`, `sftp`, `http`) are registered in pyproject.toml the same way a plugin is
(jobs.transports.plugins).
"""

from __future__ import annotations

from jobs.transports.base import Transport
from jobs.transports.options import FetchOptions
from jobs.transports.plugins import load_plugin


def load_transport(options: FetchOptions) -> Transport:
    return load_plugin(options.transport, options.setting("transport"))(options)
