"""A platform is one package plus one line: the intranet (tests/platforms/intranet.py), added to the
registry here as bot/platforms/registry.py would list it, is configured, served, checked and given
its share of the CMS bulkhead with no other change to the bot."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from bot.app import create_app
from bot.cli import main
from bot.clock import ManualClock
from bot.config import ConfigError, Settings
from bot.core import PersonKey, Reply
from bot.core.delivery import Outbox
from bot.platforms import registry
from bot.runtime import open_services
from cards import texts
from tests.conftest import RunningCms, make_settings
from tests.platforms import intranet
from tests.platforms.intranet import NAME, PATH, IntranetAdapter, IntranetSettings

TOKEN = "intranet-token-for-tests"
AUTHORIZED = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry line, as it would be added to bot/platforms/registry.py."""
    monkeypatch.setattr(registry, "PLATFORMS", (*registry.PLATFORMS, intranet.PLATFORM))


def test_the_platform_needs_only_the_public_contract():
    tree = ast.parse(Path(intranet.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert {name for name in imported if name.startswith("bot")} <= {
        "bot.config", "bot.core", "bot.core.adapter", "bot.core.delivery", "bot.platforms"}


@pytest.mark.usefixtures("registered", "clean_environment")
def test_its_settings_are_its_own_variables_with_the_same_rules(monkeypatch, tmp_path):
    monkeypatch.setenv("DISTANSMOTE_INTRANET_WORKERS", "12")
    assert registry.configured(registry.load_settings()) == []
    (tmp_path / "token").write_text(TOKEN + "\n")
    monkeypatch.setenv("DISTANSMOTE_INTRANET_TOKEN_FILE", str(tmp_path / "token"))
    settings = registry.load_settings()
    own = IntranetSettings.of(settings)
    assert own.token is not None and own.token.get_secret_value() == TOKEN
    assert registry.configured(settings) == [intranet.PLATFORM]
    assert registry.cms_workers(settings) == 12  # the largest set of workers of a configured platform
    assert registry.variables()["intranet_token"] == (IntranetSettings, "token")
    assert TOKEN not in repr(own) + own.model_dump_json()
    monkeypatch.delenv("DISTANSMOTE_INTRANET_TOKEN_FILE")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "DISTANSMOTE_INTRANET_TOKEN").write_text("from-the-secrets-directory")
    monkeypatch.setenv("DISTANSMOTE_SECRETS_DIR", str(tmp_path / "secrets"))
    token = IntranetSettings.of(registry.load_settings()).token
    assert token is not None and token.get_secret_value() == "from-the-secrets-directory"
    # Given by its variable's name, as the core's settings are.
    assert IntranetSettings.of(Settings(_env_file=None, intranet_workers=3)).workers == 3

    monkeypatch.setenv("DISTANSMOTE_INTRANET_WORKERS", "0")
    with pytest.raises(ConfigError, match="^DISTANSMOTE_INTRANET_WORKERS: Input should be greater"):
        registry.load_settings()  # at start-up, not when the platform is first used


@pytest.mark.usefixtures("registered")
async def test_serve_runs_it_and_its_messages_go_through_the_dispatcher(
        cms: RunningCms, tmp_path: Path, clock: ManualClock, aiohttp_client: Any):
    settings = make_settings(cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", intranet_token=TOKEN)
    adapters = registry.adapters(settings, "127.0.0.1")
    assert [adapter.platform for adapter in adapters] == ["intranet"]
    adapter = adapters[0]
    assert isinstance(adapter, IntranetAdapter)
    services = await open_services(settings, clock=clock, adapters=adapters)
    client = await aiohttp_client(create_app(services))
    try:
        message = {"id": "m-1", "user": "u-1", "name": "Nina", "text": "/distansmöte ny"}
        assert (await client.post(PATH, json=message)).status == 401
        response = await client.post(PATH, json=message, headers=AUTHORIZED)
        assert response.status == 200
        replies = (await response.json())["replies"]
        assert replies and texts.NEW_MEETING_TITLE in replies[-1]
        # The same event again is the same event: the dispatcher answers it once.
        again = await client.post(PATH, json=message, headers=AUTHORIZED)
        assert (await again.json())["replies"] == []
        # What the bot sends on its own finds the person by the reference stored with the event.
        await Outbox(adapters).send(PersonKey(NAME, "u-1"), [Reply("Påminnelse")])
        assert adapter.pushed == [("direct-u-1", "Påminnelse")]
    finally:
        await client.close()
        await services.close()


@pytest.mark.usefixtures("registered", "clean_environment")
def test_check_tries_it_beside_the_others(monkeypatch, capsys):
    monkeypatch.setenv("DISTANSMOTE_INTRANET_TOKEN", TOKEN)
    assert main(["check"]) == 1  # no database, no CMS: this test is about the platforms
    lines = capsys.readouterr().out.splitlines()
    assert "OK   Intranet: a token is set; the intranet calls us, so there is nothing to try" in lines
    assert "SKIP Webex: not configured" in lines and "SKIP Teams: not configured" in lines
    assert not [line for line in lines if "platforms:" in line]


@pytest.mark.usefixtures("registered", "clean_environment")
def test_with_no_platform_configured_serve_names_every_way_to_turn_one_on():
    with pytest.raises(ConfigError) as refused:
        registry.adapters(registry.load_settings(), "127.0.0.1")
    assert "DISTANSMOTE_INTRANET_TOKEN for Intranet" in str(refused.value)
