"""Waiting in a test for what another task or process does, with a time limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def eventually(condition: Callable[[], object], *, within: float = 30.0) -> None:
    """Wait until ``condition()`` is true (something another task or process does), failing after
    ``within`` seconds. ``condition`` is a plain function, asked again every 10 ms."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the condition did not come true within {within} s")
        await asyncio.sleep(0.01)
