"""A fourth platform, the smallest there is: a region's intranet chat that POSTs what a person typed.

It is all in this module, declared as bot/platforms/webex/__init__.py declares Webex, and needs
nothing else of the bot but its one line in the registry (tests/platforms/test_fourth_platform.py
adds that line). It imports only the public contract: the settings base, the neutral core, the
adapter contract and what a platform declares.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from aiohttp import web
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from bot.config import ENV_PREFIX, ConfigError, PlatformSettings, Settings
from bot.core import Actor, Conversation, Event, PersonKey, Platform, Reply
from bot.core.adapter import Adapter, AdapterHost
from bot.core.delivery import DeliveryGone
from bot.platforms import PlatformEntry, Verdict

NAME = Platform("intranet")
PATH = "/intranet/messages"


class IntranetSettings(PlatformSettings):
    """``DISTANSMOTE_INTRANET_*``."""

    model_config = SettingsConfigDict(env_prefix=f"{ENV_PREFIX}INTRANET_")

    token: SecretStr | None = None  # the intranet signs nothing: it sends this shared token

    @property
    def configured(self) -> bool:
        return self.token is not None


class IntranetAdapter:
    """``POST /intranet/messages`` ``{"id", "user", "name", "text"}``: answered with the replies' texts."""

    platform = NAME
    ready = True

    def __init__(self, settings: Settings) -> None:
        token = IntranetSettings.of(settings).token
        if token is None or not token.get_secret_value():
            raise ConfigError("DISTANSMOTE_INTRANET_TOKEN: required for the intranet")
        self._token = token.get_secret_value()
        self.pushed: list[tuple[str, str]] = []  # (reference, text) the bot sent on its own
        self._host: AdapterHost | None = None

    def install(self, app: web.Application, host: AdapterHost) -> None:
        self._host = host
        app.router.add_post(PATH, self._receive)

    async def _receive(self, request: web.Request) -> web.Response:
        assert self._host is not None
        if not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {self._token}"):
            return web.json_response({"error": "unauthorized"}, status=401)
        body = await request.json()
        actor = Actor(id=str(body["user"]), name=str(body["name"]))
        event = Event(NAME, str(body["id"]), actor, Conversation(f"direct-{actor.id}", is_direct=True),
                      text=str(body["text"]), reference=f"direct-{actor.id}")
        replies = await self._host.dispatcher.handle(event)
        await self._host.dispatcher.delivered(event)
        return web.json_response({"replies": [reply.text for reply in replies]})

    async def send_direct(self, person: PersonKey, replies: Sequence[Reply]) -> None:
        assert self._host is not None
        reference = await self._host.references.find(person)
        if reference is None:
            raise DeliveryGone("no_reference")
        self.pushed += [(reference, reply.text) for reply in replies]

    async def send_to_identity(self, identity: str, replies: Sequence[Reply]) -> None:
        await self.send_direct(PersonKey(NAME, identity), replies)


def _build(settings: Settings, host: str) -> Adapter:
    return IntranetAdapter(settings)


async def _check(settings: Settings) -> list[Verdict]:
    return [Verdict("Intranet", True, "a token is set; the intranet calls us, so there is nothing to try")]


PLATFORM = PlatformEntry(NAME, "Intranet", IntranetSettings, _build, _check, switch=f"{ENV_PREFIX}INTRANET_TOKEN")
