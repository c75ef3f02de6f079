"""A fake Bot Framework connector (the Teams ``serviceUrl``) for tests.

It serves the part of the Bot Connector API the bot uses (MicrosoftDocs/bot-docs,
``articles/rest-api/bot-framework-rest-connector-api-reference.md``), with the status codes and
error bodies Teams gives (msteams-docs ``bots/how-to/conversations/conversation-messages.md``,
``bots/how-to/rate-limit.md``), so the SDK's own connector client runs unchanged against it:

- ``POST /v3/conversations``: create (or find) a 1:1 conversation with a user;
- ``POST /v3/conversations/{id}/activities`` and ``…/activities/{replyToId}``: send, reply (the
  SDK's proactive sends also use the second form, with a random id);
- ``PUT`` and ``DELETE /v3/conversations/{id}/activities/{activityId}``: edit, delete;
- ``GET /v3/conversations/{id}/members/{userId}``: a member, with the user principal name.

Tests drive it from the other side: :meth:`FakeConnector.user`, :meth:`personal_chat`,
:meth:`channel` and :meth:`group_chat` make the people and conversations, :meth:`message` and
:meth:`submit` build the activities Teams would POST to the bot, and :attr:`posted` /
:meth:`in_conversation` show what the bot sent. Faults are injected with :meth:`fail_next`
(429 with ``Retry-After``, 412, 502, 504), :meth:`block` (403, the user blocked the bot or
removed the app) and :meth:`forget` (404).
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MAX_MESSAGE_BYTES = 100 * 1024  # Teams refuses bigger bot messages with 413 MessageSizeTooBig
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
BLOCKED_CODES = ("ConversationBlockedByUser", "BotNotInConversationRoster", "BotDisabledByAdmin")
_FAULT_CODES = {412: "PreconditionFailed", 429: "Throttled", 502: "BadGateway", 504: "GatewayTimeout"}


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """An error as the connector answers it: ``{"error": {"code", "message"}}``."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


@dataclass(frozen=True)
class TeamsUser:
    id: str  # "29:…", the user's id for this bot
    aad_object_id: str  # the Entra object id, the same in every app
    name: str
    tenant_id: str
    upn: str  # user principal name: not in activities, only from the members API

    def account(self) -> dict[str, str]:
        return {"id": self.id, "aadObjectId": self.aad_object_id, "name": self.name}


@dataclass(frozen=True)
class TeamsConversation:
    id: str
    type: str  # "personal", "channel" or "groupChat"
    tenant_id: str


@dataclass
class Posted:
    """An activity the bot sent, as the connector holds it now (edits replace ``activity``)."""

    id: str
    conversation_id: str
    reply_to: str | None
    activity: dict[str, Any]
    authorization: str | None
    edits: int = 0
    deleted: bool = False

    @property
    def text(self) -> str:
        return str(self.activity.get("text") or "")

    @property
    def card(self) -> dict[str, Any] | None:
        cards = [a["content"] for a in self.activity.get("attachments") or []
                 if a.get("contentType") == CARD_CONTENT_TYPE]
        return cards[0] if cards else None


@dataclass
class Fault:
    status: int
    count: int
    retry_after: str | None
    method: str | None
    conversation_id: str | None


@dataclass
class FakeConnector:
    bot_id: str = "28:00000000-0000-0000-0000-0000000b0b01"
    bot_name: str = "Distansmöte"
    service_url: str = ""  # set once served (see served()): str(server.make_url("/"))
    posted: list[Posted] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every call
    created: list[dict[str, Any]] = field(default_factory=list)  # bodies of POST /v3/conversations
    _conversations: dict[str, TeamsConversation] = field(default_factory=dict)
    _users: dict[str, TeamsUser] = field(default_factory=dict)
    _personal: dict[str, str] = field(default_factory=dict)  # user id -> 1:1 conversation id
    _blocked: dict[str, str] = field(default_factory=dict)  # conversation id -> 403 code
    _faults: list[Fault] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_delete("/v3/conversations/{conversation}/activities/{activity}", self._delete)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        self.app = app

    @classmethod
    async def served(cls, aiohttp_server: Any) -> FakeConnector:
        """A connector served by pytest-aiohttp's ``aiohttp_server``, its ``service_url`` set."""
        connector = cls()
        server = await aiohttp_server(connector.app)
        connector.service_url = str(server.make_url("/"))
        return connector

    # -- the world the tests set up ---------------------------------------------------------

    def user(self, name: str, tenant_id: str, upn: str | None = None) -> TeamsUser:
        login = upn or f"{name.split()[0].lower()}@region.example"
        user = TeamsUser(f"29:{uuid.uuid4().hex}", str(uuid.uuid4()), name, tenant_id, login)
        self._users[user.id] = user
        return user

    def personal_chat(self, user: TeamsUser) -> TeamsConversation:
        """The user's 1:1 chat with the bot (the same one every time, as in Teams)."""
        return self._conversations[self._personal_chat_id(user.id, user.tenant_id)]

    def channel(self, tenant_id: str) -> TeamsConversation:
        return self._add(f"19:{uuid.uuid4().hex}@thread.tacv2", "channel", tenant_id)

    def group_chat(self, tenant_id: str) -> TeamsConversation:
        return self._add(f"19:{uuid.uuid4().hex}@thread.v2", "groupChat", tenant_id)

    def message(self, user: TeamsUser, conversation: TeamsConversation, text: str, *,
                mention: bool = False, activity_id: str | None = None) -> dict[str, Any]:
        """A typed message as Teams POSTs it to the bot; ``mention`` puts ``<at>bot</at>`` first."""
        activity = self._activity(user, conversation, activity_id)
        if mention:
            at = f"<at>{self.bot_name}</at>"
            activity["text"] = f"{at} {text}"
            activity["entities"] = [{"type": "mention", "text": at,
                                     "mentioned": {"id": self.bot_id, "name": self.bot_name}}]
        else:
            activity["text"] = text
        return activity

    def installed(self, user: TeamsUser) -> dict[str, Any]:
        """What Teams POSTs when the user adds the app: the bot is a new member of their 1:1 chat."""
        activity = self._activity(user, self.personal_chat(user), None)
        activity.update(type="conversationUpdate", membersAdded=[{"id": self.bot_id}])
        return activity

    def submit(self, user: TeamsUser, card: Posted, value: dict[str, Any]) -> dict[str, Any]:
        """An ``Action.Submit`` on a card the bot sent: a message with ``value``, no text."""
        activity = self._activity(user, self._conversations[card.conversation_id], None)
        activity["value"] = value
        activity["replyToId"] = card.id
        return activity

    # -- what the bot sent ------------------------------------------------------------------

    def in_conversation(self, conversation: TeamsConversation | str) -> list[Posted]:
        wanted = conversation if isinstance(conversation, str) else conversation.id
        return [p for p in self.posted if p.conversation_id == wanted and not p.deleted]

    def personal_conversation_of(self, user: TeamsUser) -> str | None:
        return self._personal.get(user.id)

    # -- faults -----------------------------------------------------------------------------

    def fail_next(self, status: int, *, count: int = 1, retry_after: str | None = None,
                  method: str | None = None, conversation: TeamsConversation | None = None) -> None:
        """The next ``count`` matching requests get ``status`` (429, 412, 502, 504)."""
        self._faults.append(Fault(status, count, retry_after, method, conversation.id if conversation else None))

    def block(self, user: TeamsUser, code: str = "ConversationBlockedByUser") -> None:
        """The user's 1:1 chat answers 403 ``code`` from now on (app removed, bot blocked)."""
        assert code in BLOCKED_CODES
        self._blocked[self.personal_chat(user).id] = code

    def forget(self, conversation: TeamsConversation) -> None:
        """The conversation no longer exists: 404 ``ConversationNotFound``."""
        self._conversations.pop(conversation.id, None)

    # -- the API ----------------------------------------------------------------------------

    def _personal_chat_id(self, user_id: str, tenant_id: str) -> str:
        """The id of the user's 1:1 chat with the bot, made the first time it is asked for."""
        if user_id not in self._personal:
            self._personal[user_id] = self._add(f"a:{uuid.uuid4().hex}", "personal", tenant_id).id
        return self._personal[user_id]

    def _add(self, conversation_id: str, kind: str, tenant_id: str) -> TeamsConversation:
        conversation = TeamsConversation(conversation_id, kind, tenant_id)
        self._conversations[conversation_id] = conversation
        return conversation

    def _activity(self, user: TeamsUser, conversation: TeamsConversation, activity_id: str | None) -> dict[str, Any]:
        assert self.service_url, "serve the fake first and set service_url"
        conversation_account: dict[str, Any] = {
            "id": conversation.id, "conversationType": conversation.type, "tenantId": conversation.tenant_id}
        if conversation.type != "personal":
            conversation_account["isGroup"] = True
        return {
            "type": "message", "id": activity_id or f"1{next(self._ids):012d}", "channelId": "msteams",
            "serviceUrl": self.service_url, "timestamp": "2026-11-25T08:00:00.000Z", "locale": "sv-SE",
            "from": user.account(), "recipient": {"id": self.bot_id, "name": self.bot_name},
            "conversation": conversation_account,
            "channelData": {"tenant": {"id": conversation.tenant_id}},
        }

    def _fault(self, method: str, conversation_id: str | None) -> web.Response | None:
        for fault in self._faults:
            if fault.method not in (None, method) or fault.conversation_id not in (None, conversation_id):
                continue
            fault.count -= 1
            if fault.count <= 0:
                self._faults.remove(fault)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
            return error(fault.status, _FAULT_CODES.get(fault.status, "ServiceError"), "injected", headers)
        return None

    def _refusal(self, request: web.Request, conversation_id: str) -> web.Response | None:
        self.requests.append((request.method, request.path))
        if (fault := self._fault(request.method, conversation_id)) is not None:
            return fault
        if conversation_id not in self._conversations:
            return error(404, "ConversationNotFound", "Conversation not found.")
        if conversation_id in self._blocked:
            return error(403, self._blocked[conversation_id], "The bot cannot send to this conversation.")
        return None

    async def _body(self, request: web.Request) -> dict[str, Any] | web.Response:
        raw = await request.read()
        if len(raw) > MAX_MESSAGE_BYTES:
            return error(413, "MessageSizeTooBig", "Message size too big.")
        try:
            body = json.loads(raw)
        except ValueError:
            return error(400, "BadSyntax", "Body is not JSON.")
        if not isinstance(body, dict):
            return error(400, "BadSyntax", "Body is not an object.")
        return body

    async def _create_conversation(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path))
        if (fault := self._fault(request.method, None)) is not None:
            return fault
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        self.created.append(body)
        members = body.get("members") or []
        tenant = body.get("tenantId") or ((body.get("channelData") or {}).get("tenant") or {}).get("id")
        if body.get("isGroup") or len(members) != 1 or not tenant:
            return error(400, "BadArgument", "A 1:1 conversation needs one member and the tenant.")
        user_id = members[0].get("id")
        conversation_id = self._personal_chat_id(user_id, tenant)
        if conversation_id in self._blocked:
            return error(403, self._blocked[conversation_id], "The bot cannot send to this user.")
        return web.json_response({"id": conversation_id}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation"]
        if (refused := self._refusal(request, conversation_id)) is not None:
            return refused
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        posted = Posted(f"1{next(self._ids):012d}", conversation_id, request.match_info.get("activity"), body,
                        request.headers.get("Authorization"))
        self.posted.append(posted)
        return web.json_response({"id": posted.id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation"]
        if (refused := self._refusal(request, conversation_id)) is not None:
            return refused
        posted = self._find(conversation_id, request.match_info["activity"])
        if posted is None:
            return error(404, "ActivityNotFound", "Activity not found.")
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        posted.activity = body
        posted.edits += 1
        return web.json_response({"id": posted.id})

    async def _delete(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation"]
        if (refused := self._refusal(request, conversation_id)) is not None:
            return refused
        posted = self._find(conversation_id, request.match_info["activity"])
        if posted is None:
            return error(404, "ActivityNotFound", "Activity not found.")
        posted.deleted = True
        return web.Response(status=200)

    async def _member(self, request: web.Request) -> web.Response:
        """One member of a conversation, with what activities lack: the user principal name."""
        if (refused := self._refusal(request, request.match_info["conversation"])) is not None:
            return refused
        user = self._users.get(request.match_info["member"])
        if user is None:
            return error(404, "MemberNotFoundInConversation", "Member not found.")
        return web.json_response({**user.account(), "userPrincipalName": user.upn, "email": user.upn,
                                  "tenantId": user.tenant_id, "userRole": "user"})

    def _find(self, conversation_id: str, activity_id: str) -> Posted | None:
        found = [p for p in self.posted
                 if (p.conversation_id, p.id) == (conversation_id, activity_id) and not p.deleted]
        return found[0] if found else None
