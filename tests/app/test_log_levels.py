"""Third-party loggers are quiet by default: the Webex SDK's User-Agent line (with the kernel release)
and the Agents SDK's INFO lines stay out of the log, the bot's own INFO lines go in."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from webexpythonsdk import WebexAPI

from bot.logs import configure_logging


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("text", "DEBUG", stream, force=True)
    try:
        yield stream
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def test_libraries_log_warnings_only_even_when_the_bot_logs_debug(log):
    WebexAPI(access_token="a-token-for-tests", base_url="http://127.0.0.1:9/v1/")  # logs its User-Agent
    logging.getLogger("microsoft_agents.hosting.core.app").info("connection settings: ...")
    logging.getLogger("msal.application").info("token request ...")
    logging.getLogger("bot.services.meetings").debug("room X created")
    logging.getLogger("microsoft_agents.hosting.core").warning("a warning still shows")
    lines = log.getvalue().splitlines()
    assert not [line for line in lines if "User-Agent" in line or "connection settings" in line or "token" in line]
    assert any(line.endswith("bot.services.meetings: room X created") for line in lines)
    assert any("a warning still shows" in line for line in lines)
