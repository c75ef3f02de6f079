"""A fake Webex messaging API for the tests, after the public API reference
(https://developer.webex.com/docs/api/v1/messages, .../webhooks, .../people).

It serves the part of ``https://webexapis.com/v1/`` the bot uses, with the status codes and
error bodies the real SDK expects, so the bot's own client code runs unchanged against it.
Tests drive it from the other side: they register people, put a user's message or card
submission into its store and get back the signed webhook delivery to POST to the bot, and
they read :attr:`WebexFake.sent` to see exactly what the bot posted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import html
import itertools
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

MAX_TEXT_BYTES = 7439
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
NO_DESTINATION = (
    "Message destination could not be determined. Provide only one destination in the roomId, "
    "toPersonEmail, or toPersonId field"
)
MAX_EDITS = 10

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def webex_id(kind: str, raw: str | None = None) -> str:
    """An id shaped like Webex's: base64 of ``ciscospark://us/<KIND>/<uuid>`` without padding."""
    uri = f"ciscospark://us/{kind}/{raw or uuid.uuid4()}"
    return base64.urlsafe_b64encode(uri.encode()).decode().rstrip("=")


def sign(body: bytes, secret: str) -> str:
    """The ``X-Spark-Signature`` Webex sends: hex HMAC-SHA1 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ApiFailure(Exception):
    """Answered as Webex answers errors: JSON with ``message`` and ``trackingId``."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


@dataclass
class Fault:
    """An injected failure for the next ``count`` matching requests."""

    status: int
    count: int = 1
    retry_after: str | None = None
    method: str | None = None
    path: str | None = None  # a prefix below /v1/, e.g. "messages"

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or path.startswith(self.path)
        )


@dataclass(frozen=True)
class SentMessage:
    """One message the bot posted, as Webex received it."""

    id: str
    room_id: str
    room_type: str
    to_person_id: str | None
    to_person_email: str | None
    text: str | None
    markdown: str | None
    attachments: list[dict[str, Any]]
    parent_id: str | None
    received_at: datetime

    @property
    def card(self) -> dict[str, Any] | None:
        return self.attachments[0]["content"] if self.attachments else None


@dataclass(frozen=True)
class Delivery:
    """A signed webhook request, ready to POST to the bot's ``/webex/events``."""

    envelope: dict[str, Any]
    body: bytes
    headers: dict[str, str]

    @property
    def data_id(self) -> str:
        return str(self.envelope["data"]["id"])


@dataclass
class _Room:
    id: str
    type: str  # "direct" | "group"
    members: set[str] = field(default_factory=set)


class WebexFake:
    """State and HTTP app of the fake. ``app`` is served under ``/v1/``; the bot is ``bot``."""

    def __init__(self, *, token: str = "fake-webex-token", webhook_secret: str = "fake-webhook-secret",
                 bot_name: str = "Distansmöte", bot_email: str = "distansmote@webex.bot",
                 org_id: str | None = None) -> None:
        self.token = token
        self.webhook_secret = webhook_secret
        self.org_id = org_id or webex_id("ORGANIZATION")
        self.bot: dict[str, Any] = {
            "id": webex_id("PEOPLE"), "emails": [bot_email], "displayName": bot_name,
            "nickName": bot_name, "firstName": bot_name, "lastName": "", "avatar": None,
            "orgId": self.org_id, "created": _now(), "type": "bot",
        }
        self.people: dict[str, dict[str, Any]] = {self.bot["id"]: self.bot}
        self.rooms: dict[str, _Room] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.actions: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.sent: list[SentMessage] = []
        self.deleted: list[str] = []
        self.requests: list[tuple[str, str, int]] = []  # (method, path with query, status)
        self.faults: list[Fault] = []
        self.hangs: list[Fault] = []
        self.hanging = 0  # requests held by hang_next now
        self._released = asyncio.Event()
        self.latency = 0.0
        self._open = asyncio.Event()
        self._open.set()
        self._edits: dict[str, int] = {}
        self._tracking = itertools.count(1)
        self.app = self._build_app()

    # -- test driver: people, rooms, inbound events -------------------------------------------

    def add_person(self, display_name: str, email: str, *, org_id: str | None = None,
                   person_type: str = "person") -> dict[str, Any]:
        first, _, last = display_name.partition(" ")
        person = {
            "id": webex_id("PEOPLE"), "emails": [email], "displayName": display_name,
            "firstName": first, "lastName": last, "avatar": None, "orgId": org_id or self.org_id,
            "created": _now(), "type": person_type,
        }
        self.people[person["id"]] = person
        return person

    def direct_room(self, person_id: str) -> str:
        """The 1:1 space of ``person_id`` and the bot (created on first use, as Webex does)."""
        for room in self.rooms.values():
            if room.type == "direct" and room.members == {person_id, self.bot["id"]}:
                return room.id
        room = _Room(webex_id("ROOM"), "direct", {person_id, self.bot["id"]})
        self.rooms[room.id] = room
        return room.id

    def group_room(self, *member_ids: str) -> str:
        room = _Room(webex_id("ROOM"), "group", {self.bot["id"], *member_ids})
        self.rooms[room.id] = room
        return room.id

    def user_message(self, person: Mapping[str, Any], text: str, *, room_id: str | None = None,
                     mention_bot: bool | None = None) -> Delivery:
        """A person writes ``text``; in a group space with ``@bot`` first, as Webex clients do."""
        room_id = room_id or self.direct_room(person["id"])
        room = self.rooms[room_id]
        mention = room.type == "group" if mention_bot is None else mention_bot
        message = self._store_message(person, room, text, mention=mention)
        return self.message_created(message["id"])

    def message_created(self, message_id: str) -> Delivery:
        """The ``messages/created`` delivery for a stored message (also one the bot posted)."""
        message = self.messages[message_id]
        data = {key: message[key] for key in ("id", "roomId", "roomType", "personId", "personEmail", "created")}
        if message.get("mentionedPeople"):
            data["mentionedPeople"] = message["mentionedPeople"]
        return self.delivery("messages", "created", data, actor_id=message["personId"])

    def submit_card(self, person: Mapping[str, Any], message_id: str, inputs: Mapping[str, Any]) -> Delivery:
        """A person clicks an ``Action.Submit`` on the card in ``message_id``."""
        message = self.messages[message_id]
        action = {
            "id": webex_id("ATTACHMENT_ACTION"), "type": "submit", "messageId": message_id,
            "personId": person["id"], "roomId": message["roomId"], "inputs": dict(inputs),
            "created": _now(),
        }
        self.actions[action["id"]] = action
        data = {key: action[key] for key in ("id", "type", "messageId", "personId", "roomId", "created")}
        return self.delivery("attachmentActions", "created", data, actor_id=person["id"])

    def delivery(self, resource: str, event: str, data: Mapping[str, Any], *, actor_id: str,
                 secret: str | None = None) -> Delivery:
        """The envelope signed over its exact bytes, as Webex POSTs it."""
        hook = self._hook_for(resource, event)
        envelope = {
            "id": hook["id"], "name": hook["name"], "targetUrl": hook["targetUrl"],
            "resource": resource, "event": event, "filter": hook.get("filter"),
            "orgId": self.org_id, "createdBy": self.bot["id"], "appId": hook["appId"],
            "ownedBy": "creator", "status": "active", "created": hook["created"],
            "actorId": actor_id, "data": dict(data),
        }
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Spark-Signature": sign(body, self.webhook_secret if secret is None else secret),
        }
        return Delivery(envelope, body, headers)

    # -- test driver: webhooks and faults -----------------------------------------------------

    def add_webhook(self, *, name: str, target_url: str, resource: str, event: str,
                    secret: str | None = None, status: str = "active") -> dict[str, Any]:
        hook = {
            "id": webex_id("WEBHOOK"), "name": name, "targetUrl": target_url, "resource": resource,
            "event": event, "filter": None, "secret": secret, "status": status,
            "orgId": self.org_id, "createdBy": self.bot["id"], "appId": webex_id("APPLICATION"),
            "ownedBy": "creator", "created": _now(),
        }
        self.webhooks[hook["id"]] = hook
        return hook

    def disable_webhook(self, webhook_id: str) -> None:
        """What Webex does after too many failed deliveries: ``status: inactive``."""
        self.webhooks[webhook_id]["status"] = "inactive"

    def fail_next(self, status: int, *, count: int = 1, retry_after: str | int | None = None,
                  method: str | None = None, path: str | None = None) -> None:
        """Answer the next ``count`` matching requests with ``status`` (429 may carry Retry-After)."""
        after = None if retry_after is None else str(retry_after)
        self.faults.append(Fault(status, count, after, method, path))

    def hang_next(self, *, count: int = 1, method: str | None = None, path: str | None = None) -> None:
        """Hold the next ``count`` matching requests without carrying them out until :meth:`release`,
        which answers them 503: a Webex that took a request and never answered it."""
        self.hangs.append(Fault(503, count, None, method, path))
        self._released.clear()  # a release before does not answer these

    def release(self) -> None:
        self._released.set()

    def pause(self) -> None:
        """Hold every API request until :meth:`resume` (a Webex API that does not answer)."""
        self._open.clear()

    def resume(self) -> None:
        self._open.set()

    def sent_to(self, *, person_id: str | None = None, room_id: str | None = None) -> list[SentMessage]:
        return [m for m in self.sent if (person_id is None or m.to_person_id == person_id)
                and (room_id is None or m.room_id == room_id)]

    # -- the HTTP app --------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        routes = [
            web.get("/v1/people", self._people_list),
            web.get("/v1/people/me", self._people_me),
            web.get("/v1/people/{id}", self._people_get),
            web.post("/v1/messages", self._messages_create),
            web.get("/v1/messages", self._messages_list),
            web.get("/v1/messages/{id}", self._messages_get),
            web.put("/v1/messages/{id}", self._messages_update),
            web.delete("/v1/messages/{id}", self._messages_delete),
            web.get("/v1/attachment/actions/{id}", self._actions_get),
            web.get("/v1/webhooks", self._webhooks_list),
            web.post("/v1/webhooks", self._webhooks_create),
            web.get("/v1/webhooks/{id}", self._webhooks_get),
            web.put("/v1/webhooks/{id}", self._webhooks_update),
            web.delete("/v1/webhooks/{id}", self._webhooks_delete),
        ]
        app.add_routes(routes)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await self._guarded(request, handler)
        except ApiFailure as failure:
            response = self._error(failure)
        self.requests.append((request.method, request.path_qs, response.status))
        return response

    async def _guarded(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        await self._open.wait()
        if self.latency:
            await asyncio.sleep(self.latency)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise ApiFailure(401, "The request requires a valid access token set in the Authorization request header.")
        await self._hang(request.method, request.path.removeprefix("/v1/"))
        self._inject_fault(request.method, request.path.removeprefix("/v1/"))
        return await handler(request)

    async def _hang(self, method: str, path: str) -> None:
        for hang in self.hangs:
            if hang.count > 0 and hang.matches(method, path):
                hang.count -= 1
                self.hanging += 1
                try:
                    await self._released.wait()
                finally:
                    self.hanging -= 1
                raise ApiFailure(hang.status, "Held, and given up.")

    def _inject_fault(self, method: str, path: str) -> None:
        for fault in self.faults:
            if fault.count > 0 and fault.matches(method, path):
                fault.count -= 1
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                raise ApiFailure(fault.status, "Injected fault.", headers)

    def _error(self, failure: ApiFailure) -> web.Response:
        tracking_id = f"ROUTER_FAKE_{next(self._tracking)}"
        body = {"message": failure.message, "errors": [{"description": failure.message}],
                "trackingId": tracking_id}
        return web.json_response(body, status=failure.status, headers={"trackingId": tracking_id, **failure.headers})

    # -- people ------------------------------------------------------------------------------

    async def _people_me(self, request: web.Request) -> web.Response:
        return web.json_response(self.bot)

    async def _people_list(self, request: web.Request) -> web.Response:
        """``GET people?email=`` (exact, the caller's org only) or ``?displayName=`` (the start of a
        display, first or last name); a non-admin must give one of them."""
        email, name = request.query.get("email", "").casefold(), request.query.get("displayName", "").casefold()
        if not email and not name:
            raise ApiFailure(400, "Email or displayName should be specified.")
        people = [p for p in self.people.values() if p["type"] == "person" and (
            email in (e.casefold() for e in p["emails"]) and p["orgId"] == self.org_id if email
            else any(str(p.get(part) or "").casefold().startswith(name)
                     for part in ("displayName", "firstName", "lastName")))]
        return self._page(request, people)

    async def _people_get(self, request: web.Request) -> web.Response:
        return web.json_response(self._find(self.people, request.match_info["id"], "Person"))

    # -- messages ----------------------------------------------------------------------------

    async def _messages_create(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        room = self._destination(body)
        text, markdown = _checked_text(body)
        attachments = _checked_attachments(body.get("attachments"))
        if not (text or markdown or attachments or body.get("files")):
            raise ApiFailure(400, "Message must contain text, markdown, files or attachments.")
        message = self._store_message(self.bot, room, text, markdown=markdown, attachments=attachments,
                                      parent_id=body.get("parentId"))
        self.sent.append(SentMessage(
            id=message["id"], room_id=room.id, room_type=room.type, to_person_id=body.get("toPersonId"),
            to_person_email=body.get("toPersonEmail"), text=text, markdown=markdown,
            attachments=attachments, parent_id=body.get("parentId"), received_at=datetime.now(UTC),
        ))
        return web.json_response(_public(message))

    def _destination(self, body: Mapping[str, Any]) -> _Room:
        given = [key for key in ("roomId", "toPersonId", "toPersonEmail") if body.get(key)]
        if len(given) != 1:
            raise ApiFailure(400, NO_DESTINATION)
        if given[0] == "roomId":
            return self._room(body["roomId"])
        if given[0] == "toPersonId":
            person = self._find(self.people, body["toPersonId"], "Person")
        else:
            person = self._person_by_email(body["toPersonEmail"])
        return self.rooms[self.direct_room(person["id"])]

    async def _messages_get(self, request: web.Request) -> web.Response:
        return web.json_response(_public(self._find(self.messages, request.match_info["id"], "Message")))

    async def _messages_list(self, request: web.Request) -> web.Response:
        room = self._room(request.query.get("roomId", ""))
        mentioned_me = request.query.get("mentionedPeople") in ("me", self.bot["id"])
        if room.type == "group" and not mentioned_me:
            # Bots only see messages that mention them in group spaces (WebexPythonSDK#235).
            raise ApiFailure(403, "Failed to get activity.")
        items = [m for m in self.messages.values() if m["roomId"] == room.id
                 and (not mentioned_me or self.bot["id"] in m.get("mentionedPeople", []))]
        items.reverse()  # newest first, as Webex lists them
        return self._page(request, [_public(m) for m in items])

    async def _messages_update(self, request: web.Request) -> web.Response:
        message = self._find(self.messages, request.match_info["id"], "Message")
        body = await _json_object(request)
        if message["personId"] != self.bot["id"]:
            raise ApiFailure(403, "Only the author can edit a message.")
        if message.get("attachments"):
            raise ApiFailure(400, "Edits of messages containing files or attachments are not currently supported.")
        if body.get("roomId") != message["roomId"]:
            raise ApiFailure(400, "roomId is required and must be the message's room.")
        if self._edits.get(message["id"], 0) >= MAX_EDITS:
            raise ApiFailure(400, "A message can be edited at most 10 times.")
        text, markdown = _checked_text(body)
        self._edits[message["id"]] = self._edits.get(message["id"], 0) + 1
        message.update(text=text or markdown, markdown=markdown, html=html.escape(text or markdown or ""),
                       updated=_now())
        return web.json_response(_public(message))

    async def _messages_delete(self, request: web.Request) -> web.Response:
        message = self._find(self.messages, request.match_info["id"], "Message")
        if message["personId"] != self.bot["id"]:
            raise ApiFailure(403, "Only the author can delete a message.")
        del self.messages[message["id"]]
        self.deleted.append(message["id"])
        return web.Response(status=204)

    async def _actions_get(self, request: web.Request) -> web.Response:
        return web.json_response(self._find(self.actions, request.match_info["id"], "Attachment action"))

    # -- webhooks ----------------------------------------------------------------------------

    async def _webhooks_list(self, request: web.Request) -> web.Response:
        return self._page(request, list(self.webhooks.values()))

    async def _webhooks_get(self, request: web.Request) -> web.Response:
        return web.json_response(self._find(self.webhooks, request.match_info["id"], "Webhook"))

    async def _webhooks_create(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        _require(body, "name", "targetUrl", "resource", "event")
        hook = self.add_webhook(name=body["name"], target_url=body["targetUrl"], resource=body["resource"],
                                event=body["event"], secret=body.get("secret"))
        hook["filter"] = body.get("filter")
        return web.json_response(hook)

    async def _webhooks_update(self, request: web.Request) -> web.Response:
        hook = self._find(self.webhooks, request.match_info["id"], "Webhook")
        body = await _json_object(request)
        _require(body, "name", "targetUrl")
        if body.get("status") not in (None, "active", "inactive"):
            raise ApiFailure(400, "status must be active or inactive.")
        hook.update(name=body["name"], targetUrl=body["targetUrl"])
        for key in ("secret", "status"):
            if body.get(key) is not None:
                hook[key] = body[key]
        return web.json_response(hook)

    async def _webhooks_delete(self, request: web.Request) -> web.Response:
        hook = self._find(self.webhooks, request.match_info["id"], "Webhook")
        del self.webhooks[hook["id"]]
        return web.Response(status=204)

    # -- helpers -----------------------------------------------------------------------------

    def _store_message(self, author: Mapping[str, Any], room: _Room, text: str | None, *,
                       markdown: str | None = None, mention: bool = False,
                       attachments: list[dict[str, Any]] | None = None,
                       parent_id: str | None = None) -> dict[str, Any]:
        plain = text or markdown
        rendered = html.escape(plain or "")
        mentioned: list[str] = []
        if mention:
            # Clients show only the bot's first name; `text` is plain, `html` carries the tag.
            name = self.bot["firstName"]
            plain = f"{name} {plain}"
            rendered = (f'<p><spark-mention data-object-type="person" data-object-id="{self.bot["id"]}">'
                        f"{html.escape(name)}</spark-mention> {rendered}</p>")
            mentioned = [self.bot["id"]]
        message = {
            "id": webex_id("MESSAGE"), "roomId": room.id, "roomType": room.type, "text": plain,
            "markdown": markdown, "html": rendered, "personId": author["id"],
            "personEmail": author["emails"][0], "mentionedPeople": mentioned,
            "attachments": attachments or [], "created": _now(),
        }
        if parent_id:
            message["parentId"] = parent_id
        self.messages[message["id"]] = message
        room.members.add(author["id"])
        return message

    def _room(self, room_id: str) -> _Room:
        room = self.rooms.get(room_id)
        if room is None:
            raise ApiFailure(404, "Could not find a room with the given id.")
        return room

    def _person_by_email(self, email: str) -> dict[str, Any]:
        for person in self.people.values():
            if email.casefold() in (e.casefold() for e in person["emails"]):
                return person
        raise ApiFailure(404, "Could not find a person with the given e-mail address.")

    def _hook_for(self, resource: str, event: str) -> dict[str, Any]:
        for hook in self.webhooks.values():
            if hook["resource"] == resource and hook["event"] == event:
                return hook
        return {"id": webex_id("WEBHOOK"), "name": f"{resource}/{event}", "targetUrl": "https://bot.invalid/webex/events",
                "appId": webex_id("APPLICATION"), "created": _now()}

    @staticmethod
    def _find(store: Mapping[str, dict[str, Any]], key: str, kind: str) -> dict[str, Any]:
        item = store.get(key)
        if item is None:
            raise ApiFailure(404, f"{kind} not found.")
        return item

    @staticmethod
    def _page(request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        """A page of ``items`` with an absolute ``Link: <…>; rel="next"`` when more remain."""
        try:
            size = max(1, min(int(request.query.get("max", "100")), 1000))
            start = max(0, int(request.query.get("cursor", "0")))
        except ValueError:
            raise ApiFailure(400, "max and cursor must be numbers.") from None
        headers = {}
        if start + size < len(items):
            next_url = request.url.update_query(cursor=str(start + size), max=str(size))
            headers["Link"] = f'<{next_url}>; rel="next"'
        return web.json_response({"items": items[start:start + size]}, headers=headers)


def _public(message: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in message.items() if value not in (None, [], "")}


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiFailure(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiFailure(400, "The request body must be a JSON object.")
    return body


def _require(body: Mapping[str, Any], *keys: str) -> None:
    missing = [key for key in keys if not body.get(key)]
    if missing:
        raise ApiFailure(400, f"Missing required field(s): {', '.join(missing)}.")


def _checked_text(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    text, markdown = body.get("text"), body.get("markdown")
    for name, value in (("text", text), ("markdown", markdown)):
        if value is not None and not isinstance(value, str):
            raise ApiFailure(400, f"{name} must be a string.")
        if value and len(value.encode()) > MAX_TEXT_BYTES:
            raise ApiFailure(400, f"{name} cannot be longer than {MAX_TEXT_BYTES} bytes.")
    return text, markdown


def _checked_attachments(attachments: Any) -> list[dict[str, Any]]:
    if attachments in (None, []):
        return []
    if not isinstance(attachments, list) or len(attachments) > 1:
        raise ApiFailure(400, "Only one card per message is supported.")
    card = attachments[0]
    if (not isinstance(card, dict) or card.get("contentType") != CARD_CONTENT_TYPE
            or not isinstance(card.get("content"), dict)):
        raise ApiFailure(400, f"An attachment needs contentType {CARD_CONTENT_TYPE} and a card as content.")
    return [card]

