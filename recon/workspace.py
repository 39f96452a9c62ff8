"""A workspace: one folder holding a team's settings, raw statements, bills, results and reports.

The layout is a public contract (DESIGN.md, "A workspace"); every path below is computed here and
nowhere else, so a stage never builds a path by hand. A workspace also answers two questions the
library cannot answer itself because the answers live in the layers above it: what *kind* each
channel's statement is (a parser knows) and which rules apply (the rules package knows). The
opener (jobs.catalog.open_workspace) supplies them as a `Catalog`.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from recon.clock import business_today
from recon.config.ruleset import RuleSet
from recon.config.secrets import secret_from_env
from recon.config.settings import CONFIG_NAME, Settings, load_settings
from recon.config.toml import TomlDocument
from recon.errors import ConfigError

# What a channel's statement is: transactions (layer 1), a payout report (layer 2), a bank account
# statement with balances (layer 3). Declared by each parser (parsers.base.StatementParser.kind).
ChannelKind = Literal["channel", "bank", "payout"]


class Catalog(Protocol):
    """What the library asks about a workspace's channels and rules (answered by jobs.catalog)."""

    def kind(self, channel: str) -> ChannelKind: ...

    def rule_set(self, channel: str) -> RuleSet: ...

    def named_rule_set(self, name: str) -> RuleSet: ...

    def document(self, name: str) -> TomlDocument: ...

    def rule_files(self) -> list[Path]: ...

ENV_WORKSPACE = "RECON_WORKSPACE"

TEMPLATE = '''\
# recon workspace settings. Reference: README.md, "Configuration".
# Secrets never live here: name the environment variable (or key file) to read them from.

[store]
url = "sqlite:///recon.db"            # or "postgresql+psycopg://recon@127.0.0.1/recon"
# password_env = "RECON_DB_PASSWORD"  # PostgreSQL password, read from this variable

[defaults]
timezone = "Asia/Shanghai"            # business-day boundary; a channel may override it
lookback_days = 7                     # how far `recon run` catches up after an outage

[report]
language = "en"                       # "en" or "zh" headers in the Excel report

[match]
memory_limit = "2GB"                  # DuckDB memory limit; beyond it matching spills to temp_dir
temp_dir = "tmp/duckdb"

# One table per payment channel. The name ("wechat" here) is used everywhere.
# [channels.wechat]
# format = "wechatpay.trade"          # parser id: `recon parse --list-formats`
# account = "1900000109"              # merchant id at the channel
# rules = "wechatpay"                 # rule set: rules/<name>.toml, or <workspace>/rules/<name>.toml
#
# [channels.wechat.fetch]
# transport = "local"                 # sftp | http | local
# path = "drop/wechat_{date:%Y%m%d}.csv"
#
# [channels.wechat.internal]
# source = "file"                     # core | file | sql
# path = "internal/{date:%Y-%m-%d}.csv"
'''


def _day(date: dt.date) -> str:
    return date.isoformat()


@dataclass(frozen=True)
class Workspace:
    root: Path
    settings: Settings
    catalog: Catalog

    @staticmethod
    def locate(root: Path | str | None = None) -> tuple[Path, Settings]:
        """The workspace folder (`root`, else $RECON_WORKSPACE, else here) and its settings."""
        base = Path(root or os.environ.get(ENV_WORKSPACE) or ".").resolve()
        config = base / CONFIG_NAME
        if not config.exists():
            raise ConfigError(f"{base} is not a recon workspace (no {CONFIG_NAME})", hint=f"recon init {base}")
        return base, load_settings(config)

    # --- time ----------------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        """The workspace's business-day zone (`defaults.timezone`)."""
        return ZoneInfo(self.settings.defaults.timezone)

    def channel_zone(self, channel: str) -> ZoneInfo:
        return self.settings.channel_zone(channel)

    def today(self) -> dt.date:
        """The business date it is now in the workspace's zone (never the host's)."""
        return business_today(self.zone)

    # --- layout --------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    def raw_dir(self, channel: str, date: dt.date) -> Path:
        return self.root / "raw" / channel / _day(date)

    def bill_path(self, channel: str, date: dt.date) -> Path:
        return self.root / "bills" / channel / f"{_day(date)}.parquet"

    def balances_path(self, channel: str, date: dt.date) -> Path:
        return self.root / "bills" / channel / f"{_day(date)}.balances.parquet"

    def results_dir(self, date: dt.date) -> Path:
        return self.root / "results" / _day(date)

    def report_path(self, date: dt.date) -> Path:
        return self.root / "reports" / _day(date) / f"recon-{_day(date)}.xlsx"

    def clearing_dir(self, date: dt.date) -> Path:
        return self.root / "clearing" / _day(date)

    def requery_dir(self, date: dt.date) -> Path:
        """Archived answers of the channel's order-query API for items of business date `date`."""
        return self.root / "requery" / _day(date)

    @property
    def quarantine_dir(self) -> Path:
        return self.root / "quarantine"

    @property
    def rules_dir(self) -> Path:
        return self.root / "rules"

    @property
    def temp_dir(self) -> Path:
        return self.resolve(self.settings.match.temp_dir)

    def resolve(self, relative: str) -> Path:
        """A path from the settings, relative to the workspace unless absolute."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.root / path

    def store_url(self) -> str:
        """The SQLAlchemy URL, with a relative SQLite path anchored in the workspace."""
        url = self.settings.store.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
            return prefix + str(self.root / url[len(prefix):])
        secret = secret_from_env(self.settings.store.password_env, setting="store.password_env")
        if secret is not None:
            return make_url(url).set(password=secret.reveal()).render_as_string(hide_password=False)
        return url


def init_workspace(root: Path) -> Path:
    """Create a workspace with a commented recon.toml; refuses to overwrite an existing one."""
    root = Path(root)
    config = root / CONFIG_NAME
    if config.exists():
        raise ConfigError(f"{config} already exists; not overwriting it")
    root.mkdir(parents=True, exist_ok=True)
    # drop/ and internal/ are where the template's example channel looks: uncommented, it runs
    for sub in ("raw", "bills", "results", "reports", "quarantine", "rules", "drop", "internal"):
        (root / sub).mkdir(exist_ok=True)
    config.write_text(TEMPLATE, encoding="utf-8")
    return config
