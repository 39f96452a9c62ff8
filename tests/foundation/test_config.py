"""recon.toml: validated at the edge, wrong keys named with the file; secrets never shown."""

import pytest

from jobs.catalog import open_workspace
from recon.config.secrets import Secret, secret_from_env
from recon.config.settings import parse_settings
from recon.errors import ConfigError
from recon.workspace import init_workspace


def test_init_writes_a_loadable_commented_config(tmp_path):
    path = init_workspace(tmp_path / "ws")
    assert "#" in path.read_text()
    ws = open_workspace(tmp_path / "ws")
    assert ws.settings.defaults.timezone == "Asia/Shanghai"
    assert ws.store_url() == f"sqlite:///{tmp_path / 'ws' / 'recon.db'}"


def test_init_refuses_to_overwrite(tmp_path):
    init_workspace(tmp_path)
    with pytest.raises(ConfigError, match="already exists"):
        init_workspace(tmp_path)


@pytest.mark.parametrize(("data", "message"), [
    ({"stor": {}}, "stor: unknown key"),
    ({"defaults": {"timezone": "Mars/Olympus"}}, "defaults.timezone"),
    ({"channels": {"w": {"format": "x", "fetch": {"transport": "sftp", "pasword_env": "X"}}}},
     "channels.w.fetch.pasword_env: unknown key"),
])
def test_bad_settings_name_the_key_and_file(data, message):
    with pytest.raises(ConfigError) as info:
        parse_settings(data, "ws/recon.toml")
    assert "ws/recon.toml" in str(info.value)
    assert message in str(info.value)


def test_a_transport_no_plugin_provides_is_refused_when_the_workspace_opens(tmp_path):
    (tmp_path / "recon.toml").write_text('[channels.w]\nformat = "wechatpay.trade"\n'
                                         '[channels.w.fetch]\ntransport = "ftp"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"recon.toml: channels.w.fetch.transport: no fetcher 'ftp' installed"):
        open_workspace(tmp_path)


def test_secrets_are_redacted(monkeypatch):
    monkeypatch.setenv("SFTP_PW", "hunter2")
    secret = secret_from_env("SFTP_PW", setting="fetch.password_env")
    assert isinstance(secret, Secret)
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret) and "hunter2" not in f"{secret}"
    assert secret.reveal() == "hunter2"


def test_a_named_but_unset_secret_is_a_config_error(monkeypatch):
    monkeypatch.delenv("NOPE_PW", raising=False)
    with pytest.raises(ConfigError, match="NOPE_PW"):
        secret_from_env("NOPE_PW", setting="fetch.password_env")
