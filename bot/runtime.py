"""The composition root: every service built once, wired through its constructor, closed together.

Adapters are built first, from their own settings, so that what the bot sends on its own can go
through them (``bot.core.delivery.Outbox``); the app factory (``bot.app``) installs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.clock import Alarm, Clock, SystemClock
from bot.config import Settings
from bot.core.adapter import Adapter
from bot.core.delivery import Outbox
from bot.db import open_engine, sessionmaker
from bot.platforms import registry
from bot.services.admin_alerts import AdminAlerts
from bot.services.auto_delete import AutoDeletion
from bot.services.cms import CmsClient
from bot.services.events import InboundEvents
from bot.services.meetings import MeetingService
from bot.services.references import ConversationReferences
from bot.services.reminder_rows import ReminderPlanner, Sends
from bot.services.reminders import ReminderService
from bot.services.report import ReportService
from cards.reminders import render as render_notice


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
    alarm: Alarm
    adapters: tuple[Adapter, ...] = ()

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
    meetings = MeetingService(sessions, cms, clock, settings, planner)
    outbox = Outbox(adapters)
    sends = Sends(engine, clock, settings, outbox)
    alerts = AdminAlerts(sends, settings, render_notice)
    auto_delete = AutoDeletion(meetings, clock, settings, sends, alerts, render_notice)
    return Services(
        settings=settings, clock=clock, engine=engine, sessions=sessions, cms=cms,
        meetings=meetings,
        events=InboundEvents(sessions, clock),
        references=ConversationReferences(sessions, clock),
        reminders=ReminderService(sessions, clock, settings, meetings, planner, sends, auto_delete, alerts,
                                  render=render_notice),
        reports=ReportService(sessions, clock, settings),
        alerts=alerts, alarm=alarm, adapters=tuple(adapters),
    )
