"""The local demo platform: a 1:1 chat with the bot per demo user, in a web page.

It is the third adapter beside Webex and Teams (``bot.core.adapter``): a typed text or a card
submission becomes the same neutral :class:`~bot.core.Event`, goes to the dispatcher, and the
replies are kept in an in-memory conversation that the page long-polls. The caller binds it to
127.0.0.1.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.core import Actor, Event, PersonKey, Platform, Reply
from bot.core.adapter import AdapterHost
from bot.core.delivery import DeliveryGone
from bot.demo.conversations import Conversations
from bot.demo.requests import BadRequest, CardSubmission, MessagesQuery, TypedMessage, read_json, validated
from bot.demo.users import DEMO_USERS, DemoUser, find_people
from bot.platforms import PlatformEntry
from cards import texts

log = logging.getLogger(__name__)

NAME = Platform("demo")
# `distansmote demo` runs it, never `serve`: no settings of its own, nothing for `check` to try.
PLATFORM = PlatformEntry(NAME, "Demo")

STATIC_DIR = Path(__file__).with_name("static")
REPO_ROOT = Path(__file__).resolve().parents[2]
ADAPTIVECARDS_DIST = Path("node_modules", "adaptivecards", "dist")

# The page's own policy: everything from this server, nothing from anywhere else. The card
# renderer sets inline styles, hence 'unsafe-inline' for styles only.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
STATIC_FILES = {
    "app.js": "text/javascript",
    "clock.js": "text/javascript",
    "app.css": "text/css",
    "icon.svg": "image/svg+xml",
}
# What the side panel shows of a room; the rest of the simulator's record stays behind.
ROOM_FIELDS = ("id", "name", "uri", "callId", "inCall", "joined")


class DemoSetupError(RuntimeError):
    """Something the demo needs is missing; the message says how to get it."""


def find_adaptivecards_js(places: Sequence[Path] | None = None) -> Path:
    """Microsoft's card renderer from ``node_modules``, looked for here and at the repository root."""
    for base in places if places is not None else (Path.cwd(), REPO_ROOT):
        for name in ("adaptivecards.min.js", "adaptivecards.js"):
            candidate = base / ADAPTIVECARDS_DIST / name
            if candidate.is_file():
                return candidate
    raise DemoSetupError(
        "The demo page needs the npm package 'adaptivecards', which is not installed: "
        f"run `npm ci` in {REPO_ROOT} (or `make demo`)."
    )


# The names the demo answers to, with or without a port. Any other Host is a page elsewhere
# that had its own name resolve to 127.0.0.1 (DNS rebinding) to drive the demo from the browser.
_LOCAL_HOST = re.compile(r"(?:127\.0\.0\.1|localhost)(?::[0-9]{1,5})?", re.IGNORECASE)


@web.middleware
async def only_local_hosts(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
                           ) -> web.StreamResponse:
    if not _LOCAL_HOST.fullmatch(request.headers.get("Host", "")):
        return web.json_response({"error": "unknown host"}, status=403, headers=API_HEADERS)
    return await handler(request)


def _api_error(exc: BadRequest) -> web.Response:
    body: dict[str, Any] = {"error": exc.error}
    if exc.details:
        body["details"] = exc.details
    if exc.messages is not None:
        body["messages"] = exc.messages
    return web.json_response(body, status=exc.status, headers=API_HEADERS)


def _file(path: Path, content_type: str) -> web.FileResponse:
    return web.FileResponse(path, headers={**PAGE_HEADERS, "Content-Type": f"{content_type}; charset=utf-8"})


def _api_json(body: Mapping[str, Any]) -> web.Response:
    return web.json_response(body, headers=API_HEADERS)


def _failure(exc: BaseException) -> str:
    """The error's kind and its driver's (``OperationalError from OperationalError``), never its
    text: that may quote the statement and what a person typed."""
    cause = getattr(exc, "orig", None) or exc.__cause__
    return f"{type(exc).__name__} from {type(cause).__name__}" if cause else type(exc).__name__


# -- the adapter ------------------------------------------------------------------------------

Rooms = Callable[[], Iterable[Mapping[str, Any]]]
ApiHandler = Callable[[web.Request], Awaitable[Mapping[str, Any]]]


class DemoAdapter:
    """Serves the page and its API; ``rooms`` lists the CMS simulator's rooms for the side panel."""

    platform = NAME
    ready = True  # nothing to read from anywhere

    def __init__(self, rooms: Rooms, users: Sequence[DemoUser] = DEMO_USERS,
                 adaptivecards_js: Path | None = None) -> None:
        if not users:
            raise ValueError("the demo needs at least one user")
        self._rooms = rooms
        self._users = {user.id: user for user in users}
        # Looked up now so that a missing `npm ci` stops start-up, not the first page load.
        self._adaptivecards_js = adaptivecards_js or find_adaptivecards_js()
        self.conversations = Conversations(self._users)
        self._host: AdapterHost | None = None

    def install(self, app: web.Application, host: AdapterHost) -> None:
        self._host = host
        app.middlewares.append(only_local_hosts)  # the demo runs alone: every route is its own
        app.router.add_get("/", self._page)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/vendor/adaptivecards.js", self._vendor)
        app.router.add_get("/api/demo/users", self._api(self._list_users))
        app.router.add_post("/api/demo/message", self._api(self._message))
        app.router.add_post("/api/demo/submit", self._api(self._submit))
        app.router.add_get("/api/demo/messages", self._api(self._messages))
        app.router.add_get("/api/demo/rooms", self._api(self._list_rooms))
        app.on_shutdown.append(self._on_shutdown)

    async def send_direct(self, person: PersonKey, replies: Sequence[Reply]) -> None:
        # Every demo user's chat is known from the start: no stored reference is needed.
        await self.send_to_identity(person.id, replies)

    async def send_to_identity(self, identity: str, replies: Sequence[Reply]) -> None:
        user = self._users.get(identity) or next(
            (u for u in self._users.values() if u.email.casefold() == identity.casefold()), None)
        if user is None:
            raise DeliveryGone("not_a_demo_user")
        for reply in replies:
            await self._post_reply(user.id, reply)

    async def find_people(self, wanted: str) -> Sequence[Actor]:
        """The demo's staff are its organisation (``bot.core.adapter.PeopleSearch``)."""
        return find_people(self._users.values(), wanted)

    async def person(self, person_id: str) -> Actor | None:
        user = self._users.get(person_id)
        return user.actor if user else None

    # -- page and files -----------------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.FileResponse:
        return _file(STATIC_DIR / "index.html", "text/html")

    async def _static(self, request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        return _file(STATIC_DIR / name, STATIC_FILES[name])

    async def _vendor(self, request: web.Request) -> web.FileResponse:
        return _file(self._adaptivecards_js, "text/javascript")

    # -- API ----------------------------------------------------------------------------------

    @staticmethod
    def _api(handler: ApiHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
        """JSON in, JSON out; a bad request becomes a 4xx JSON answer."""

        async def answer(request: web.Request) -> web.Response:
            try:
                return _api_json(await handler(request))
            except BadRequest as exc:
                return _api_error(exc)

        return answer

    async def _list_users(self, request: web.Request) -> dict[str, Any]:
        return {"users": [user.as_json() for user in self._users.values()]}

    async def _list_rooms(self, request: web.Request) -> dict[str, Any]:
        rooms = [{key: room.get(key) for key in ROOM_FIELDS} for room in self._rooms()]
        return {"rooms": sorted(rooms, key=lambda room: str(room["name"]).casefold())}

    async def _messages(self, request: web.Request) -> dict[str, Any]:
        query = validated(MessagesQuery, dict(request.query))
        user = self._user(query.user)
        messages = await self.conversations.wait_after(user.id, query.after, query.wait)
        return {"messages": [m.as_json() for m in messages]}

    async def _message(self, request: web.Request) -> dict[str, Any]:
        body = validated(TypedMessage, await read_json(request))
        user = self._user(body.user)
        mark = self.conversations.last_id
        assert self._host is not None
        shown = texts.DEMO_HIDDEN_TEXT if self._host.guard([body.text]) else body.text
        await self.conversations.append(user.id, "user", shown)
        return await self._handle(user, mark, text=body.text)

    async def _submit(self, request: web.Request) -> dict[str, Any]:
        body = validated(CardSubmission, await read_json(request))
        user = self._user(body.user)
        return await self._handle(user, self.conversations.last_id, inputs=body.inputs)

    async def _handle(self, user: DemoUser, mark: int, *, text: str | None = None,
                      inputs: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Send the event through the bot; answer with the user's messages since ``mark``."""
        event = Event(
            platform=NAME, event_id=str(uuid.uuid4()), actor=user.actor,
            conversation=user.conversation, text=text, inputs=dict(inputs or {}),
        )
        assert self._host is not None
        try:
            replies = await self._host.dispatcher.handle(event)
        except Exception as exc:  # noqa: BLE001 - the dispatcher raises only when the store fails
            # A full disk, say: one line for the operator, and the person is told in Swedish.
            log.error("demo event not handled: the database failed (%s)", _failure(exc))
            await self._post_reply(user.id, Reply(texts.DEMO_STORE_DOWN))
            raise BadRequest(503, "database unavailable",
                             messages=[m.as_json() for m in self.conversations.after(user.id, mark)]) from None
        for reply in replies:
            # Every demo chat is 1:1, so a direct reply and an answer land in the same place.
            await self._post_reply(user.id, reply)
        await self._host.dispatcher.delivered(event)
        return {"messages": [m.as_json() for m in self.conversations.after(user.id, mark)]}

    async def _post_reply(self, user_id: str, reply: Reply) -> None:
        await self.conversations.append(user_id, "bot", reply.text, reply.card)

    def _user(self, user_id: str) -> DemoUser:
        user = self._users.get(user_id)
        if user is None:
            raise BadRequest(400, "unknown user")
        return user

    async def _on_shutdown(self, app: web.Application) -> None:
        await self.conversations.close()
