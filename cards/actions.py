"""Typed card submissions. Each model's ``action`` is the name in its ``Action.Submit`` data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar, Literal

from pydantic import Field

from bot.core import CardAction

MeetingId = Field(min_length=36, max_length=36)


class CreateMeeting(CardAction):
    action: ClassVar[str] = "create_meeting"
    request_id: str = Field(min_length=8, max_length=64)
    unit: str = Field(default="", max_length=500)
    date: str = Field(default="", max_length=40)
    start: str = Field(default="", max_length=40)
    length: str = Field(default="", max_length=10)
    patient_joins: Literal["video_room", "browser", "phone", ""] = ""


class AddRecipient(CardAction):
    action: ClassVar[str] = "add_recipient"
    meeting_id: str = MeetingId
    role: str = Field(default="", max_length=200)
    label: str = Field(default="", max_length=500)
    channel: Literal["link", "messenger", "phone", "email", ""] = ""


class MarkSent(CardAction):
    """``starts``: the meeting's start as the card showed it (``start_stamp``): a card from before a
    move cannot mark someone told of the new time."""

    action: ClassVar[str] = "mark_sent"
    meeting_id: str = MeetingId
    recipient_id: str = Field(default="", max_length=36)
    starts: str = Field(default="", max_length=12)


class MarkConfirmed(CardAction):
    action: ClassVar[str] = "mark_confirmed"
    meeting_id: str = MeetingId
    recipient_id: str = Field(default="", max_length=36)
    starts: str = Field(default="", max_length=12)


def start_stamp(moment: datetime) -> str:
    """A meeting's start as a card carries it: minutes since 1970 in hex (``1c2b3d8``). Never a run of
    ten digits, which the privacy guard would take for a personal identity number."""
    return format(int(moment.timestamp()) // 60, "x")


def stamped_start(stamp: str) -> datetime | None:
    """The start a card carried; ``None`` for a card without one (or not a stamp)."""
    try:
        return datetime.fromtimestamp(int(stamp, 16) * 60, UTC) if stamp else None
    except (ValueError, OverflowError, OSError):
        return None


class ShowInvitation(CardAction):
    action: ClassVar[str] = "show_invitation"
    meeting_id: str = MeetingId


class AskDelete(CardAction):
    """Ta bort mötesrummet: asks the CMS for active calls, then asks for confirmation."""

    action: ClassVar[str] = "ask_delete"
    meeting_id: str = MeetingId


class ConfirmDelete(CardAction):
    """``cancel``: "Ställ in mötet", the meeting will not take place; the room goes the same way."""

    action: ClassVar[str] = "confirm_delete"
    meeting_id: str = MeetingId
    end_calls: Literal["true", "false"] = "false"
    cancel: Literal["true", "false"] = "false"


class CancelDelete(CardAction):
    action: ClassVar[str] = "cancel_delete"
    meeting_id: str = MeetingId
    cancel: Literal["true", "false"] = "false"


class LookAgain(CardAction):
    """"Har alla anslutit?" read from the meeting service (again): Titta igen, or asked from Fler val."""

    action: ClassVar[str] = "join_check"
    meeting_id: str = MeetingId


class ShowMore(CardAction):
    """Fler val: move, hand over, cancel, the invitation again."""

    action: ClassVar[str] = "show_more"
    meeting_id: str = MeetingId


class MoveMeeting(CardAction):
    action: ClassVar[str] = "move_meeting"
    meeting_id: str = MeetingId
    date: str = Field(default="", max_length=40)
    start: str = Field(default="", max_length=40)
    length: str = Field(default="", max_length=10)


class FindColleague(CardAction):
    action: ClassVar[str] = "find_colleague"
    meeting_id: str = MeetingId
    colleague: str = Field(default="", max_length=200)


class HandOver(CardAction):
    action: ClassVar[str] = "hand_over"
    meeting_id: str = MeetingId
    to: str = Field(default="", max_length=255)  # a person key offered by the card


class KeepOwner(CardAction):
    action: ClassVar[str] = "keep_owner"
    meeting_id: str = MeetingId


class AskCancel(CardAction):
    """Ställ in mötet: asks the CMS for active calls, then asks for confirmation."""

    action: ClassVar[str] = "ask_cancel"
    meeting_id: str = MeetingId
