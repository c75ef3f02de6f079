"""Waits between retries, recorded instead of slept, for tests of adapters that retry."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Sleeps:
    """The adapter's waits between retries, recorded instead of slept."""

    seconds: list[float] = field(default_factory=list)

    async def __call__(self, delay: float) -> None:
        self.seconds.append(delay)
        await asyncio.sleep(0)
