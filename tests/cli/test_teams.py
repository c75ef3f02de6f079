"""``distansmote serve`` with Teams, run as an operator would: what it refuses, and Webex and Teams
served together by one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.cli import main
from tests.cli.conftest import SECRET, TOKEN, served_in_thread
from tests.cli.processes import serving_address, stop
from tests.fakes.teams import FakeConnector
from tests.fakes.webex import WebexFake

REPO = Path(__file__).resolve().parents[2]
APP_ID = "1f2e3d4c-0000-4000-8000-123456789abc"
TENANT = "11111111-2222-3333-4444-555555555555"
PASSWORD = "teams-password-for-tests"
pytestmark = pytest.mark.usefixtures("clean_environment")


TEAMS = {"DISTANSMOTE_TEAMS_APP_ID": APP_ID, "DISTANSMOTE_TEAMS_APP_PASSWORD": PASSWORD,
         "DISTANSMOTE_TEAMS_TENANT_ID": TENANT, "DISTANSMOTE_ALLOWED_TEAMS_TENANT_IDS": TENANT}


@pytest.mark.parametrize(("changed", "host", "named"), [
    ({"DISTANSMOTE_ALLOWED_TEAMS_TENANT_IDS": ""}, "0.0.0.0", "DISTANSMOTE_ALLOWED_TEAMS_TENANT_IDS"),
    ({"DISTANSMOTE_ALLOWED_TEAMS_TENANT_IDS": "region.example"}, "0.0.0.0", "DISTANSMOTE_ALLOWED_TEAMS_TENANT_IDS"),
    ({"DISTANSMOTE_TEAMS_APP_PASSWORD": ""}, "0.0.0.0", "DISTANSMOTE_TEAMS_APP_PASSWORD"),
    ({"DISTANSMOTE_TEAMS_TENANT_ID": ""}, "0.0.0.0", "DISTANSMOTE_TEAMS_TENANT_ID"),
    ({"DISTANSMOTE_TEAMS_APP_ID": "my-bot"}, "0.0.0.0", "DISTANSMOTE_TEAMS_APP_ID"),
    ({"DISTANSMOTE_TEAMS_AUTH_TYPE": "password"}, "0.0.0.0", "DISTANSMOTE_TEAMS_AUTH_TYPE"),
    ({"DISTANSMOTE_TEAMS_ALLOW_ANONYMOUS": "true"}, "0.0.0.0", "DISTANSMOTE_TEAMS_ALLOW_ANONYMOUS"),
    ({"DISTANSMOTE_TEAMS_ALLOW_ANONYMOUS": "true"}, "192.0.2.10", "DISTANSMOTE_TEAMS_ALLOW_ANONYMOUS"),
], ids=["no-allowlist", "allowlist-not-a-tenant-id", "no-password", "no-tenant", "app-id-not-a-guid",
        "unknown-auth-type", "anonymous-on-all-addresses", "anonymous-on-a-public-address"])
def test_serve_refuses_an_unsafe_teams_set_up(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path, changed: dict[str, str], host: str, named: str) -> None:
    for name, value in {**TEAMS, **changed}.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--host", host, "--port", "0"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"distansmote: configuration error: {named}") and "\n" not in error
    assert PASSWORD not in error
    assert list(tmp_path.iterdir()) == []  # refused before the database was touched


def test_serve_refuses_without_any_platform_and_names_both(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"]) == 2
    error = capsys.readouterr().err
    assert "no chat platform is configured" in error
    assert "DISTANSMOTE_WEBEX_TOKEN" in error and "DISTANSMOTE_TEAMS_APP_ID" in error


def test_a_managed_identity_needs_no_password() -> None:
    from bot.config import Settings
    from bot.platforms.teams.config import teams_config

    settings = Settings(_env_file=None, teams_app_id=APP_ID, teams_tenant_id=TENANT.upper(),
                        teams_auth_type="user_managed_identity", allowed_teams_tenant_ids=(TENANT,))
    auth = teams_config(settings).auth
    assert (auth.CLIENT_ID, auth.TENANT_ID, auth.AUTH_TYPE, auth.CLIENT_SECRET) == (
        APP_ID, TENANT, "UserManagedIdentity", None)
    assert auth.VALIDATE_ISSUER and not auth.ANONYMOUS_ALLOWED


@pytest.mark.parametrize(("auth_type", "setting", "attribute"), [
    ("certificate", "teams_certificate_file", "CERT_PFX_FILE"),
    ("workload_identity", "teams_federated_token_file", "FEDERATED_TOKEN_FILE"),
    ("federated_credentials", "teams_federated_client_id", "FEDERATED_CLIENT_ID"),
])
def test_a_certificate_or_a_federated_credential_in_place_of_a_password(tmp_path, auth_type, setting, attribute):
    from bot.config import ConfigError, Settings
    from bot.platforms.teams.config import teams_config

    value = str(tmp_path / "credential") if setting.endswith("_file") else TENANT
    base = {"teams_app_id": APP_ID, "teams_tenant_id": TENANT, "teams_auth_type": auth_type,
            "allowed_teams_tenant_ids": (TENANT,)}
    with pytest.raises(ConfigError, match=f"^DISTANSMOTE_{setting.upper()}: required with "):
        teams_config(Settings(_env_file=None, **base))
    if setting.endswith("_file"):
        with pytest.raises(ConfigError, match=f"^DISTANSMOTE_{setting.upper()}: .* is not a file"):
            teams_config(Settings(_env_file=None, **base, **{setting: value}))
        (tmp_path / "credential").write_text("a credential")
    auth = teams_config(Settings(_env_file=None, **base, **{setting: value})).auth
    assert (auth.AUTH_TYPE, getattr(auth, attribute), auth.CLIENT_SECRET) == (
        {"certificate": "certificate", "workload_identity": "WorkloadIdentity",
         "federated_credentials": "FederatedCredentials"}[auth_type], value, None)


def test_serve_runs_webex_and_teams_together(tmp_path: Path) -> None:
    webex = WebexFake(token=TOKEN, webhook_secret=SECRET)
    connector = FakeConnector()
    with served_in_thread(webex.app) as webex_url, served_in_thread(connector.app) as connector_url:
        connector.service_url = connector_url + "/"
        environment = {
            **os.environ, "PYTHONUNBUFFERED": "1",
            "DISTANSMOTE_WEBEX_TOKEN": TOKEN, "DISTANSMOTE_WEBEX_WEBHOOK_SECRET": SECRET,
            "DISTANSMOTE_WEBEX_API_URL": f"{webex_url}/v1/", "DISTANSMOTE_ALLOWED_EMAIL_DOMAINS": "region.example",
            "DISTANSMOTE_TEAMS_ALLOW_ANONYMOUS": "true", "DISTANSMOTE_ALLOWED_TEAMS_TENANT_IDS": TENANT,
            "DISTANSMOTE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            "DISTANSMOTE_CMS_URL": "http://127.0.0.1:9/api/v1/", "DISTANSMOTE_CMS_USERNAME": "api",
            "DISTANSMOTE_CMS_PASSWORD": "simulator", "DISTANSMOTE_VIDEO_DOMAIN": "video.region.example",
        }
        command = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0"]
        with subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              env=environment) as process:
            try:
                address, log_lines = serving_address(process)
                user = connector.user("Nina Sjuksköterska", TENANT)
                activity = connector.message(user, connector.personal_chat(user), "/distansmöte hjälp")
                request = urllib.request.Request(f"http://{address}/api/messages", data=json.dumps(activity).encode(),
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=5) as response:
                    assert response.status == 200
                deadline = time.monotonic() + 60  # a loaded machine; the loop ends at the first reply
                while not connector.posted and time.monotonic() < deadline:
                    time.sleep(0.05)
            finally:
                returncode = stop(process)
    assert returncode == 0
    [answer] = connector.posted
    assert answer.card is not None and answer.authorization is None
    assert ("GET", "/v1/people/me", 200) in webex.requests  # Webex started too
    assert any("DISTANSMOTE_TEAMS_ALLOW_ANONYMOUS is on" in line for line in log_lines)


@pytest.mark.parametrize(("changed", "expected"), [
    ({}, "FAIL Teams token: none from Microsoft Entra ("),  # the test machine reaches no Entra
    ({"DISTANSMOTE_ALLOWED_TEAMS_TENANT_IDS": ""}, "FAIL Teams: DISTANSMOTE_ALLOWED_TEAMS_TENANT_IDS: set"),
    ({"DISTANSMOTE_TEAMS_APP_ID": "", "DISTANSMOTE_TEAMS_ALLOW_ANONYMOUS": "true"},
     "OK   Teams: anonymous requests accepted (local testing only)"),
], ids=["no-token", "no-allowlist", "anonymous"])
def test_check_tries_the_teams_credentials(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path, changed: dict[str, str], expected: str) -> None:
    for name, value in {**TEAMS, **changed}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DISTANSMOTE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    main(["check"])
    output = capsys.readouterr().out
    assert any(line.startswith(expected) for line in output.splitlines()), output
    assert "SKIP Webex: not configured" in output
    assert PASSWORD not in output
