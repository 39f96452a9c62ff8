"""Opening a workspace: its settings, plus what the parsers and the rule files say about its channels.

The library (recon/) cannot import parsers or rules (they sit above it), yet it must know which
channels are banks, which only report payouts, and which rule set each channel follows. This is the
one place those answers come from: a channel's kind and default rule family are declared by its
format's parser, and rule files are found by `rules.loader.RuleBook` (built-in, then the
workspace's override). Every command and job opens its workspace here.
"""

from __future__ import annotations

from pathlib import Path

from jobs.transports.plugins import registered, transport_names
from parsers.registry import get_parser
from recon.config.fetch import HttpFetch
from recon.config.ruleset import RuleSet
from recon.config.settings import CONFIG_NAME, Settings
from recon.errors import ConfigError
from recon.config.toml import TomlDocument
from recon.workspace import ChannelKind, Workspace
from rules.loader import RuleBook


class ChannelCatalog:
    """A `recon.workspace.Catalog` from the installed parsers and the rule files."""

    def __init__(self, settings: Settings, workspace_rules: Path | None) -> None:
        self.settings = settings
        self.book = RuleBook(workspace_rules)

    def kind(self, channel: str) -> ChannelKind:
        return get_parser(self.settings.channel(channel).format).kind

    def rule_set(self, channel: str) -> RuleSet:
        """The channel's `rules`, else the rule family its format's parser declares."""
        cfg = self.settings.channel(channel)
        return self.book.rule_set(cfg.rules or get_parser(cfg.format).rule_family)

    def named_rule_set(self, name: str) -> RuleSet:
        return self.book.rule_set(name)

    def document(self, name: str) -> TomlDocument:
        return self.book.document(name)

    def rule_files(self) -> list[Path]:
        return self.book.files()


def open_workspace(root: Path | str | None = None) -> Workspace:
    """The workspace at `root` (else $RECON_WORKSPACE, else the current folder).

    Names that only installed plugins can answer (a transport, an HTTP API flow) are checked here,
    so a typo fails when the workspace is opened, as an unknown key in recon.toml does.
    """
    base, settings = Workspace.locate(root)
    for name, channel in sorted(settings.channels.items()):
        fetch = channel.fetch
        if fetch is not None:
            where = f"{base / CONFIG_NAME}: channels.{name}.fetch"
            if fetch.transport not in transport_names():
                raise ConfigError(f"{where}.transport: no fetcher {fetch.transport!r} installed "
                                  f"(known: {', '.join(transport_names())})")
            if isinstance(fetch, HttpFetch) and fetch.api != "generic" and f"http.{fetch.api}" not in registered():
                raise ConfigError(f"{where}.api: no API flow {fetch.api!r} installed")
    return Workspace(base, settings, ChannelCatalog(settings, base / "rules"))


def format_rule_set(format_id: str, workspace_rules: Path | None = None) -> RuleSet:
    """The rule set of a format outside any channel's configuration (`recon parse FILE`)."""
    return RuleBook(workspace_rules).rule_set(get_parser(format_id).rule_family)
