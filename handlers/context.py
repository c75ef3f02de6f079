"""What a handler may do with an event: the ``Context`` it is called with, fulfilled by the
composition root (``bot/runtime.py``), which handlers never import."""

from __future__ import annotations

from typing import Protocol

from bot.clock import Clock
from bot.config import Settings
from bot.services.colleagues import Colleagues
from bot.services.joins import Joins
from bot.services.meetings import MeetingService, Person
from bot.services.notice_outbox import NoticeOutbox
from bot.services.reminders import ReminderService
from bot.services.report import ReportService
from bot.services.room_owners import RoomOwners


class Services(Protocol):
    """The services a handler may call."""

    @property
    def meetings(self) -> MeetingService: ...

    @property
    def reports(self) -> ReportService: ...

    @property
    def reminders(self) -> ReminderService: ...

    @property
    def joins(self) -> Joins: ...

    @property
    def notices(self) -> NoticeOutbox: ...

    @property
    def owners(self) -> RoomOwners: ...

    @property
    def colleagues(self) -> Colleagues:
        """A colleague to hand a meeting over to."""


class Context(Protocol):
    """``operation`` is the event's key: a change made under it is made once, however often the
    event runs (an earlier run may have died after making it; ``bot/dispatcher.py``)."""

    @property
    def person(self) -> Person: ...

    @property
    def operation(self) -> str: ...

    @property
    def services(self) -> Services: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...
