"""The delivery contract: how a proactive message fails (docs/reminders.md, "Delivery interface for platform adapters").

An adapter makes one attempt: the reminder service retries, since an adapter's own retries would hold the reminder's
row lock. It should time its request out below ``SEND_TIMEOUT``, so that no send lands after :class:`Outbox` gave it up.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Iterable, Sequence

from bot.core.adapter import Adapter
from bot.core.events import PersonKey, Reply

log = logging.getLogger(__name__)

SEND_TIMEOUT = 10.0  # seconds, a platform's slow-down included
_CODE = re.compile(r"[^a-z0-9_.:-]")


class DeliveryError(Exception):
    """A message could not be delivered. ``code`` is short and safe to store (no message text)."""

    def __init__(self, code: str, *, retry_after: float | None = None) -> None:
        super().__init__(code)
        self.code = _CODE.sub("_", code.lower())[:64] or "unknown"
        self.retry_after = retry_after


class DeliveryFailed(DeliveryError):
    """Temporary (HTTP 429, 5xx, timeout): retried with backoff, honouring ``retry_after`` seconds."""


class DeliveryGone(DeliveryError):
    """Permanent: the person or the bot is gone, or the platform cannot write to them first."""


class DeliveryRefused(DeliveryError):
    """This message only (HTTP 400): sending it again cannot help, but the person is still there."""


class Outbox:
    """Proactive messages through the adapter of the person's platform, each within SEND_TIMEOUT."""

    def __init__(self, adapters: Iterable[Adapter]) -> None:
        self._adapters = {str(adapter.platform): adapter for adapter in adapters}

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(self._adapters)

    async def send(self, person: PersonKey, replies: Sequence[Reply]) -> None:
        """To a person by key; raises :class:`DeliveryError`."""
        await _within_timeout(self._adapter(person.platform).send_direct(person, replies))

    async def send_to_identity(self, platform: str, identity: str, replies: Sequence[Reply]) -> None:
        """To an admin listed by id or e-mail, on ``platform``; raises :class:`DeliveryError`."""
        await _within_timeout(self._adapter(platform).send_to_identity(identity, replies))

    def _adapter(self, platform: str) -> Adapter:
        adapter = self._adapters.get(platform)
        if adapter is None:
            raise DeliveryFailed("no_adapter")
        return adapter


async def _within_timeout(send: Awaitable[None]) -> None:
    try:
        async with asyncio.timeout(SEND_TIMEOUT):
            await send
    except DeliveryError:
        raise
    except TimeoutError:
        raise DeliveryFailed("timeout") from None
    except Exception as exc:  # noqa: BLE001 - an adapter's bug is a failed delivery, retried
        log.warning("delivery raised %s", type(exc).__name__)
        raise DeliveryFailed(type(exc).__name__) from None
