"""``distansmote cms check`` and ``distansmote cms-simulator``, run as a person would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.simulators.cms import CmsSimulator
from tests.cli.processes import stop

CMS_VARIABLES = ("DISTANSMOTE_CMS_URL", "DISTANSMOTE_CMS_USERNAME", "DISTANSMOTE_CMS_PASSWORD")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No .env and no CMS settings from the machine running the tests.
    monkeypatch.chdir(tmp_path)
    for name in CMS_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def configure(
    monkeypatch: pytest.MonkeyPatch, url: str, username: str = "api", password: str = "simulator"
) -> None:
    for name, value in zip(CMS_VARIABLES, (url, username, password), strict=True):
        monkeypatch.setenv(name, value)


def test_check_ok(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cli_cms_url: str) -> None:
    configure(monkeypatch, cli_cms_url)
    assert main(["cms", "check"]) == 0
    assert capsys.readouterr().out.strip() == f"CMS OK: {cli_cms_url}"


def test_check_wrong_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cli_cms_url: str
) -> None:
    configure(monkeypatch, cli_cms_url, username="bot-account", password="Sommar2026!")
    assert main(["cms", "check"]) == 1
    output = capsys.readouterr()
    assert "wrong username or password" in output.err
    assert "Sommar2026" not in output.out + output.err and "bot-account" not in output.out + output.err


def test_check_unreachable(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as bound_not_listening:  # nothing answers on this port while it is held
        bound_not_listening.bind(("127.0.0.1", 0))
        configure(monkeypatch, f"http://127.0.0.1:{bound_not_listening.getsockname()[1]}/api/v1/")
        assert main(["cms", "check"]) == 1
    assert "not reachable" in capsys.readouterr().err


def test_check_wrong_url_is_not_a_cms_api(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cli_cms_url: str
) -> None:
    configure(monkeypatch, cli_cms_url.removesuffix("api/v1/"))
    assert main(["cms", "check"]) == 1
    assert "does not answer like a CMS API" in capsys.readouterr().err


def test_check_redirect_is_not_a_cms_api(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cli_cms_url: str, cli_cms: CmsSimulator
) -> None:
    configure(monkeypatch, cli_cms_url)
    cli_cms.raw_next(b"", status=307, headers={"Location": "https://elsewhere.example.se/"})
    assert main(["cms", "check"]) == 1
    assert "redirect" in capsys.readouterr().err


@pytest.mark.parametrize("configured", [(), ("DISTANSMOTE_CMS_URL",)])
def test_check_not_configured_names_the_missing_variables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], configured: tuple[str, ...]
) -> None:
    for name in configured:
        monkeypatch.setenv(name, "https://cms.example.se/api/v1/")
    assert main(["cms", "check"]) == 2
    error = capsys.readouterr().err
    assert "not configured" in error
    missing = [name for name in CMS_VARIABLES if name not in configured]
    assert [name for name in CMS_VARIABLES if name in error] == missing


def test_simulator_command_serves_until_interrupted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    command = [sys.executable, "-m", "bot.cli", "cms-simulator", "--port", "0", "--password", "chosen-pw"]
    with subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # A shell running the tests in the background ignores SIGINT; Ctrl-C must still reach the child.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    ) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(4)]
            variables = dict(line.strip().split("=", 1) for line in lines[1:])
            assert variables["DISTANSMOTE_CMS_USERNAME"] == "api"
            assert "chosen-pw" not in "".join(lines)

            configure(monkeypatch, variables["DISTANSMOTE_CMS_URL"], password="chosen-pw")
            assert main(["cms", "check"]) == 0
            assert capsys.readouterr().out.startswith("CMS OK: http://127.0.0.1:")
        finally:
            returncode = stop(process, signal.SIGINT, timeout=10)
        assert returncode == 0
