"""A fake Cisco Meeting Server API for tests and the demo, in memory, answering like CMS (after Cisco's API reference).

Where the reference leaves a behaviour open the fake is strict (unknown parameters and odd URIs refused), so that the
bot does not come to rely on leniency a real CMS may not have. Its faults: docs/reliability.md, "Faults tried".
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import random
import re
import secrets
import time
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from yarl import URL

API = "/api/v1"

# Parameters of POST/PUT coSpaces. Stored ones in the order GET shows them.
_STORED = (
    "name", "uri", "secondaryUri", "callId", "cdrTag", "defaultLayout", "nonMemberAccess", "ownerJid",
    "ownerAdGuid", "streamUrl", "meetingScheduler", "panePlacementHighestImportance",
    "panePlacementSelfPaneMode", "secret", "passcode",
)
_BOOLEANS = ("requireCallId", "regenerateSecret", "nonMemberAccess", "panePlacementHighestImportance")
# References to objects this fake never holds, so any value names something that does not exist.
_REFERENCES = {
    "tenant": "tenantDoesNotExist",
    "callProfile": "callProfileDoesNotExist",
    "callLegProfile": "callLegProfileDoesNotExist",
    "callBrandingProfile": "callBrandingProfileDoesNotExist",
    "dialInSecurityProfile": "dialInSecurityProfileDoesNotExist",
}
_SPACE_PARAMETERS = frozenset(_STORED) | frozenset(_BOOLEANS) | frozenset(_REFERENCES)
_URI = re.compile(r"[A-Za-z0-9._-]+")  # fake policy, UNVERIFIED on real CMS
_DIGITS = re.compile(r"[0-9]+")
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_T = TypeVar("_T")


class _Refused(Exception):
    """Answer with ``<failureDetails><reason .../></failureDetails>``."""

    def __init__(self, status: int, reason: str, **attributes: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.attributes = attributes


def _invalid(parameter: str, error: str = "invalidValue") -> _Refused:
    return _Refused(400, "parameterError", parameter=parameter, error=error)


@dataclass
class _Fault:
    """What the next ``count`` requests matching ``on`` get instead of a prompt, true answer."""

    on: re.Pattern[str] | None
    count: int
    canned: tuple[int, bytes, str | None, dict[str, str]] | None = None
    late: float = 0.0  # carried out, answered this many seconds later

    def matches(self, request: web.Request) -> bool:
        return self.on is None or self.on.fullmatch(_step_of(request)) is not None


def _step(on: str | None) -> re.Pattern[str] | None:
    """``"POST coSpaces"``: a method and a path under /api/v1/ (a regular expression)."""
    return re.compile(on) if on else None


def _step_of(request: web.Request) -> str:
    return f"{request.method} {request.path.removeprefix(API + '/')}"


# How each way of joining shows in a call leg (``remoteParty``, ``type``): a video system calls from
# its SIP address, a telephone through the gateway from its number, a browser (Cisco Meeting's web
# app) through the web bridge. Which field tells the web app apart differs by version (UNVERIFIED):
# the web app's legs here carry both signs the client reads (``bot.services.cms_xml.way_of``).
LEG_SHAPES = {
    "video": ("sip:videosystem-{n}@region.example.se", "sip"),
    "phone": ("sip:+4648012{n:04d}@gateway.region.example.se", "sip"),
    "browser": ("webrtc-{n}@webbridge.region.example.se", "acano"),
}


class CmsSimulator:
    """In-memory CMS. Mount ``app`` on a server; tests read ``spaces`` and ``calls`` directly."""

    def __init__(
        self, *, username: str = "api", password: str = "simulator", page_cap: int = 10,
        domain: str = "video.example.se",
    ) -> None:
        self._credentials = (username.encode(), password.encode())
        self.page_cap = page_cap
        self.domain = domain
        self.spaces: dict[str, dict[str, str]] = {}
        self.calls: dict[str, dict[str, Any]] = {}
        self._legs_made = 0
        self.users: dict[str, dict[str, str]] = {}  # id -> userJid, name, email (imported from LDAP)
        self.requests: list[str] = []  # "METHOD /path" of every request, without query values
        self.slowness = 0.0
        self._slow: tuple[float, float] | None = None
        self._random = random.Random(0)
        self.quirk_200_failure = False
        self.delete_ends_calls = False  # what DELETE does to a meeting in progress is UNVERIFIED
        self._faults: deque[_Fault] = deque()
        self._hung: re.Pattern[str] | None = None
        self._released = asyncio.Event()
        self.hanging = 0  # requests held by hang() right now
        self._working: set[asyncio.Future[web.StreamResponse]] = set()

        self.app = web.Application(middlewares=[self._front])
        route = self.app.router.add_route
        route("GET", f"{API}/coSpaces", self._list_spaces)
        route("POST", f"{API}/coSpaces", self._create_space)
        route("GET", f"{API}/coSpaces/{{id}}", self._get_space)
        route("PUT", f"{API}/coSpaces/{{id}}", self._modify_space)
        route("DELETE", f"{API}/coSpaces/{{id}}", self._delete_space)
        route("GET", f"{API}/coSpaces/{{id}}/meetingEntryDetail", self._meeting_entry_detail)
        route("GET", f"{API}/calls", self._list_calls)
        route("GET", f"{API}/calls/{{id}}", self._get_call)
        route("DELETE", f"{API}/calls/{{id}}", self._delete_call)
        route("GET", f"{API}/calls/{{id}}/callLegs", self._list_call_legs)
        route("GET", f"{API}/callLegs/{{id}}", self._get_call_leg)
        route("GET", f"{API}/calls/{{id}}/participants", self._list_participants)
        route("GET", f"{API}/users", self._list_users)
        route("GET", f"{API}/users/{{id}}", self._get_user)
        route("*", f"{API}/{{tail:.*}}", self._unknown_node)

    # -- test hooks ----------------------------------------------------------------------------

    def fail_next(self, status: int = 503, count: int = 1, *, on: str | None = None) -> None:
        """The next ``count`` requests (matching ``on``) get ``status`` with an empty body."""
        self._faults.append(_Fault(_step(on), count, canned=(status, b"", None, {})))

    def raw_next(
        self, body: bytes, status: int = 200, content_type: str = "text/xml",
        headers: Mapping[str, str] | None = None, *, on: str | None = None,
    ) -> None:
        """The next request (matching ``on``) gets exactly this answer (malformed XML, hostile payloads,
        redirects); it is not carried out."""
        self._faults.append(_Fault(_step(on), 1, canned=(status, body, content_type, dict(headers or {}))))

    def answer_late(self, seconds: float, count: int = 1, *, on: str | None = None) -> None:
        """The next ``count`` requests (matching ``on``) are carried out at once and answered
        ``seconds`` later: a client that gave up meanwhile does not know that they happened."""
        self._faults.append(_Fault(_step(on), count, late=seconds))

    def answer_slowly(self, low: float, high: float, *, seed: int = 0) -> None:
        """From now on every request takes between ``low`` and ``high`` seconds (drawn from ``seed``)
        before it is carried out and answered: a CMS under load, slow but answering."""
        self._slow = (low, high)
        self._random = random.Random(seed)

    def hang(self, *, on: str | None = None) -> None:
        """From now on, requests (matching ``on``) get no answer until :meth:`release`."""
        self._hung = _step(on) or re.compile(".*")
        self._released.clear()

    def release(self) -> None:
        """End :meth:`hang`: the held requests are carried out and answered."""
        self._hung = None
        self._released.set()

    async def settled(self) -> None:
        """Wait until every request received so far is carried out (held ones after release())."""
        while self._working:
            await asyncio.gather(*self._working, return_exceptions=True)

    def clear_faults(self) -> None:
        self._faults.clear()
        self._slow = None
        self.release()

    def add_call(self, space_id: str, participants: int = 2, *, ways: Sequence[str] = ()) -> str:
        """Start a meeting in the space, as if people had dialled in (``participants`` video systems,
        or one leg per way in ``ways``: ``video``, ``browser``, ``phone``); returns the call id."""
        if space_id not in self.spaces:
            raise KeyError(f"no coSpace {space_id}")
        call_id = str(uuid.uuid4())
        self.calls[call_id] = {
            "name": self.spaces[space_id].get("name", ""),
            "coSpace": space_id,
            "callCorrelator": str(uuid.uuid4()),
            "legs": {},
            "started": time.monotonic(),
        }
        for way in ways or ["video"] * participants:
            self._add_leg(call_id, way)
        return call_id

    def join(self, space_id: str, way: str, name: str = "") -> str:
        """One more participant joins the space's meeting by ``way`` (a call starts with the first);
        returns the call leg's id. ``name`` is the display name the CMS shows (maybe a patient's)."""
        call_id = next((cid for cid, call in self.calls.items() if call["coSpace"] == space_id), None)
        if call_id is None:
            call_id = self.add_call(space_id, 0)
        return self._add_leg(call_id, way, name)

    def ways_in(self, space_id: str) -> dict[str, int]:
        """How many are in the space's meeting now, by way (a test's and the demo's view)."""
        ways = dict.fromkeys(LEG_SHAPES, 0)
        for call in self.calls.values():
            if call["coSpace"] == space_id:
                for leg in call["legs"].values():
                    ways[leg["way"]] += 1
        return ways

    def leave(self, leg_id: str) -> None:
        for call_id, call in list(self.calls.items()):
            if call["legs"].pop(leg_id, None) is not None and not call["legs"]:
                del self.calls[call_id]  # the last one left: the meeting is over

    def add_user(self, jid: str, email: str, name: str = "") -> str:
        """A CMS user, as the LDAP import makes them (read-only over the API); returns its id."""
        user_id = str(uuid.uuid4())
        self.users[user_id] = {"userJid": jid, "email": email, "name": name or jid}
        return user_id

    def delete_as_owner(self, space_id: str) -> None:
        """The owner deletes the space in their Cisco Meeting app."""
        self.spaces.pop(space_id)

    def end_call(self, call_id: str) -> None:
        self.calls.pop(call_id, None)

    def _add_leg(self, call_id: str, way: str, name: str = "") -> str:
        """A call leg as the CMS shows it (``LEG_SHAPES``)."""
        if way not in LEG_SHAPES:
            raise ValueError(f"no such way: {way}")
        leg_id = str(uuid.uuid4())
        self._legs_made += 1
        number = self._legs_made
        remote, leg_type = LEG_SHAPES[way]
        self.calls[call_id]["legs"][leg_id] = {"name": name or f"Deltagare {number}", "way": way,
                                               "remoteParty": remote.format(n=number), "type": leg_type}
        return leg_id

    def snapshot(self) -> list[dict[str, str | None]]:
        return [
            {"id": space_id, "name": space.get("name"), "uri": space.get("uri"),
             "callId": space.get("callId"), "cdrTag": space.get("cdrTag")}
            for space_id, space in self.spaces.items()
        ]

    # -- middleware: logging, faults, auth, failures -----------------------------------------

    @web.middleware
    async def _front(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path}")
        await request.read()  # kept: a request is carried out also after its client gave up
        # Like a real server, the work goes on when the client hangs up (a test server would cancel it).
        work = asyncio.ensure_future(self._carry_out(request, handler))
        self._working.add(work)
        work.add_done_callback(self._working.discard)
        return await asyncio.shield(work)

    async def _carry_out(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        if self.slowness:
            await asyncio.sleep(self.slowness)
        if self._slow is not None:
            await asyncio.sleep(self._random.uniform(*self._slow))
        if self._hung is not None and self._hung.fullmatch(_step_of(request)):
            self.hanging += 1
            try:
                await self._released.wait()
            finally:
                self.hanging -= 1
        fault = self._take_fault(request)
        if fault is not None and fault.canned is not None:
            status, body, content_type, headers = fault.canned
            return web.Response(status=status, body=body, content_type=content_type, headers=headers)
        response = await self._answer(request, handler)
        if fault is not None and fault.late:
            await asyncio.sleep(fault.late)
        return response

    def _take_fault(self, request: web.Request) -> _Fault | None:
        for fault in self._faults:
            if fault.matches(request):
                fault.count -= 1
                if not fault.count:
                    self._faults.remove(fault)
                return fault
        return None

    async def _answer(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        if not self._authorised(request.headers.get("Authorization", "")):
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="CMS API"'})
        try:
            return await handler(request)
        except _Refused as refused:
            failure = ET.Element("failureDetails")
            ET.SubElement(failure, refused.reason, refused.attributes)
            return _xml(failure, status=200 if self.quirk_200_failure else refused.status)

    def _authorised(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        try:
            login, _, password = base64.b64decode(encoded, validate=True).partition(b":")
        except ValueError:
            return False
        wanted_login, wanted_password = self._credentials
        # Both compared, always, so the timing does not tell which one was wrong.
        return scheme.lower() == "basic" and hmac.compare_digest(login, wanted_login) & hmac.compare_digest(
            password, wanted_password
        )

    async def _unknown_node(self, request: web.Request) -> web.StreamResponse:
        raise _Refused(400, "unrecognizedObject")

    # -- coSpaces ------------------------------------------------------------------------------

    async def _list_spaces(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        wanted = query.get("filter", "").casefold()
        matches = [
            (space_id, space) for space_id, space in self.spaces.items()
            if any(wanted in space.get(key, "").casefold() for key in ("name", "uri", "callId"))
            and _filtered(space.get("tenant"), query.get("tenantFilter"))
            and _filtered(space.get("callLegProfile"), query.get("callLegProfileFilter"))
        ]
        root = ET.Element("coSpaces", total=str(len(matches)))
        for space_id, space in self._page(matches, query):
            item = ET.SubElement(root, "coSpace", id=space_id)
            _add(item, "name", space.get("name", ""))
            _add(item, "autoGenerated", "false")
            for key in ("uri", "secondaryUri", "callId", "tenant"):
                _add(item, key, space.get(key))
        return _xml(root)

    async def _create_space(self, request: web.Request) -> web.StreamResponse:
        space = self._merged({}, await _form(request), own_id=None)
        space_id = str(uuid.uuid4())
        self.spaces[space_id] = space
        return web.Response(headers={"Location": f"{API}/coSpaces/{space_id}"})

    async def _get_space(self, request: web.Request) -> web.StreamResponse:
        space_id, space = self._space(request)
        root = ET.Element("coSpace", id=space_id)
        _add(root, "name", space.get("name", ""))
        _add(root, "autoGenerated", "false")
        for key in _STORED[1:]:
            _add(root, key, space.get(key))
        return _xml(root)

    async def _modify_space(self, request: web.Request) -> web.StreamResponse:
        space_id, space = self._space(request)
        self.spaces[space_id] = self._merged(space, await _form(request), own_id=space_id)
        return web.Response()

    async def _delete_space(self, request: web.Request) -> web.StreamResponse:
        space_id, _ = self._space(request)
        del self.spaces[space_id]
        if self.delete_ends_calls:
            self.calls = {k: call for k, call in self.calls.items() if call["coSpace"] != space_id}
        return web.Response()

    async def _meeting_entry_detail(self, request: web.Request) -> web.StreamResponse:
        space_id, space = self._space(request)
        root = ET.Element("meetingEntryDetail")
        _add(root, "coSpace", space_id)
        _add(root, "uri", space.get("uri") and f"{space['uri']}@{self.domain}")
        _add(root, "callId", space.get("callId"))
        return _xml(root)

    def _space(self, request: web.Request) -> tuple[str, dict[str, str]]:
        space_id = request.match_info["id"]
        if space_id not in self.spaces:
            raise _Refused(404, "coSpaceDoesNotExist")
        return space_id, self.spaces[space_id]

    def _merged(
        self, current: Mapping[str, str], form: Mapping[str, str], *, own_id: str | None
    ) -> dict[str, str]:
        """``current`` changed by a POST/PUT form: missing = unchanged, empty = unset."""
        for key, value in form.items():
            if key not in _SPACE_PARAMETERS:
                raise _invalid(key, "unrecognised")
            if value and key in _REFERENCES:
                raise _Refused(400, _REFERENCES[key])
            if value and key in _BOOLEANS and value not in ("true", "false"):
                raise _invalid(key)
        for key in ("uri", "secondaryUri"):
            if form.get(key) and not _URI.fullmatch(form[key]):
                raise _invalid(key)
        if form.get("callId") and not _DIGITS.fullmatch(form["callId"]):
            raise _invalid("callId")
        if len(form.get("cdrTag", "")) > 100:
            raise _invalid("cdrTag")

        space = {key: value for key, value in current.items() if form.get(key, value)}
        space.update((key, value) for key, value in form.items() if value and key in _STORED)
        if form.get("requireCallId") == "true" and not space.get("callId"):
            space["callId"] = self._new_call_id()
        if form.get("regenerateSecret") == "true" or (space.get("callId") and not space.get("secret")):
            space["secret"] = secrets.token_urlsafe(16)  # 22 base64url characters, like CMS

        others = [other for other_id, other in self.spaces.items() if other_id != own_id]
        if any(_uris(space) & _uris(other) for other in others):
            raise _Refused(400, "duplicateCoSpaceUri")
        if "callId" in space and any(other.get("callId") == space["callId"] for other in others):
            raise _Refused(400, "duplicateCoSpaceId")
        return space

    def _new_call_id(self) -> str:
        taken = {space.get("callId") for space in self.spaces.values()}
        while (call_id := f"{secrets.randbelow(900_000_000) + 100_000_000}") in taken:
            pass
        return call_id

    # -- calls ---------------------------------------------------------------------------------

    async def _list_calls(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        matches = [
            (call_id, call) for call_id, call in self.calls.items()
            if _filtered(call["coSpace"], query.get("coSpaceFilter"))
            and _filtered(None, query.get("tenantFilter"))
        ]
        root = ET.Element("calls", total=str(len(matches)))
        for call_id, call in self._page(matches, query):
            item = ET.SubElement(root, "call", id=call_id)
            for key in ("name", "coSpace", "callCorrelator"):
                _add(item, key, call[key])
        return _xml(root)

    async def _get_call(self, request: web.Request) -> web.StreamResponse:
        call_id = self._call_id(request)
        call = self.calls[call_id]
        root = ET.Element("call", id=call_id)
        legs = str(len(call["legs"]))
        for key, value in (
            ("name", call["name"]), ("callType", "coSpace"), ("coSpace", call["coSpace"]),
            ("callCorrelator", call["callCorrelator"]),
            ("durationSeconds", str(int(time.monotonic() - call["started"]))),
            ("numCallLegs", legs), ("maxCallLegs", legs), ("numParticipantsLocal", legs),
            ("numParticipantsRemote", "0"), ("numDistributedInstances", "0"), ("locked", "false"),
        ):
            _add(root, key, value)
        return _xml(root)

    async def _delete_call(self, request: web.Request) -> web.StreamResponse:
        del self.calls[self._call_id(request)]
        return web.Response()

    async def _list_call_legs(self, request: web.Request) -> web.StreamResponse:
        legs = list(self.calls[self._call_id(request)]["legs"].items())
        root = ET.Element("callLegs", total=str(len(legs)))
        for leg_id, leg in self._page(legs, request.query):
            item = ET.SubElement(root, "callLeg", id=leg_id)
            _add(item, "name", leg["name"])
            _add(item, "remoteParty", leg["remoteParty"])
            _add(item, "call", request.match_info["id"])
        return _xml(root)

    async def _get_call_leg(self, request: web.Request) -> web.StreamResponse:
        leg_id = request.match_info["id"]
        found = next(((call_id, call["legs"][leg_id]) for call_id, call in self.calls.items()
                      if leg_id in call["legs"]), None)
        if found is None:
            raise _Refused(404, "callLegDoesNotExist")
        call_id, leg = found
        root = ET.Element("callLeg", id=leg_id)
        for key, value in (("name", leg["name"]), ("remoteParty", leg["remoteParty"]), ("call", call_id),
                           ("direction", "incoming"), ("type", leg["type"])):
            _add(root, key, value)
        status = ET.SubElement(root, "status")
        _add(status, "state", "connected")
        return _xml(root)

    async def _list_participants(self, request: web.Request) -> web.StreamResponse:
        call_id = self._call_id(request)
        legs = list(self.calls[call_id]["legs"].items())
        root = ET.Element("participants", total=str(len(legs)))
        for leg_id, leg in self._page(legs, request.query):
            item = ET.SubElement(root, "participant", id=leg_id)
            _add(item, "name", leg["name"])
            _add(item, "call", call_id)
        return _xml(root)

    async def _list_users(self, request: web.Request) -> web.StreamResponse:
        wanted = (request.query.get("filter") or "").casefold()
        matches = [(user_id, user) for user_id, user in self.users.items()
                   if wanted in user["userJid"].casefold() or wanted in user["name"].casefold()]
        root = ET.Element("users", total=str(len(matches)))
        for user_id, user in self._page(matches, request.query):
            _add(ET.SubElement(root, "user", id=user_id), "userJid", user["userJid"])
        return _xml(root)

    async def _get_user(self, request: web.Request) -> web.StreamResponse:
        user = self.users.get(request.match_info["id"])
        if user is None:
            raise _Refused(404, "userDoesNotExist")
        root = ET.Element("user", id=request.match_info["id"])
        for key in ("userJid", "name", "email"):
            _add(root, key, user[key])
        return _xml(root)

    def _call_id(self, request: web.Request) -> str:
        call_id = request.match_info["id"]
        if call_id not in self.calls:
            raise _Refused(404, "callDoesNotExist")
        return call_id

    def _page(self, matches: list[_T], query: Mapping[str, str]) -> list[_T]:
        offset = _count(query, "offset", 0)
        limit = min(_count(query, "limit", self.page_cap), self.page_cap)
        return matches[offset:offset + limit]


async def run_simulator(
    host: str, port: int, *, ready: Callable[[str], None] | None = None, **kwargs: Any
) -> None:
    """Serve a fresh simulator until cancelled; ``ready`` gets the API base URL once it listens."""
    simulator = CmsSimulator(**kwargs)
    runner = web.AppRunner(simulator.app, handler_cancellation=True)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        if ready is not None:
            bound_port = runner.addresses[0][1]  # port 0 asks the system for a free one
            ready(str(URL.build(scheme="http", host=host, port=bound_port, path=f"{API}/")))
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def _form(request: web.Request) -> dict[str, str]:
    return {key: str(value) for key, value in (await request.post()).items()}


def _uris(space: Mapping[str, str]) -> set[str]:
    # Compared without case: stricter than CMS may be, so the bot never depends on case alone.
    return {space[key].casefold() for key in ("uri", "secondaryUri") if key in space}


def _filtered(value: str | None, wanted: str | None) -> bool:
    return not wanted or value == wanted


def _count(query: Mapping[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None:
        return default
    if not _DIGITS.fullmatch(value):
        raise _invalid(name)
    return int(value)


def _add(parent: ET.Element, tag: str, text: str | None) -> None:
    if text is not None:
        ET.SubElement(parent, tag).text = text


def _xml(root: ET.Element, status: int = 200) -> web.Response:
    body = '<?xml version="1.0"?>' + ET.tostring(root, encoding="unicode")
    return web.Response(status=status, body=body.encode(), content_type="text/xml")
