"""The lean fake Webex API the webhook benchmark runs as a process of its own: replies recorded by sender."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bench.lib.processes import HOST

TOKEN = "bench-token"
SECRET = "bench-webhook-secret"
COMMAND = "/distansmöte hjälp"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def webex_id(kind: str, number: int) -> str:
    """An id shaped like Webex's; the number comes back out with :func:`number_of`."""
    return base64.urlsafe_b64encode(f"ciscospark://us/{kind}/{uuid.UUID(int=number)}".encode()).decode().rstrip("=")


def number_of(webex_id_: str) -> int:
    decoded = base64.urlsafe_b64decode(webex_id_ + "=" * (-len(webex_id_) % 4)).decode()
    return uuid.UUID(decoded.rsplit("/", 1)[1]).int


ORG_ID = webex_id("ORGANIZATION", 1)
BOT_ID = webex_id("PEOPLE", 0)
WEBHOOK_ID = webex_id("WEBHOOK", 1)
APP_ID = webex_id("APPLICATION", 1)


class FakeWebex:
    """Just what the bot and the reference call, answered at once; replies recorded by sender."""

    def __init__(self) -> None:
        self.replies: dict[int, float] = {}  # person number -> monotonic time of the first reply
        self.extra_replies: dict[int, int] = {}  # person number -> replies after the first
        self.created = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_bearer_token])
        app.add_routes([
            web.get("/v1/people/me", self._me), web.get("/v1/people/{id}", self._person),
            web.get("/v1/messages/{id}", self._message), web.post("/v1/messages", self._post),
            web.get("/v1/webhooks", self._webhooks), web.get("/bench/replies", self._replies),
        ])
        return app

    def _person_json(self, number: int) -> dict[str, Any]:
        return {"id": webex_id("PEOPLE", number), "emails": [f"person{number}@region.example"],
                "displayName": f"Person {number}", "firstName": "Person", "lastName": str(number),
                "orgId": ORG_ID, "created": self.created, "type": "person"}

    async def _me(self, request: web.Request) -> web.Response:
        return web.json_response({**self._person_json(0), "displayName": "Distansmöte", "firstName": "Distansmöte",
                                  "type": "bot"})

    async def _person(self, request: web.Request) -> web.Response:
        return web.json_response(self._person_json(number_of(request.match_info["id"])))

    async def _message(self, request: web.Request) -> web.Response:
        number = number_of(request.match_info["id"])
        return web.json_response({
            "id": request.match_info["id"], "roomId": webex_id("ROOM", number), "roomType": "direct",
            "text": COMMAND, "personId": webex_id("PEOPLE", number), "personEmail": f"person{number}@region.example",
            "created": self.created,
        })

    async def _post(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        body = await request.json()
        number = number_of(body.get("toPersonId") or body["roomId"])
        if number in self.replies:
            self.extra_replies[number] = self.extra_replies.get(number, 0) + 1
        else:
            self.replies[number] = arrived
        return web.json_response({"id": webex_id("MESSAGE", 10**12 + number), "roomId": webex_id("ROOM", number),
                                  "roomType": "direct", "personId": BOT_ID, "created": self.created})

    async def _webhooks(self, request: web.Request) -> web.Response:
        return web.json_response({"items": []})

    async def _replies(self, request: web.Request) -> web.Response:
        """``?first=&last=``: how many replies arrived for that range (``&times=1``: and when)."""
        first, last = int(request.query["first"]), int(request.query["last"])
        times = {n: t for n, t in self.replies.items() if first <= n <= last}
        extra = sum(n for number, n in self.extra_replies.items() if first <= number <= last)
        answer: dict[str, Any] = {"count": len(times), "extra": extra}
        if request.query.get("times"):
            answer["times"] = times
        return web.json_response(answer)


@web.middleware
async def _bearer_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/v1/") and request.headers.get("Authorization") != f"Bearer {TOKEN}":
        return web.json_response({"message": "invalid token", "trackingId": "BENCH"}, status=401)
    return await handler(request)


def run_fake(port: int) -> None:
    web.run_app(FakeWebex().app(), host=HOST, port=port, print=None, access_log=None)
