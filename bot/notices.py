"""What the bot says on its own (reminders, admin alerts), as data.

Services decide what to say; ``cards.reminders.render`` words it in Swedish. Times are local.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core import Reply


@dataclass(frozen=True)
class Room:
    meeting_id: str
    room_name: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Unconfirmed:
    """Before the start: recipients not told, not confirmed or not phoned (none registered: all empty)."""

    room: Room
    unconfirmed: tuple[str, ...]
    not_sent: tuple[str, ...]
    late: bool = False
    not_phoned: tuple[str, ...] = ()  # telephone recipients: ring them before the meeting


@dataclass(frozen=True)
class StartCheck:
    """A few minutes before the start: check picture and sound. ``links``: setting name -> URL."""

    room: Room
    links: tuple[tuple[str, str], ...] = ()
    late: bool = False
    patient_joins: str | None = None  # where the patient takes part, if chosen


@dataclass(frozen=True)
class CleanupPrompt:
    room: Room
    deadline: datetime | None
    followup: bool = False
    late: bool = False
    film_link: str | None = None  # the routine's film on deleting a room, where configured


@dataclass(frozen=True)
class JoinCheck:
    """"Har alla anslutit?": who is in the meeting now, by way, against whom the creator expects
    (the recipients and the creator). Counts only: a participant's name or number is never read
    into it. ``joined`` None: the CMS could not be asked."""

    room: Room
    joined: tuple[tuple[str, int], ...] | None  # (way, how many), way: video, browser, phone
    expected: int
    video_address: str
    call_id: str
    dial_in: str | None = None


@dataclass(frozen=True)
class AutoDeleted:
    """Never marked late: the deletion happened when it says, whenever the message arrives."""

    room: Room
    deleted_at: datetime


@dataclass(frozen=True)
class CallActiveAtDeadline:
    room: Room
    deadline: datetime
    retry_at: datetime


@dataclass(frozen=True)
class RecipientGone:
    room: Room
    deadline: datetime | None


@dataclass(frozen=True)
class ReminderFailed:
    room: Room
    attempts: int


@dataclass(frozen=True)
class DeletionFailing:
    room: Room


@dataclass(frozen=True)
class Orphans:
    """The daily sweep's report: rooms nothing claims, kept for now, and those it deleted."""

    room_names: tuple[str, ...]
    deleted: tuple[str, ...] = ()


@dataclass(frozen=True)
class CreationFailed:
    """A room creation whose creator was told to wait ended without a room (``refusal``: why)."""

    room_name: str
    starts_at: datetime
    refusal: str


@dataclass(frozen=True)
class DeletionFinished:
    """A room deletion finished after the process that was carrying it out had died."""

    room_name: str


@dataclass(frozen=True)
class DeletedByAdmin:
    """To the creator: an admin deleted their room."""

    room: Room
    deleted_at: datetime


@dataclass(frozen=True)
class DeletionWaitsOnCall:
    """To the creator: the automatic deletion's deadline passed during a call; it is tried again."""

    room: Room
    deadline: datetime
    retry_at: datetime


@dataclass(frozen=True)
class DeletedInCiscoMeeting:
    """To the creator: the room is gone from the CMS (deleted in Cisco Meeting); reminders stopped."""

    room: Room


@dataclass(frozen=True)
class NoCmsUser:
    """To a creator, once: no Cisco Meeting user has their address, so their rooms have no owner."""


Notice = (Unconfirmed | StartCheck | JoinCheck | CleanupPrompt | AutoDeleted | CallActiveAtDeadline | RecipientGone
          | ReminderFailed | DeletionFailing | Orphans | CreationFailed | DeletionFinished | DeletedByAdmin
          | DeletionWaitsOnCall | DeletedInCiscoMeeting | NoCmsUser)
Render = Callable[[Notice], Reply]
