"""Settings: flat DISTANSMOTE_ variables, one clear line on error, secrets never shown."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings
from bot.platforms import teams, webex


def test_defaults_and_comma_lists(monkeypatch):
    monkeypatch.setenv("DISTANSMOTE_ADMINS", "ada@region.example, admin-2")
    monkeypatch.setenv("DISTANSMOTE_WEBEX_API_URL", "http://127.0.0.1:9/v1")
    settings = load_settings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///distansmote.db"
    assert settings.timezone == "Europe/Stockholm"
    assert settings.dial_in_number == "0480 44 55 11"  # the routine's own number
    assert settings.video_domain is None
    assert settings.admins == ("ada@region.example", "admin-2")
    assert webex.WebexSettings.of(settings).api_url == "http://127.0.0.1:9/v1/"
    assert settings.is_admin(None, "ADA@region.example")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DISTANSMOTE_TIMEZONE", "Europe/Atlantis", "DISTANSMOTE_TIMEZONE: Value error, unknown time zone"),
        ("DISTANSMOTE_CMS_URL", "cms.region.example", "DISTANSMOTE_CMS_URL: Value error, must start with https://"),
        ("DISTANSMOTE_REMINDER_START_MINUTES", "soon", "DISTANSMOTE_REMINDER_START_MINUTES: Input should be"),
    ],
)
def test_invalid_value_names_the_variable_in_one_line(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings(_env_file=None)
    message = str(error.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_secrets_are_never_printed(monkeypatch):
    monkeypatch.setenv("DISTANSMOTE_CMS_PASSWORD", "hunter2-cms")
    monkeypatch.setenv("DISTANSMOTE_WEBEX_TOKEN", "token-that-must-not-leak")
    settings = load_settings(_env_file=None)
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert "hunter2-cms" not in shown and "token-that-must-not-leak" not in shown


def test_cli_stops_with_the_variable_named(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISTANSMOTE_TIMEZONE", "Mars/Olympus")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("distansmote: configuration error: DISTANSMOTE_TIMEZONE:")


def test_db_upgrade_creates_the_schema(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DISTANSMOTE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    assert (tmp_path / "x.db").exists()


@pytest.mark.parametrize(("overrides", "on_webex", "on_teams"), [
    ({}, False, False),
    ({"webex_token": "token"}, True, False),
    ({"webex_webhook_secret": "secret"}, True, False),  # half configured: serve then names the missing one
    ({"webex_token": "", "teams_app_id": ""}, False, False),
    ({"teams_app_id": "1f2e3d4c-0000-4000-8000-123456789abc"}, False, True),
    ({"teams_allow_anonymous": True}, False, True),
])
def test_a_platform_is_configured_when_any_of_its_variables_is_set(overrides, on_webex, on_teams):
    settings = load_settings(_env_file=None, **overrides)
    assert (webex.PLATFORM.configured(settings), teams.PLATFORM.configured(settings)) == (on_webex, on_teams)


def test_units_come_as_a_list_or_a_file_and_a_bad_one_is_named_by_place_not_by_value(monkeypatch, tmp_path):
    monkeypatch.setenv("DISTANSMOTE_UNITS", "HC Torsås, HC Emmaboda ,Avd 12")
    assert load_settings().units == ("HC Torsås", "HC Emmaboda", "Avd 12")
    listed = tmp_path / "units.txt"
    listed.write_text("# the region's units\nHC Torsås\n\nKvinnokliniken Växjö\nHC Torsås\n", encoding="utf-8")
    monkeypatch.setenv("DISTANSMOTE_UNITS", str(listed))
    assert load_settings().units == ("HC Torsås", "Kvinnokliniken Växjö")
    listed.write_text("HC Torsås\nHC 850709-9805\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert str(refused.value).startswith("DISTANSMOTE_UNITS:") and "entry 2" in str(refused.value)
    assert "850709" not in str(refused.value)
    monkeypatch.setenv("DISTANSMOTE_UNITS", str(tmp_path / "missing.txt"))
    with pytest.raises(ConfigError, match="DISTANSMOTE_UNITS: .*cannot read the file"):
        load_settings()
