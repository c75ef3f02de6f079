"""Each demo user's 1:1 chat with the bot, in memory only, which the page long-polls."""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Literal


@dataclass(frozen=True)
class ChatMessage:
    id: int
    sender: Literal["user", "bot"]
    text: str
    card: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "from": self.sender, "text": self.text, "card": self.card}


class Conversations:
    """Each demo user's 1:1 chat, in memory only, with a wake-up for waiting long-polls."""

    def __init__(self, user_ids: Iterable[str]) -> None:
        self._messages: dict[str, list[ChatMessage]] = {user_id: [] for user_id in user_ids}
        self._last_id = 0
        self._changed = asyncio.Condition()
        self._closing = False

    @property
    def last_id(self) -> int:
        return self._last_id

    async def append(self, user_id: str, sender: Literal["user", "bot"], text: str,
                     card: dict[str, Any] | None = None) -> ChatMessage:
        async with self._changed:
            self._last_id += 1
            message = ChatMessage(self._last_id, sender, text, card)
            self._messages[user_id].append(message)
            self._changed.notify_all()
        return message

    def after(self, user_id: str, after: int) -> list[ChatMessage]:
        # Ids only grow, so the new messages are a tail of the list.
        messages = self._messages[user_id]
        return messages[bisect_right(messages, after, key=attrgetter("id")):]

    async def wait_after(self, user_id: str, after: int, seconds: float) -> list[ChatMessage]:
        """Messages newer than ``after``; waits up to ``seconds`` for the first one."""
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self._closing or bool(self.after(user_id, after))),
                    seconds,
                )
            except TimeoutError:
                pass
        return self.after(user_id, after)

    async def close(self) -> None:
        """Release waiting long-polls so the server can stop at once."""
        async with self._changed:
            self._closing = True
            self._changed.notify_all()
