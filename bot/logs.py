"""Log lines: plain text or one JSON object a line, each carrying the request id (docs/operations.md, "Logs").

What goes into a message is the caller's care: never message text, card inputs, tokens or e-mail addresses
(tests/platforms/test_webex_logs.py runs the routine and scans every line for what it typed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

REQUEST_ID: ContextVar[str | None] = ContextVar("distansmote_request_id", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def bind_request(key: str) -> str:
    """Mark the log lines of the current task (and of the tasks it starts) with the id of ``key``."""
    request_id = hashlib.blake2s(key.encode(), digest_size=6).hexdigest()
    REQUEST_ID.set(request_id)
    return request_id


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = REQUEST_ID.get()
        return f"{line} [{request_id}]" if request_id else line


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id"?, "exception"?}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        if request_id := REQUEST_ID.get():
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


# The product's own loggers; ``level`` applies to them. Libraries stay at INFO or above: their debug
# lines carry SQL parameters and HTTP bodies, that is, what people typed.
OWN_LOGGERS = ("bot", "handlers", "cards")
# Libraries whose INFO lines say nothing an operator needs, at WARNING whatever the level: alembic's
# per-migration lines; aiohttp's line per request (the adapter logs what matters, and it costs CPU
# under load); webexpythonsdk's User-Agent line with the kernel release, once per thread; the Agents
# SDK's and MSAL's dumps of their connections and token requests. (APScheduler: bot.scheduler.)
QUIET_LIBRARIES = ("alembic", "aiohttp.access", "webexpythonsdk", "microsoft_agents", "msal")


def configure_logging(log_format: str = "text", level: str = "INFO", stream: TextIO | None = None, *,
                      force: bool = False) -> None:
    """Log to standard error (``stream``) in ``log_format``.

    Like ``logging.basicConfig``, a root logger that already has handlers (a host that configured
    logging, pytest) is left alone unless ``force``, which replaces them.
    """
    root = logging.getLogger()
    if root.handlers and not force:
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(max(logging.getLevelName(level), logging.INFO))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for library in QUIET_LIBRARIES:
        logging.getLogger(library).setLevel(logging.WARNING)
