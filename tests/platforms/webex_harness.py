"""The Webex adapter's tests' harness: the app behind signed webhooks, and steps through the routine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

from bot.platforms.webex.route import WebexAdapter
from bot.runtime import Services
from cards import texts
from tests.fakes.webex import Delivery, SentMessage, WebexFake
from tests.harness import submission
from tests.sleeps import Sleeps

TOKEN = "bot-token-for-tests"
SECRET = "webhook-secret-for-tests"
REGION_DOMAIN = "region.example"


@dataclass
class Harness:
    fake: WebexFake
    adapter: WebexAdapter
    client: TestClient
    services: Services
    sleeps: Sleeps

    async def post(self, delivery: Delivery, *, body: bytes | None = None,
                   headers: dict[str, str] | None = None) -> int:
        response = await self.client.post("/webex/events", data=delivery.body if body is None else body,
                                          headers=delivery.headers if headers is None else headers)
        return response.status

    async def deliver(self, delivery: Delivery) -> None:
        """POST a delivery as Webex does and wait until the bot has handled it."""
        assert await self.post(delivery) == 200
        await self.adapter.drain()

    def api_calls(self) -> list[tuple[str, str]]:
        return [(method, path.split("?")[0]) for method, path, _ in self.fake.requests]


async def click(webex: Harness, person: dict[str, Any], message: SentMessage, button: str, **inputs: str) -> None:
    assert message.card is not None
    await webex.deliver(webex.fake.submit_card(person, message.id, submission(message.card, button, **inputs)))


async def create_room(webex: Harness, person: dict[str, Any], form: SentMessage) -> None:
    await click(webex, person, form, texts.CREATE_ROOM, unit="HC Torsås", date="2026-11-26", start="13:30",
                length="60")


def latest_card(webex: Harness, person: dict[str, Any]) -> SentMessage:
    return [m for m in webex.fake.sent_to(person_id=person["id"]) if m.card is not None][-1]
