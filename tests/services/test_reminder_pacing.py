"""Reminders at the speed of the platform: sent concurrently within the platform's bound, a 429 slowing
every send to that platform down, start-of-meeting reminders first. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import pytest
from aiohttp import web

from bot.core import PersonKey, Reply
from bot.core import Platform as CorePlatform
from bot.core.adapter import AdapterHost
from bot.core.delivery import DeliveryFailed
from bot.services import reminder_plan as kinds
from bot.services.meetings import Person
from bot.services.validation import MeetingTimes
from tests.services.test_reminders import START, Rig, open_rig


class Platform:
    """A chat platform's 1:1 sends with a round trip, counting how many are in flight at once."""

    platform = CorePlatform("memory")
    ready = True

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.in_flight = self.most_in_flight = 0
        self.sent: list[tuple[float, str, Reply]] = []  # (loop time, person, reply)
        self.calls: list[tuple[float, str, Reply]] = []  # each call as it starts
        self.refusals: list[float] = []  # Retry-After of the next calls to refuse with 429
        self.refused_at: list[float] = []

    def install(self, app: web.Application, host: AdapterHost) -> None:
        pass

    async def send_to_identity(self, identity: str, replies: Sequence[Reply]) -> None:
        raise AssertionError("no admin alerts in these tests")

    async def send_direct(self, person: PersonKey, replies: Sequence[Reply]) -> None:
        [reply] = replies
        person_id = person.id
        loop = asyncio.get_running_loop()
        self.calls.append((loop.time(), person_id, reply))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency)
            if self.refusals:
                self.refused_at.append(loop.time())
                raise DeliveryFailed("http_429", retry_after=self.refusals.pop(0))
            self.sent.append((loop.time(), person_id, reply))
        finally:
            self.in_flight -= 1


@pytest.fixture
async def paced(cms, database_url, clock) -> AsyncIterator[tuple[Rig, Platform]]:
    platform = Platform(latency=0.02)
    rig = await open_rig(cms, database_url, clock, platform, reminder_sends_per_platform=3)
    yield rig, platform
    await rig.services.close()


async def _meetings(rig: Rig, count: int, *, starts=START, prefix: str = "nurse") -> None:
    for n in range(count):
        person = Person(key=f"memory:{prefix}-{n}", name="Nina")
        await rig.services.meetings.create(platform="memory", creator=person, unit="HC Torsås",
                                           times=MeetingTimes(starts, starts + timedelta(hours=1)),
                                           request_id=f"{prefix}-{n:04d}")


async def test_sends_go_out_together_but_never_more_than_the_platforms_bound(paced):
    rig, platform = paced
    await _meetings(rig, 20)
    rig.clock.set(START - timedelta(minutes=5))  # 20 start and 20 "nobody registered" reminders due at once
    assert await rig.reminders.run_due() == 40
    assert len(platform.sent) == 40 and len({person for _, person, _ in platform.sent}) == 20
    assert platform.most_in_flight == 3  # DISTANSMOTE_REMINDER_SENDS_PER_PLATFORM


async def test_a_429_slows_every_send_to_the_platform_and_the_refused_one_still_goes_out(paced):
    rig, platform = paced
    await _meetings(rig, 12)
    rig.clock.set(START - timedelta(minutes=5))
    platform.refusals = [0.1]
    assert await rig.reminders.run_due() == 24
    assert len(platform.sent) == 24  # the refused one too, in this run
    # No send to the platform started in the 0.1 s it asked for, from any of the reminders.
    [refused_at] = platform.refused_at
    assert not [at for at, _, _ in platform.calls if refused_at < at < refused_at + 0.1]
    assert len(platform.calls) == 25
    assert {(row.state, row.attempts) for row in await _start_rows(rig)} == {(kinds.SENT, 1)}


async def _start_rows(rig: Rig):
    from sqlalchemy import select

    from bot.store.schema import Reminder

    async with rig.services.sessions() as session:
        return list(await session.scalars(select(Reminder).where(Reminder.kind == kinds.START)))


async def test_start_of_meeting_reminders_go_before_follow_ups(paced):
    rig, platform = paced
    earlier = START - timedelta(hours=3, minutes=30)  # these meetings have ended; their prompts went out
    await _meetings(rig, 20, starts=earlier, prefix="followed")
    await _meetings(rig, 20, prefix="starting")
    await rig.run_until(earlier + timedelta(hours=1, minutes=10))
    platform.calls.clear()
    # 11:55: the follow-ups (due 11:40), the "nobody registered" (11:00) and the start reminders (11:55)
    rig.clock.set(START - timedelta(minutes=5))
    assert await rig.reminders.run_due() == 60
    kinds = ["start" if "börjar kl." in reply.text else person.split("-")[0] for _, person, reply in platform.calls]
    assert sorted(kinds) == sorted(["start"] * 20 + ["starting"] * 20 + ["followed"] * 20)
    # Claim loops race (on PostgreSQL), so the first places may go to any kind; after those, the
    # platform's gate lets the start reminders through first.
    later = kinds[3:]
    assert max(i for i, kind in enumerate(later) if kind == "start") < min(
        i for i, kind in enumerate(later) if kind == "followed"), kinds
