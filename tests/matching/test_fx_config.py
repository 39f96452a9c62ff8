"""`[fx]` settings: a channel's table over the workspace's, the rates file read once, bad values refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jobs.catalog import open_workspace
from recon.errors import ConfigError
from recon.matching.fx import policy_for
from recon.money import Rounding

BASE = """
[defaults]
timezone = "UTC"

[channels.adyen]
format = "adyen.settlement"

[channels.stripe]
format = "stripe.balance"
"""


def ws_with(tmp_path, extra: str, rates: str | None = "date,from,to,rate\n2024-05-01,USD,EUR,0.92\n"):
    (tmp_path / "recon.toml").write_text(BASE + extra, encoding="utf-8")
    (tmp_path / "rules").mkdir(exist_ok=True)
    if rates is not None:
        (tmp_path / "rates.csv").write_text(rates, encoding="utf-8")
    return open_workspace(tmp_path)


def test_without_fx_anywhere_nothing_changes(tmp_path):
    assert policy_for(ws_with(tmp_path, ""), "adyen") is None


def test_a_channels_table_wins_key_by_key_over_the_workspaces(tmp_path):
    ws = ws_with(tmp_path, '[fx]\nrates_file = "rates.csv"\ntolerance_minor = 5\nrounding = "half_up"\n\n'
                           '[channels.adyen.fx]\ntolerance_percent = "0.5"\ntolerance_minor = 1\n'
                           '[channels.adyen.fx.accounts.Shop]\ntolerance_minor = 0\n')
    adyen, stripe = policy_for(ws, "adyen"), policy_for(ws, "stripe")
    assert (adyen.settings.tolerance_minor, adyen.settings.tolerance_percent) == (1, Decimal("0.5"))
    assert adyen.settings.rounding is Rounding.HALF_UP and adyen.rates is not None  # from [fx]
    assert adyen.tolerance("Shop").tolerance_minor == 0 and adyen.tolerance("Other").tolerance_minor == 1
    assert (stripe.settings.tolerance_minor, stripe.settings.tolerance_percent) == (5, None)
    assert stripe.rates.on("USD", "EUR", dt.date(2024, 5, 3)).value == Decimal("0.92")


def test_only_one_channel_configured(tmp_path):
    ws = ws_with(tmp_path, "[channels.adyen.fx]\ntolerance_minor = 2\n", rates=None)
    assert policy_for(ws, "adyen").settings.tolerance_minor == 2 and policy_for(ws, "adyen").rates is None
    assert policy_for(ws, "stripe") is None


@pytest.mark.parametrize(("extra", "message"), [
    ("[fx]\ntolerance_percent = 0.5\n", "TOML float"),
    ("[fx]\ntolerance_minor = -1\n", "greater than or equal"),
    ("[fx]\ntolerance = 1\n", "tolerance"),
])
def test_bad_settings_are_refused(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=message):
        ws_with(tmp_path, extra)


def test_a_missing_rates_file_is_a_config_error(tmp_path):
    ws = ws_with(tmp_path, '[fx]\nrates_file = "nowhere.csv"\n', rates=None)
    with pytest.raises(ConfigError, match="nowhere.csv: the \\[fx\\] rates_file does not exist"):
        policy_for(ws, "adyen")
