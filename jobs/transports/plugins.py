"""Fetcher plugins: every transport and channel API flow is a `recon.fetchers` entry point.

The built-ins (`local`, `sftp`, `http`, and the HTTP flows `http.wechatpay_v3`, `http.alipay`) are
registered in pyproject.toml exactly as a third-party package registers its own, so installing a
plugin is all it takes to use `transport = "<name>"` (or `api = "<name>"` under http). A name
registered twice is an installation error naming both, never "first wins". The re-query adapters
(`recon.requery`, jobs.requery) are found the same way.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from recon.errors import ConfigError

GROUP = "recon.fetchers"


def registered(group: str = GROUP) -> dict[str, EntryPoint]:
    """The plugins of an entry-point group (fetchers by default; also `recon.requery`) by name."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
        if ep.name in found and found[ep.name].value != ep.value:
            raise ConfigError(f"two {group} plugins are named {ep.name!r}: {found[ep.name].value} and {ep.value}")
        found[ep.name] = ep
    return found


def transport_names() -> list[str]:
    return sorted(n for n in registered() if "." not in n)


def load_plugin(name: str, setting: str) -> type:
    found = registered()
    if name not in found:
        kind = "API flow" if name.startswith("http.") else "fetcher"
        known = ", ".join(sorted(n.removeprefix("http.") for n in found if ("." in n) == ("." in name)))
        raise ConfigError(f"{setting}: no {kind} {name.removeprefix('http.')!r} installed (known: {known or 'none'})")
    return found[name].load()
