"""Reading a request body at an adapter's edge: bounded in size and in time, parsed safely.

A body that never finishes would hold its handler for good; a client that leaves mid-body is
ordinary on the internet and worth a debug line, not an ERROR traceback; JSON nested deeper
than Python's recursion limit raises ``RecursionError``, not ``ValueError``.
"""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger(__name__)

BODY_TIMEOUT_SECONDS = 10.0


class BodyRefused(Exception):
    """A body the route will not use; ``status`` and ``error`` make the answer, ``outcome``
    names it in the metrics."""

    def __init__(self, status: int, error: str, outcome: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.outcome = outcome


async def read_body(request: web.Request, *, limit: int, within: float = BODY_TIMEOUT_SECONDS) -> bytes:
    """The raw body, read within ``within`` seconds and not past ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyRefused(413, "request body too large", "too_large")
    body = bytearray()
    try:
        async with asyncio.timeout(within):
            async for chunk in request.content.iter_any():
                body += chunk
                if len(body) > limit:
                    raise BodyRefused(413, "request body too large", "too_large")
    except TimeoutError:
        log.info("request body not received within %.0f s (%s)", within, request.path)
        raise BodyRefused(408, "request body too slow", "too_slow") from None
    except (ConnectionError, HttpProcessingError):
        # Nobody is left to read an answer; the server drops the connection quietly.
        log.debug("client went away before its request body was read (%s)", request.path)
        raise BodyRefused(400, "incomplete request body", "incomplete") from None
    return bytes(body)


def parse_json(body: bytes) -> object:
    """``body`` as JSON; anything that is not JSON, or nested too deep to parse, is refused."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise BodyRefused(400, "malformed JSON", "not_json") from None

