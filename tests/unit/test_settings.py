from pathlib import Path

import pytest

from callflow.settings import SettingsError, load_settings

GOOD = {
    "CALLFLOW_ARI__PASSWORD": "a-long-ari-password",
    "CALLFLOW_AMI__SECRET": "a-long-ami-secret",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("CALLFLOW_"):
            monkeypatch.delenv(key)


def test_settings_come_from_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {**GOOD, "CALLFLOW_HTTP__PORT": "9090", "CALLFLOW_ARI__APP": "acd"}.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.http.port == 9090
    assert settings.ari.app == "acd"
    assert settings.db.url == "sqlite:///callflow.db"
    assert "a-long-ari-password" not in repr(settings)


def test_missing_secrets_are_named_with_their_variables() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert str(error.value) == (
        "setting ari.password (CALLFLOW_ARI__PASSWORD) is required; "
        "setting ami.secret (CALLFLOW_AMI__SECRET) is required"
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("CALLFLOW_ARI__PASSWORD", "short", "setting ari.password (CALLFLOW_ARI__PASSWORD)"),
        ("CALLFLOW_AMI__SECRET", "changeme", "setting ami.secret (CALLFLOW_AMI__SECRET)"),
        ("CALLFLOW_ARI__URL", "localhost:8088", "must start with http://"),
        ("CALLFLOW_HTTP__PORT", "eighty", "setting http.port (CALLFLOW_HTTP__PORT)"),
        ("CALLFLOW_DB__URL", "mysql://x", "must be a sqlite:// or postgresql:// URL"),
        ("CALLFLOW_ARI__APP", "my app", "setting ari.app"),
        ("CALLFLOW_METRICS__TOKEN", "short", "setting metrics.token (CALLFLOW_METRICS__TOKEN)"),
        ("CALLFLOW_LOG_FORMAT", "xml", "setting log_format (CALLFLOW_LOG_FORMAT)"),
    ],
)
def test_invalid_values_are_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, key: str, value: str, expected: str
) -> None:
    for k, v in {**GOOD, key: value}.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_config_file_supplies_settings_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "callflow.toml"
    config.write_text(
        '[ari]\npassword = "from-the-file-123"\nurl = "http://10.0.0.5:8088"\n'
        '[ami]\nsecret = "from-the-file-456"\n[http]\nport = 8181\n'
    )
    monkeypatch.setenv("CALLFLOW_CONFIG", str(config))
    monkeypatch.setenv("CALLFLOW_HTTP__PORT", "8282")
    settings = load_settings()
    assert settings.ari.url == "http://10.0.0.5:8088/"
    assert settings.ami.secret.get_secret_value() == "from-the-file-456"
    assert settings.http.port == 8282


def test_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLFLOW_CONFIG", "/nonexistent/callflow.toml")
    with pytest.raises(SettingsError, match=r"/nonexistent/callflow\.toml"):
        load_settings()


def test_an_empty_metrics_token_turns_the_scrape_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {**GOOD, "CALLFLOW_METRICS__TOKEN": ""}.items():
        monkeypatch.setenv(key, value)
    assert load_settings().metrics.token is None
