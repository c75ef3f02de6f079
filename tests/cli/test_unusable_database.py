"""``distansmote serve`` (and ``report``) with a database it cannot use: it stops soon, with one line
that names DISTANSMOTE_DATABASE_URL and never the password, instead of a traceback or a hang."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import pytest

from tests.conftest import IN_CI, POSTGRES_URL

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "database-password-for-tests"
STOPS_WITHIN = 10.0  # seconds, the promise; the test allows for a busy machine on top
BUSY_MACHINE = 10.0


@contextmanager
def closed_port() -> Iterator[str]:
    """A port on 127.0.0.1 where nobody listens: the connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield f"postgresql+asyncpg://bot:{PASSWORD}@127.0.0.1:{port}/distansmote"


@contextmanager
def silent_server() -> Iterator[str]:
    """A server that accepts the connection and never says a word (a firewall, a hung host)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield f"postgresql+asyncpg://bot:{PASSWORD}@127.0.0.1:{server.getsockname()[1]}/distansmote"


@contextmanager
def missing_database() -> Iterator[str]:
    """The right server, a database name that does not exist."""
    if not IN_CI:
        pytest.skip("needs the PostgreSQL server of CI")
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_database_for_distansmote"


CASES: dict[str, Callable[[], AbstractContextManager[str]]] = {
    "refused": closed_port,
    "silent": silent_server,
    "no-such-database": missing_database,
    "not-a-url": lambda: nullcontext("distansmote.db"),
    "unknown-driver": lambda: nullcontext(f"postgresql+nosuchdriver://bot:{PASSWORD}@127.0.0.1/distansmote"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_serve_with_a_database_it_cannot_use_stops_soon_with_one_line(tmp_path: Path, case: str) -> None:
    with CASES[case]() as url:
        environment = {
            **{name: value for name, value in os.environ.items() if not name.startswith("DISTANSMOTE_")},
            "DISTANSMOTE_DATABASE_URL": url, "DISTANSMOTE_WEBEX_TOKEN": "bot-token-for-tests",
            "DISTANSMOTE_WEBEX_WEBHOOK_SECRET": "webhook-secret-for-tests",
            "DISTANSMOTE_ALLOWED_EMAIL_DOMAINS": "region.example", "DISTANSMOTE_VIDEO_DOMAIN": "video.region.example",
        }
        started = time.monotonic()
        finished = subprocess.run(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0"], cwd=tmp_path,
            env={**environment, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
            timeout=STOPS_WITHIN + BUSY_MACHINE)
        took = time.monotonic() - started
    assert finished.returncode == 2
    lines = finished.stderr.splitlines()
    assert len(lines) == 1, finished.stderr
    assert lines[0].startswith("distansmote: configuration error: DISTANSMOTE_DATABASE_URL: ")
    assert PASSWORD not in finished.stderr
    assert took < STOPS_WITHIN + BUSY_MACHINE


@pytest.mark.parametrize("case", ["refused", "not-a-url"])
def test_report_with_a_database_it_cannot_use_stops_with_one_line(tmp_path: Path, case: str) -> None:
    with CASES[case]() as url:
        environment = {name: value for name, value in os.environ.items() if not name.startswith("DISTANSMOTE_")}
        finished = subprocess.run(
            [sys.executable, "-m", "bot.cli", "report"], cwd=tmp_path,
            env={**environment, "DISTANSMOTE_DATABASE_URL": url, "PYTHONPATH": str(REPO)},
            capture_output=True, text=True, timeout=STOPS_WITHIN + BUSY_MACHINE)
    assert finished.returncode == 2
    [line] = finished.stderr.splitlines()
    assert line.startswith("distansmote: configuration error: DISTANSMOTE_DATABASE_URL: ")
    assert PASSWORD not in finished.stderr
