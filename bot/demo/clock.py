"""The demo's clock control: move the services' clock ahead so reminders show at once.

``GET /api/demo/clock?user=ID`` says the demo time and the user's next live meeting;
``POST /api/demo/clock`` with ``{"user": ID, "to": "start" | "end" | "hour"}`` jumps to that
meeting's start, to its end (when the cleanup prompt is due), or one hour ahead, then runs what
fell due before answering. Time only moves forward. Demo only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.clock import Clock
from bot.core import PersonKey
from bot.demo.adapter import NAME as DEMO
from bot.runtime import Services
from bot.scheduler import SCHEDULER
from bot.services.meetings import Person
from bot.store.schema import Meeting


class MovableClock(Clock, Protocol):
    """``OffsetClock`` in the demo, ``ManualClock`` in tests."""

    def advance(self, delta: timedelta) -> None: ...


class Jump(BaseModel):
    user: str
    to: Literal["start", "end", "hour"]


def install_demo_clock(app: web.Application, services: Services, clock: MovableClock) -> None:
    async def show(request: web.Request) -> web.Response:
        meeting = await _next_meeting(services, request.query.get("user", ""))
        return web.json_response(_state(services, clock, meeting))

    async def jump(request: web.Request) -> web.Response:
        try:
            body = Jump.model_validate(await request.json())
        except (ValueError, ValidationError):
            return web.json_response({"error": "invalid request"}, status=400)
        meeting = await _next_meeting(services, body.user)
        if body.to == "hour":
            clock.advance(timedelta(hours=1))
        elif meeting is None:
            return web.json_response({"error": "no meeting"}, status=409)
        else:
            clock.advance(max(_target(services, meeting, body.to) - clock.now(), timedelta(0)))
        if SCHEDULER in request.app:
            await request.app[SCHEDULER].run_due_now()
        return web.json_response(_state(services, clock, await _next_meeting(services, body.user)))

    app.router.add_get("/api/demo/clock", show)
    app.router.add_post("/api/demo/clock", jump)


def _target(services: Services, meeting: Meeting, to: str) -> datetime:
    if to == "start":
        return meeting.starts_at
    return meeting.ends_at + timedelta(minutes=services.settings.reminder_end_grace_minutes)


async def _next_meeting(services: Services, user: str) -> Meeting | None:
    """The user's live meeting that ends first and has not ended yet (else the last one)."""
    person = Person(key=str(PersonKey(DEMO, user)), name=user, is_admin=services.settings.is_admin(user))
    meetings = await services.meetings.live_for(person)
    now = services.clock.now()
    upcoming = [m for m in meetings if m.ends_at > now]
    return min(upcoming, key=lambda m: m.ends_at) if upcoming else (meetings[-1] if meetings else None)


def _state(services: Services, clock: Clock, meeting: Meeting | None) -> dict[str, Any]:
    zone = services.settings.zone
    return {
        "now": f"{clock.now().astimezone(zone):%Y-%m-%d %H:%M}",
        "meeting": None if meeting is None else {
            "room": meeting.room_name,
            "starts": f"{meeting.starts_at.astimezone(zone):%Y-%m-%d %H:%M}",
            "ends": f"{meeting.ends_at.astimezone(zone):%Y-%m-%d %H:%M}",
        },
    }
