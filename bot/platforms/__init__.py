"""Platform adapters: each translates its platform's requests into events and replies back."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from bot.core import Platform, Reply


class PlatformAdapter(Protocol):
    platform: Platform

    @property
    def ready(self) -> bool:
        """The adapter can take traffic (it has read the bot's identity from its platform): ``/readyz``."""

    def install(self, app: web.Application) -> None:
        """Add this platform's routes and start-up/clean-up hooks to the app."""

    async def send_direct(self, person_id: str, reply: Reply) -> None:
        """Send ``reply`` 1:1 to a person (reminders). ``person_id`` is the platform's own id."""
