"""The services the bot runs on, built once per app and closed with it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import open_engine, sessionmaker
from bot.services.cms import CmsClient
from bot.services.events import InboundEvents
from bot.services.meetings import MeetingService, Person
from bot.services.reminders import ReminderPlanner, ReminderService
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
    reminders: ReminderService
    reports: ReportService

    def person(self, platform: str, actor_id: str, name: str, *identities: str | None) -> Person:
        """The acting person; admin if any of their ids or e-mail is in ``ADMINS``."""
        return Person(
            key=f"{platform}:{actor_id}", name=name,
            is_admin=self.settings.is_admin(actor_id, *identities),
        )

    async def close(self) -> None:
        await self.cms.close()
        await self.events.close()  # its kept connection, before the pool goes
        await self.engine.dispose()


async def open_services(settings: Settings, *, clock: Clock | None = None,
                        cms: CmsClient | None = None) -> Services:
    """Connect to the database (applying migrations) and the CMS."""
    clock = clock or SystemClock()
    engine = await open_engine(settings.database_url)
    sessions = sessionmaker(engine)
    cms = cms or CmsClient.from_settings(settings)
    meetings = MeetingService(sessions, cms, clock, settings, ReminderPlanner(settings))
    return Services(
        settings=settings, clock=clock, engine=engine, sessions=sessions, cms=cms,
        meetings=meetings,
        events=InboundEvents(sessions, clock),
        reminders=ReminderService(sessions, clock, settings, meetings, render=render_notice),
        reports=ReportService(sessions, clock, settings),
    )
