"""``distansmote check``, ``--version`` and every command's ``--help``, run as an operator would."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.simulators.cms import CmsSimulator
from tests.cli.conftest import SECRET, TARGET, TOKEN, served_in_thread

CMS_PASSWORD = "Vinter-2026!"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env; a database file made by mistake would land here
    for name in list(os.environ):
        if name.startswith("DISTANSMOTE_"):
            monkeypatch.delenv(name)


@pytest.fixture
def cms_url() -> Iterator[str]:
    with served_in_thread(CmsSimulator(username="api", password=CMS_PASSWORD).app) as url:
        yield f"{url}/api/v1/"


def configure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cms_url: str, webex_url: str, **changes: str) -> None:
    settings = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", "CMS_URL": cms_url, "CMS_USERNAME": "api",
        "CMS_PASSWORD": CMS_PASSWORD, "WEBEX_TOKEN": TOKEN, "WEBEX_WEBHOOK_SECRET": SECRET,
        "WEBEX_API_URL": webex_url, "ALLOWED_EMAIL_DOMAINS": "region.example", **changes,
    }
    for name, value in settings.items():
        monkeypatch.setenv(f"DISTANSMOTE_{name}", value)


def _verdicts(output: str) -> dict[str, str]:
    """``{part: verdict line}`` of check's output, and no part twice."""
    lines = output.splitlines()[:-1]
    parts = [line[5:].split(":", 1)[0] for line in lines]
    assert len(set(parts)) == len(parts)
    return dict(zip(parts, lines, strict=True))


def test_check_passes_when_everything_configured_works(monkeypatch, capsys, tmp_path, cms_url, webex_api):
    configure(monkeypatch, tmp_path, cms_url, webex_api[1])
    assert main(["db", "upgrade"]) == 0
    assert main(["webex", "setup", "--url", TARGET]) == 0
    capsys.readouterr()

    assert main(["check"]) == 0
    output = capsys.readouterr().out
    verdicts = _verdicts(output)
    assert list(verdicts) == ["database", "CMS", "Webex token", "Webex webhooks", "Teams"]
    assert verdicts.pop("Teams") == "SKIP Teams: not configured"
    assert all(line.startswith("OK ") for line in verdicts.values()), output
    assert output.endswith("everything configured works\n")
    assert f"both active -> {TARGET}" in verdicts["Webex webhooks"]


def test_check_names_a_wrong_cms_password_and_a_bad_webex_token_each_on_its_own_line(
        monkeypatch, capsys, tmp_path, cms_url, webex_api):
    configure(monkeypatch, tmp_path, cms_url, webex_api[1], CMS_PASSWORD="Sommar-2025!", WEBEX_TOKEN="revoked-token")
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()

    assert main(["check"]) == 1
    output = capsys.readouterr().out
    verdicts = _verdicts(output)
    assert verdicts["database"].startswith("OK ")
    assert verdicts["CMS"].startswith("FAIL CMS: ") and "wrong username or password" in verdicts["CMS"]
    assert verdicts["Webex token"].startswith("FAIL Webex token: refused or no answer (HTTP 401")
    assert output.endswith("2 of 4 part(s) failed\n")  # Teams: not configured, not tried
    for secret in ("Sommar-2025!", "revoked-token", CMS_PASSWORD, TOKEN, SECRET):
        assert secret not in output


def test_check_finds_disabled_and_missing_webhooks_and_an_old_schema(monkeypatch, capsys, tmp_path, cms_url, webex_api):
    fake, api_url = webex_api
    configure(monkeypatch, tmp_path, cms_url, api_url)
    fake.add_webhook(name="old", target_url=TARGET, resource="messages", event="created", secret=SECRET,
                     status="inactive")
    assert main(["db", "upgrade"]) == 0
    import sqlite3

    with sqlite3.connect(tmp_path / "bot.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
    capsys.readouterr()

    assert main(["check"]) == 1
    verdicts = _verdicts(capsys.readouterr().out)
    assert "schema at migration 0001" in verdicts["database"] and "distansmote db upgrade" in verdicts["database"]
    assert verdicts["CMS"].startswith("OK ")
    assert verdicts["Webex webhooks"].startswith(
        "FAIL Webex webhooks: messages/created disabled; attachmentActions/created missing; "
        "run `distansmote webex setup")


def test_commands_that_do_not_need_the_database_leave_no_database_file(
        monkeypatch, capsys, tmp_path, cms_url, webex_api):
    configure(monkeypatch, tmp_path, cms_url, webex_api[1])
    assert main(["cms", "check"]) == 0
    assert main(["webex", "setup", "--url", TARGET]) == 0
    assert main(["check"]) == 1  # the database file is missing, and check says so
    assert "FAIL database:" in capsys.readouterr().out
    # An empty new database would claim no room: every room of the bot would look orphaned.
    assert main(["sweep", "--delete"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_check_without_a_platform_fails(monkeypatch, capsys, tmp_path, cms_url):
    configure(monkeypatch, tmp_path, cms_url, "https://webexapis.com/v1/")
    for name in ("WEBEX_TOKEN", "WEBEX_WEBHOOK_SECRET"):
        monkeypatch.delenv(f"DISTANSMOTE_{name}")
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["check"]) == 1
    verdicts = _verdicts(capsys.readouterr().out)
    assert verdicts["Webex"] == "SKIP Webex: not configured"
    assert verdicts["platforms"] == "FAIL platforms: no chat platform is configured"


def test_version(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    from importlib.metadata import version

    assert capsys.readouterr().out == f"distansmote {version('distansmote')}\n"


def _parsers(parser: argparse.ArgumentParser,
             path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, (*path, name))


def test_every_command_and_option_is_described_in_its_own_help(capsys):
    parsers = list(_parsers(build_parser()))
    assert len(parsers) >= 11
    for path, parser in parsers:
        with pytest.raises(SystemExit):
            main([*path, "--help"])
        shown = capsys.readouterr().out
        assert parser.description and len(parser.description) > 10, path
        assert " ".join(parser.description.split()[:3]) in " ".join(shown.split()), path
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                assert all(choice.help for choice in action._choices_actions), path
            else:
                assert action.help and action.help != argparse.SUPPRESS, (path, action.dest)
                for option in action.option_strings:
                    assert option in shown
