"""A channel's re-query settings as the adapters use them: `[channels.X.requery]` plus helpers.

WeChat Pay and Alipay sign with the same keys for the bill download and the order query, so the
ids and key files left out of `[channels.X.requery]` are taken from `[channels.X.fetch]`: a
workspace names each key file once. The schedule (`retry`, `attempts`) is the fetch schedule's
(jobs.schedule): escalating waits after each UNKNOWN answer, the last wait repeating.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from jobs import schedule
from jobs.transports.options import ChannelOptions
from recon.config.fetch import HttpFetch
from recon.config.settings import RequerySettings
from recon.errors import ConfigError
from recon.workspace import Workspace

SHARED_WITH_FETCH = ("url", "mchid", "serial_no", "app_id", "private_key_file", "platform_public_key_file")


class RequeryOptions(ChannelOptions, RequerySettings):
    TABLE: ClassVar[str] = "requery"
    ROLE: ClassVar[str] = "adapter"
    account: str = ""

    @classmethod
    def for_channel(cls, ws: Workspace, channel: str) -> RequeryOptions:
        cfg = ws.settings.channel(channel)
        if cfg.requery is None:
            raise ConfigError(f"channels.{channel}.requery is not configured in {ws.config_path}",
                              hint="README.md, 'Re-query (主动查询)'")
        values = cfg.requery.model_dump()
        if isinstance(cfg.fetch, HttpFetch) and cfg.fetch.api == cfg.requery.adapter:  # same API: host, keys
            for key in SHARED_WITH_FETCH:
                if values[key] is None:
                    values[key] = getattr(cfg.fetch, key)
        return cls(channel=channel, root=ws.root, account=cfg.account, **values)

    def waits(self) -> tuple[dt.timedelta, ...]:
        return schedule.waits(self.retry, setting=self.setting("retry"))
