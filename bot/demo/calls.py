"""The demo's call control: start or end a call in a simulated room, to try the active-call warning.

``POST /api/demo/call`` with ``{"room": <coSpace id>, "active": true | false}`` starts a call with
two participants in that room of the CMS simulator (as if people had dialled in), or ends every call
in it; ``POST /api/demo/join`` with ``{"room", "way": "video" | "browser" | "phone"}`` lets one more
participant in by that way, through the simulator's public controls. ``rooms_with_calls`` lists the
rooms for the side panel with ``inCall`` and ``joined`` (how many, by way). Demo only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.simulators.cms import CmsSimulator


class _RoomRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    room: str = Field(min_length=1, max_length=64)


_Request = TypeVar("_Request", bound=_RoomRequest)
_Handler = Callable[[web.Request], Awaitable[web.Response]]


class Join(_RoomRequest):
    way: Literal["video", "browser", "phone"]


class CallSwitch(_RoomRequest):
    active: bool


def _calls_in(simulator: CmsSimulator, space_id: str) -> list[str]:
    return [call_id for call_id, call in simulator.calls.items() if call["coSpace"] == space_id]


def rooms_with_calls(simulator: CmsSimulator) -> list[Mapping[str, Any]]:
    return [{**room, "inCall": bool(_calls_in(simulator, str(room["id"]))),
             "joined": simulator.ways_in(str(room["id"]))} for room in simulator.snapshot()]


def install_demo_calls(app: web.Application, simulator: CmsSimulator) -> None:
    def room_request(model: type[_Request]) -> Callable[[Callable[[_Request], dict[str, Any]]], _Handler]:
        """A side-panel request about one room: 400 if it is not ``model``, 404 for no such room."""
        def wrap(act: Callable[[_Request], dict[str, Any]]) -> _Handler:
            async def handle(request: web.Request) -> web.Response:
                try:
                    body = model.model_validate(await request.json())
                except (ValueError, ValidationError):
                    return web.json_response({"error": "invalid request"}, status=400)
                if body.room not in simulator.spaces:
                    return web.json_response({"error": "no such room"}, status=404)
                return web.json_response(act(body))
            return handle
        return wrap

    @room_request(CallSwitch)
    def switch(body: CallSwitch) -> dict[str, Any]:
        calls = _calls_in(simulator, body.room)
        if body.active and not calls:
            simulator.add_call(body.room)
        elif not body.active:
            for call_id in calls:
                simulator.end_call(call_id)
        return {"room": body.room, "inCall": body.active}

    @room_request(Join)
    def join(body: Join) -> dict[str, Any]:
        simulator.join(body.room, body.way)
        return {"room": body.room, "joined": simulator.ways_in(body.room)}

    app.router.add_post("/api/demo/call", switch)
    app.router.add_post("/api/demo/join", join)
