"""The in-process timer: jobs that only wake the service, the wake-up re-armed, the app hooks."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from bot.app import create_app
from bot.clock import Alarm
from bot.core import PersonKey, Platform, Reply
from bot.core.delivery import DeliveryFailed, Outbox
from bot.runtime import open_services, scheduler_for
from bot.scheduler import SCHEDULER, Pass, ReminderScheduler
from bot.services.meetings import Person
from bot.services.validation import MeetingTimes
from bot.store.schema import AuditRecord, Meeting
from cards import texts as wording
from tests.conftest import make_settings, run_pass

NURSE = Person(key="memory:nurse-1", name="Nina")
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class RecordingAdapter:
    platform = Platform("memory")
    ready = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, Reply]] = []
        self.arrived = asyncio.Event()

    def install(self, app, host) -> None:  # no routes: it only sends
        pass

    async def send_direct(self, person: PersonKey, replies) -> None:
        await self.send_to_identity(person.id, replies)

    async def send_to_identity(self, identity: str, replies) -> None:
        self.sent.extend((identity, reply) for reply in replies)
        self.arrived.set()

    def texts(self) -> list[str]:
        return [reply.text for _, reply in self.sent]


@pytest.fixture
def adapter() -> RecordingAdapter:
    return RecordingAdapter()


@pytest.fixture
async def services(cms, tmp_path, clock, adapter):
    """Services whose platform can write to anyone first, as Webex can."""
    opened = await open_services(make_settings(cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"), clock=clock,
                                 adapters=[adapter])
    yield opened
    await opened.close()


async def _meeting(services, n: int = 0):
    return await services.meetings.create(platform="memory", creator=NURSE, unit="HC Torsås",
                                          times=MeetingTimes(START, START + timedelta(hours=1)),
                                          request_id=f"request-{n:04d}")


def _real(services, due: datetime) -> datetime:
    return due - (services.clock.now() - datetime.now(UTC))


async def test_the_timer_holds_only_timers_in_memory(services):
    scheduler = scheduler_for(services)
    scheduler.start()
    try:
        timer = scheduler._timer
        assert isinstance(timer._jobstores["default"], MemoryJobStore) and list(timer._jobstores) == ["default"]
        poll, sweep, purge = timer.get_job("poll"), timer.get_job("sweep"), timer.get_job("purge")
        assert isinstance(poll.trigger, IntervalTrigger) and poll.trigger.interval == timedelta(seconds=15)
        for job in (poll, sweep, purge):
            assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
    finally:
        await scheduler.stop()


async def test_the_timer_runs_the_passes_it_is_handed_and_only_coroutines(services, clock):
    ran = asyncio.Event()

    async def work() -> None:
        ran.set()

    every, daily = Pass("every", timedelta(minutes=1), work), Pass("daily", time(4, 0), work)
    scheduler = ReminderScheduler(services.reminders, clock, Alarm(), [every, daily], zone=services.settings.zone)
    scheduler.start()
    try:
        await asyncio.wait_for(ran.wait(), timeout=10)  # an interval pass also runs at start
        assert isinstance(scheduler._timer.get_job("every").trigger, IntervalTrigger)
        assert isinstance(scheduler._timer.get_job("daily").trigger, CronTrigger)
    finally:
        await scheduler.stop()
    with pytest.raises(TypeError):
        Pass("threaded", timedelta(minutes=1), lambda: work())  # APScheduler would run it in a thread


async def test_planning_a_meeting_arms_the_wake_up_and_a_tick_re_arms_it(services, clock, adapter):
    scheduler = scheduler_for(services)
    scheduler.start()
    outbox = adapter
    try:
        await _meeting(services)
        wake = scheduler._timer.get_job("wake").next_run_time
        assert abs(wake - _real(services, START - timedelta(minutes=60))) < timedelta(seconds=2)

        clock.set(START - timedelta(minutes=60))
        assert await scheduler.run_due_now() == 1
        assert outbox.texts() == [wording.NOBODY_TITLE.format(room="HC Torsås 1")]
        wake = scheduler._timer.get_job("wake").next_run_time
        assert abs(wake - _real(services, START - timedelta(minutes=5))) < timedelta(seconds=2)

        scheduler.wake_at(clock.now() + timedelta(hours=3))  # a later one never postpones the earlier
        assert scheduler._timer.get_job("wake").next_run_time == wake
    finally:
        await scheduler.stop()


async def test_the_app_starts_the_timer_which_sends_what_fell_due_through_the_adapter(
        services, clock, aiohttp_client, adapter):
    await _meeting(services)
    clock.set(START - timedelta(minutes=30))  # the bot was down when the first reminder fell due
    app = create_app(services, reminders=True)
    client = await aiohttp_client(app)
    await asyncio.wait_for(adapter.arrived.wait(), timeout=10)  # the start-up poll, not a sleep
    [(person, reply)] = adapter.sent
    assert person == "nurse-1" and reply.text.startswith(wording.LATE)
    assert app[SCHEDULER]._timer.running
    await client.close()
    assert not app[SCHEDULER]._timer.running


async def test_the_daily_sweep_tells_the_admins_about_orphaned_rooms(services, cms, adapter):
    await services.cms.create_space(name="HC Glömd 7", uri="hc.glomd.7", call_id="918273645",
                                    cdr_tag=f"distansmote:{uuid.uuid4()}")
    await _meeting(services)  # a live room: not an orphan
    await run_pass(services, "sweep")
    [(person, reply)] = adapter.sent
    assert person == "admin-1"
    assert "HC Glömd 7" in str(reply.card) and "HC Torsås 1" not in str(reply.card)


async def test_the_daily_purge_forgets_the_creator_of_a_room_deleted_long_ago_once_a_day(services, clock):
    meeting = await _meeting(services)
    await services.meetings.delete(meeting.id, NURSE)
    clock.advance(timedelta(days=services.settings.retention_days + 1))
    await run_pass(services, "purge")
    async with services.sessions() as session:
        assert (await session.get(Meeting, meeting.id)).creator_name == ""
        # Recorded once for the day, like the sweep: another instance's timer finds it done.
        assert await session.scalar(select(func.count()).select_from(AuditRecord).where(
            AuditRecord.action == "daily:purge")) == 1
    await run_pass(services, "purge")


async def test_a_platform_without_an_adapter_is_a_temporary_failure():
    try:
        await Outbox([]).send(PersonKey("teams", "someone"), [Reply("x")])
    except DeliveryFailed as exc:
        assert exc.code == "no_adapter"
    else:
        raise AssertionError("no error")



async def test_two_instances_send_one_daily_report(cms, postgres_url, clock):
    """Two instances on one PostgreSQL database, their timers firing together and again later."""
    from bot.runtime import open_services
    from tests.conftest import make_settings, run_pass

    adapters = [RecordingAdapter() for _ in range(2)]
    instances = [await open_services(make_settings(cms, postgres_url), clock=clock, adapters=[adapter])
                 for adapter in adapters]
    try:
        await instances[0].cms.create_space(name="HC Glömd 7", uri="hc.glomd.7", call_id="918273645",
                                            cdr_tag=f"distansmote:{uuid.uuid4()}")
        await asyncio.gather(*(run_pass(services, "sweep") for services in instances))
        for services in instances:  # a later timer the same day (a clock a minute off, a restart)
            await run_pass(services, "sweep")
        reports = [sent for adapter in adapters for sent in adapter.sent]
        assert [person for person, _ in reports] == ["admin-1"]

        clock.advance(timedelta(days=1))  # the next day, one report again (the first room was deleted)
        await instances[0].cms.create_space(name="HC Glömd 8", uri="hc.glomd.8", call_id="918273647",
                                            cdr_tag=f"distansmote:{uuid.uuid4()}")
        await asyncio.gather(*(run_pass(services, "sweep") for services in instances))
        assert len([sent for adapter in adapters for sent in adapter.sent]) == 2
    finally:
        for services in instances:
            await services.close()


async def test_a_failed_daily_sweep_is_not_recorded_as_done(cms, tmp_path, clock):
    from tests.services.test_meetings import _open

    adapter = RecordingAdapter()
    services = await _open(cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", clock, adapters=[adapter])
    await services.cms.create_space(name="HC Glömd 7", uri="hc.glomd.7", call_id="918273645",
                                    cdr_tag=f"distansmote:{uuid.uuid4()}")
    try:
        cms.simulator.fail_next(503, count=3)  # every attempt of the first run
        await run_pass(services, "sweep")
        assert adapter.sent == []
        await run_pass(services, "sweep")  # the CMS answers again: the report goes out, once
        await run_pass(services, "sweep")
        assert len(adapter.sent) == 1
    finally:
        await services.close()
