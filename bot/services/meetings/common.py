"""What the meeting service's parts share: who acts, how a step is refused, the room's cdrTag."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.problems import Problem, Refused
from bot.store.schema import Meeting, Reminder

CDR_TAG_PREFIX = "distansmote:"
# FOR NO KEY UPDATE on PostgreSQL: enough to serialise edits of one meeting, and it does not
# block the reminder claim, which takes a key-share lock on the meeting.
ROW_LOCK = {"key_share": True}


class MeetingError(Refused):
    """A step of the routine refused, for a reason (``bot.core.problems.Problem``)."""


@dataclass(frozen=True)
class Person:
    """Who acts: ``key`` is ``"<platform>:<platform id>"``, stable and never a name."""

    key: str
    name: str
    is_admin: bool = False


class PlansReminders(Protocol):
    def reminders_for(self, meeting: Meeting, since: datetime | None = None) -> Sequence[Reminder]:
        """The reminder rows to store with a new (or moved, ``since`` then) meeting."""


class NoReminders:
    def reminders_for(self, meeting: Meeting, since: datetime | None = None) -> Sequence[Reminder]:
        return ()


def cdr_tag(meeting_id: str) -> str:
    return CDR_TAG_PREFIX + meeting_id


def meeting_id_from_cdr_tag(tag: str | None) -> str | None:
    if tag and tag.startswith(CDR_TAG_PREFIX):
        return tag[len(CDR_TAG_PREFIX):]
    return None


def allowed(meeting: Meeting | None, person: Person) -> Meeting:
    """``meeting`` if it exists and ``person`` may act on it (its creator or an admin)."""
    if meeting is None:
        raise MeetingError(Problem.NOT_FOUND)
    if meeting.creator_id != person.key and not person.is_admin:
        raise MeetingError(Problem.NOT_ALLOWED)
    return meeting


def looks_like_id(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
