"""``distansmote serve`` and ``distansmote webex setup``, run as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bot.cli import main
from tests.cli.conftest import SECRET, TARGET, TOKEN
from tests.cli.processes import serving_address, stop
from tests.fakes.webex import WebexFake

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("clean_environment")


def _webex_environment(api_url: str, **extra: str) -> dict[str, str]:
    return {
        "DISTANSMOTE_WEBEX_TOKEN": TOKEN, "DISTANSMOTE_WEBEX_WEBHOOK_SECRET": SECRET,
        "DISTANSMOTE_WEBEX_API_URL": api_url, "DISTANSMOTE_VIDEO_DOMAIN": "video.region.example", **extra,
    }


@pytest.mark.parametrize(("missing", "named"), [
    ("DISTANSMOTE_WEBEX_WEBHOOK_SECRET", "DISTANSMOTE_WEBEX_WEBHOOK_SECRET"),
    ("DISTANSMOTE_ALLOWED_EMAIL_DOMAINS", "DISTANSMOTE_ALLOWED_WEBEX_ORG_IDS or DISTANSMOTE_ALLOWED_EMAIL_DOMAINS"),
])
def test_serve_refuses_an_unsafe_webex_set_up(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path, missing: str, named: str) -> None:
    environment = _webex_environment("https://webexapis.com/v1/", DISTANSMOTE_ALLOWED_EMAIL_DOMAINS="region.example")
    del environment[missing]
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "0"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"distansmote: configuration error: {named}") and "\n" not in error
    assert TOKEN not in error
    assert list(tmp_path.iterdir()) == []  # refused before the database was touched


def test_serve_refuses_without_a_video_domain(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    environment = _webex_environment("https://webexapis.com/v1/", DISTANSMOTE_ALLOWED_EMAIL_DOMAINS="region.example")
    del environment["DISTANSMOTE_VIDEO_DOMAIN"]
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "0"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("distansmote: configuration error: DISTANSMOTE_VIDEO_DOMAIN: not set") and "\n" not in error
    assert list(tmp_path.iterdir()) == []  # refused before the database was touched


def test_serve_with_a_wrong_token_stops_with_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        webex_api: tuple[WebexFake, str]) -> None:
    environment = _webex_environment(
        webex_api[1], DISTANSMOTE_WEBEX_TOKEN="expired-token", DISTANSMOTE_ALLOWED_EMAIL_DOMAINS="region.example",
        DISTANSMOTE_CMS_URL="http://127.0.0.1:9/api/v1/", DISTANSMOTE_CMS_USERNAME="api",
        DISTANSMOTE_CMS_PASSWORD="simulator")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--host", "127.0.0.1", "--port", "0"]) == 2
    error = capsys.readouterr().err.strip()
    assert error == ("distansmote: configuration error: DISTANSMOTE_WEBEX_TOKEN: the bot's identity could not "
                     "be read from Webex (HTTP 401, trackingId ROUTER_FAKE_1)")


def test_serve_refuses_without_any_platform(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"]) == 2
    assert "no chat platform is configured" in capsys.readouterr().err


def test_webex_setup_creates_then_leaves_the_webhooks_alone(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], webex_api: tuple[WebexFake, str]) -> None:
    webex, api_url = webex_api
    for name, value in _webex_environment(api_url).items():
        monkeypatch.setenv(name, value)
    assert main(["webex", "setup", "--url", TARGET]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"created messages/created -> {TARGET}", f"created attachmentActions/created -> {TARGET}"]

    webex.disable_webhook(next(iter(webex.webhooks)))
    assert main(["webex", "setup", "--url", TARGET]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"reactivated messages/created -> {TARGET}", f"unchanged attachmentActions/created -> {TARGET} (active)"]
    assert len(webex.webhooks) == 2


def test_webex_setup_finds_its_address_at_the_public_url(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], webex_api: tuple[WebexFake, str]) -> None:
    for name, value in _webex_environment(webex_api[1]).items():
        monkeypatch.setenv(name, value)
    assert main(["webex", "setup"]) == 2
    assert capsys.readouterr().err.startswith("distansmote: configuration error: DISTANSMOTE_PUBLIC_URL: ")
    monkeypatch.setenv("DISTANSMOTE_PUBLIC_URL", "https://bot.region.example/")
    assert main(["webex", "setup"]) == 0
    assert {hook["targetUrl"] for hook in webex_api[0].webhooks.values()} == {"https://bot.region.example/webex/events"}


def test_webex_setup_with_a_wrong_token_says_so(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], webex_api: tuple[WebexFake, str]) -> None:
    for name, value in _webex_environment(webex_api[1], DISTANSMOTE_WEBEX_TOKEN="expired-token").items():
        monkeypatch.setenv(name, value)
    assert main(["webex", "setup", "--url", TARGET]) == 1
    error = capsys.readouterr().err
    assert "HTTP 401" in error and "expired-token" not in error


def test_webex_setup_wants_a_public_https_url(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["webex", "setup", "--url", "http://bot.region.example/webex/events"])
    assert exited.value.code == 2
    assert "https://" in capsys.readouterr().err


def test_serve_runs_until_sigterm(tmp_path: Path, webex_api: tuple[WebexFake, str]) -> None:
    webex, api_url = webex_api
    webex.add_webhook(name="old", target_url=TARGET, resource="messages", event="created", secret=SECRET,
                      status="inactive")
    environment = {
        **os.environ, "PYTHONUNBUFFERED": "1",
        **_webex_environment(api_url, DISTANSMOTE_ALLOWED_EMAIL_DOMAINS="region.example",
                             DISTANSMOTE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
                             DISTANSMOTE_CMS_URL="http://127.0.0.1:9/api/v1/", DISTANSMOTE_CMS_USERNAME="api",
                             DISTANSMOTE_CMS_PASSWORD="simulator"),
    }
    command = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0"]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env=environment) as process:
        try:
            address, log_lines = serving_address(process)
            for path in ("/healthz", "/readyz"):
                with urllib.request.urlopen(f"http://{address}{path}", timeout=5) as response:
                    assert response.status == 200
        finally:
            returncode = stop(process)
    assert returncode == 0
    assert ("GET", "/v1/people/me", 200) in webex.requests
    assert [h["status"] for h in webex.webhooks.values()] == ["active"]  # reactivated at start
    assert TOKEN not in "".join(log_lines) and SECRET not in "".join(log_lines)
