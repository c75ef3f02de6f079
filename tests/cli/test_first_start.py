"""First start with a wrong setting: every command stops with one line on standard error, exit code 2,
naming the setting and never its secret (docs/operations.md, "When it does not start")."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "first-start-password"
# What `serve` needs besides the database, so that the database is what stops it.
PLATFORM = {
    "DISTANSMOTE_WEBEX_TOKEN": "bot-token-for-tests", "DISTANSMOTE_WEBEX_WEBHOOK_SECRET": "webhook-secret-for-tests",
    "DISTANSMOTE_ALLOWED_EMAIL_DOMAINS": "region.example", "DISTANSMOTE_VIDEO_DOMAIN": "video.region.example",
}
COMMANDS = {
    "db upgrade": ["db", "upgrade"],
    "check": ["check"],
    "report": ["report"],
    "sweep": ["sweep"],
    "serve": ["serve", "--host", "127.0.0.1", "--port", "0"],
}


def run_cli(tmp_path: Path, arguments: list[str], **settings: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("DISTANSMOTE_")}
    return subprocess.run([sys.executable, "-m", "bot.cli", *arguments], cwd=tmp_path,
                          env={**environment, **settings, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=60)


def assert_one_line(finished: subprocess.CompletedProcess[str], setting: str) -> str:
    assert finished.returncode == 2, finished.stderr
    lines = finished.stderr.splitlines()
    assert len(lines) == 1, finished.stderr
    assert lines[0].startswith(f"distansmote: configuration error: {setting}: "), lines[0]
    assert PASSWORD not in finished.stderr + finished.stdout
    return lines[0]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_db_upgrade_with_an_unreachable_database(tmp_path):
    url = f"postgresql+asyncpg://bot:{PASSWORD}@127.0.0.1:{closed_port()}/distansmote"
    line = assert_one_line(run_cli(tmp_path, ["db", "upgrade"], DISTANSMOTE_DATABASE_URL=url),
                           "DISTANSMOTE_DATABASE_URL")
    assert "could not be opened" in line


def test_db_upgrade_with_a_database_that_does_not_exist(tmp_path, postgres_url):
    url = postgres_url.rsplit("/", 1)[0] + "/no_such_database_for_distansmote"
    line = assert_one_line(run_cli(tmp_path, ["db", "upgrade"], DISTANSMOTE_DATABASE_URL=url),
                           "DISTANSMOTE_DATABASE_URL")
    assert "no_such_database_for_distansmote" in line  # what the server said


@pytest.fixture
def postgres_url() -> str:
    """The server of the tests, without creating a database on it (the test wants one missing)."""
    host, port = POSTGRES_URL.split("@", 1)[1].split("/", 1)[0].split(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        pytest.skip(f"PostgreSQL not reachable at {host}:{port}")
    return POSTGRES_URL


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_postgresql_url_without_its_driver(tmp_path, command):
    if importlib.util.find_spec("psycopg") or importlib.util.find_spec("psycopg2"):
        pytest.skip("a default PostgreSQL driver is installed here")
    url = f"postgresql://bot:{PASSWORD}@127.0.0.1/distansmote?password={PASSWORD}"
    line = assert_one_line(run_cli(tmp_path, COMMANDS[command], DISTANSMOTE_DATABASE_URL=url, **PLATFORM),
                           "DISTANSMOTE_DATABASE_URL")
    assert "postgresql+asyncpg://" in line


@pytest.mark.parametrize("command", [*COMMANDS, "cms check"])
def test_a_cms_url_with_a_user_and_password(tmp_path, command):
    finished = run_cli(tmp_path, command.split() if command == "cms check" else COMMANDS[command],
                       DISTANSMOTE_CMS_URL=f"https://api:{PASSWORD}@cms.region.example:445/api/v1/",
                       DISTANSMOTE_CMS_USERNAME="api", DISTANSMOTE_CMS_PASSWORD=PASSWORD,
                       DISTANSMOTE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", **PLATFORM)
    assert "DISTANSMOTE_CMS_USERNAME" in assert_one_line(finished, "DISTANSMOTE_CMS_URL")


def test_check_masks_passwords_anywhere_in_the_urls(tmp_path):
    port = closed_port()
    finished = run_cli(
        tmp_path, ["check"],
        DISTANSMOTE_DATABASE_URL=f"postgresql+asyncpg://bot:{PASSWORD}@127.0.0.1:{port}/d?password={PASSWORD}"
                                 f"&sslpassword={PASSWORD}&ssl=prefer",
        DISTANSMOTE_CMS_URL=f"https://127.0.0.1:{port}/api/v1/?api_key={PASSWORD}",
        DISTANSMOTE_CMS_USERNAME="api", DISTANSMOTE_CMS_PASSWORD=PASSWORD)
    assert finished.returncode == 1
    assert PASSWORD not in finished.stdout + finished.stderr
    assert (f"FAIL database: postgresql+asyncpg://bot:***@127.0.0.1:{port}/d?password=***&sslpassword=***"
            "&ssl=prefer: not reachable") in finished.stdout
    assert f"FAIL CMS: https://127.0.0.1:{port}/api/v1/?api_key=***: " in finished.stdout
