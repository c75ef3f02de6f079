"""The composition root: every service built once, wired through its constructor, closed together.

Adapters are built first, from their own settings, so that what the bot sends on its own can go
through them (``bot.core.delivery.Outbox``); the app factory (``bot.app``) installs them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.clock import Alarm, Clock, SystemClock
from bot.config import Settings
from bot.core import Event
from bot.core.adapter import Adapter
from bot.core.delivery import Outbox
from bot.platforms import registry
from bot.scheduler import POLL_SECONDS, Pass, ReminderScheduler
from bot.services import passes
from bot.services.admin_alerts import AdminAlerts
from bot.services.auto_delete import AutoDeletion
from bot.services.cms import CmsClient
from bot.services.colleagues import Colleagues
from bot.services.handled_events import InboundEvents
from bot.services.joins import Joins
from bot.services.meetings import MeetingService, Person
from bot.services.notice_outbox import NoticeOutbox
from bot.services.once import DailyOnce
from bot.services.references import ConversationReferences
from bot.services.reminder_plan import ProactiveSends, ReminderPlanner
from bot.services.reminders import ReminderService
from bot.services.report import ReportService
from bot.services.room_owners import RoomOwners
from bot.store.engine import sessionmaker
from bot.store.migrations import open_engine
from cards.reminders import render as render_notice
from handlers import Context
from handlers.meetings import announce_creation


@dataclass
class Services:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker
    cms: CmsClient
    meetings: MeetingService
    events: InboundEvents
    references: ConversationReferences
    reminders: ReminderService
    alerts: AdminAlerts
    reports: ReportService
    joins: Joins
    notices: NoticeOutbox
    owners: RoomOwners
    colleagues: Colleagues
    alarm: Alarm
    adapters: tuple[Adapter, ...] = ()
    passes: tuple[Pass, ...] = ()  # what the timer runs beside the reminders

    async def close(self) -> None:
        await self.meetings.close()
        await self.cms.close()
        await self.events.close()  # its kept connection, before the pool goes
        await self.engine.dispose()


async def open_services(settings: Settings, *, clock: Clock | None = None, cms: CmsClient | None = None,
                        adapters: Sequence[Adapter] = ()) -> Services:
    """Connect to the database (applying migrations) and the CMS; ``adapters`` carry what the bot
    sends on its own (the app factory installs them)."""
    clock = clock or SystemClock()
    engine = await open_engine(settings.database_url)
    sessions = sessionmaker(engine)
    cms = cms or CmsClient.from_settings(settings, workers=registry.cms_workers(settings))
    alarm = Alarm()
    planner = ReminderPlanner(settings, alarm)
    sends = ProactiveSends(engine, clock, settings, Outbox(adapters))
    outbox = NoticeOutbox(sessions, clock, sends, render_notice)
    announce = functools.partial(announce_creation, settings=settings, tell=outbox.tell)
    meetings = MeetingService(sessions, cms, clock, settings, planner, announce)
    alerts = AdminAlerts(outbox, settings, sends.platforms)
    auto_delete = AutoDeletion(meetings, clock, settings, sends, alerts, render_notice, outbox)
    events = InboundEvents(engine, clock)
    joins = Joins(cms, settings)
    daily = DailyOnce(engine, sessions, clock, settings.zone)
    every = timedelta(seconds=POLL_SECONDS)
    references = ConversationReferences(sessions, clock)
    return Services(
        settings=settings, clock=clock, engine=engine, sessions=sessions, cms=cms,
        meetings=meetings,
        events=events,
        references=references, colleagues=Colleagues(references, adapters),
        reminders=ReminderService(sessions, clock, settings, meetings, planner, alarm, sends, auto_delete, alerts,
                                  joins, render=render_notice),
        joins=joins, notices=outbox, owners=RoomOwners(cms, settings),
        reports=ReportService(sessions, clock, settings),
        alerts=alerts, alarm=alarm, adapters=tuple(adapters),
        passes=(
            Pass("creations", every, functools.partial(passes.finish_creations, meetings, announce)),
            Pass("deletions", every, functools.partial(passes.finish_deletions, meetings, outbox)),
            Pass("notices", every, outbox.retry_due),
            Pass("sweep", passes.SWEEP_AT, functools.partial(
                passes.daily_sweep, daily=daily, events=events, cms=cms, sessions=sessions, clock=clock,
                alerts=alerts, meetings=meetings, outbox=outbox, settings=settings)),
            Pass("purge", passes.PURGE_AT, functools.partial(
                passes.daily_purge, daily=daily, sessions=sessions, clock=clock, settings=settings)),
        ),
    )


def scheduler_for(services: Services) -> ReminderScheduler:
    """The timer of these services: the reminders, and the passes beside them."""
    return ReminderScheduler(services.reminders, services.clock, services.alarm, services.passes,
                             zone=services.settings.zone)


@dataclass(frozen=True)
class EventContext:
    """What a handler is called with (``handlers.Context``), built once per event."""

    person: Person
    operation: str
    services: Services

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def clock(self) -> Clock:
        return self.services.clock


def context_for(services: Services) -> Callable[[Event], Context]:
    """The dispatcher's context factory: who acts (admin if an id or the e-mail is in ADMINS)."""

    def build(event: Event) -> Context:
        actor = event.actor
        person = Person(key=str(event.person_key), name=actor.name,
                        is_admin=services.settings.is_admin(actor.id, actor.email))
        return EventContext(person=person, operation=event.dedupe_key, services=services)

    return build
