"""The meeting's life: a unique room on the CMS, recipients, confirmations, deletion.

Every change is one transaction with its audit record. ``MeetingService`` is what the handlers,
the reminders and the passes use; each job is a module of its own: creation (``creation``, with
``room_maker`` on the CMS and ``creation_rows`` in the store), ``recipients``, ``rebooking``
(move, hand over), ``deletion`` (and cancelling) and ``reads``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.services.cms import CmsClient
from bot.services.meetings.common import (
    CDR_TAG_PREFIX,
    MeetingError,
    NoReminders,
    Person,
    PlansReminders,
    cdr_tag,
    meeting_id_from_cdr_tag,
)
from bot.services.meetings.creation import CREATION_GRACE, Finished, RoomCreations
from bot.services.meetings.creation_rows import CREATING, CREATION_LEASE, CreationRows
from bot.services.meetings.deletion import DELETE_WITHDRAWN, DELETING, DELETION_GRACE, DeletionFinished, RoomDeletions
from bot.services.meetings.reads import MeetingReads
from bot.services.meetings.rebooking import HandedOver, Moved, Rebooking
from bot.services.meetings.recipients import Recipients
from bot.services.meetings.room_maker import DOUBT_BOUND
from bot.store.schema import LIVE_STATES, Channel, Meeting, MeetingState, PatientJoins

__all__ = [
    "CDR_TAG_PREFIX", "CREATING", "CREATION_GRACE", "CREATION_LEASE", "DELETE_WITHDRAWN", "DELETING",
    "DELETION_GRACE", "DOUBT_BOUND", "LIVE_STATES", "Channel", "DeletionFinished", "Finished", "HandedOver", "Meeting",
    "MeetingError", "MeetingService", "MeetingState", "Moved", "PatientJoins", "Person", "PlansReminders", "cdr_tag",
    "meeting_id_from_cdr_tag",
]


class MeetingService:
    """The meeting service's parts behind one object; each method is its part's own."""

    def __init__(self, sessions: async_sessionmaker, cms: CmsClient, clock: Clock, settings: Settings,
                 planner: PlansReminders | None = None,
                 announce: Callable[[Finished], Awaitable[None]] | None = None) -> None:
        reads = MeetingReads(sessions)
        self._rows = CreationRows(sessions, clock, planner or NoReminders())
        self._creations = RoomCreations(sessions, cms, clock, self._rows, reads, announce)
        recipients, deletions = Recipients(sessions, clock), RoomDeletions(sessions, cms, clock, reads)
        self._rebooking = Rebooking(sessions, cms, clock, self._rows.planner)
        self.get, self.find_live_by_name, self.live_for, self.all_live, self.last_unit = (
            reads.get, reads.find_live_by_name, reads.live_for, reads.all_live, reads.last_unit)
        self.create, self.finish_interrupted, self.close = (
            self._creations.create, self._creations.finish_interrupted, self._creations.close)
        self.add_recipient, self.mark_sent, self.mark_confirmed, self.mark_ended = (
            recipients.add_recipient, recipients.mark_sent, recipients.mark_confirmed, recipients.mark_ended)
        self.active_calls, self.delete, self.finish_interrupted_deletions = (
            deletions.active_calls, deletions.delete, deletions.finish_interrupted_deletions)
        self.move, self.hand_over = self._rebooking.move, self._rebooking.hand_over

    @property
    def planner(self) -> PlansReminders:
        """Plans the reminder rows stored with each new meeting."""
        return self._rows.planner

    @planner.setter
    def planner(self, planner: PlansReminders) -> None:
        self._rows.planner = self._rebooking.planner = planner
