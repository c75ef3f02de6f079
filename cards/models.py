"""What cards show: plain data, no I/O. Handlers build these from the store."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class RecipientView(View):
    id: str
    label: str
    channel: str
    sent_at: datetime | None = None  # local time
    confirmed_at: datetime | None = None  # local time
    retell: bool = False  # told before the meeting was moved: needs a new word


class MeetingView(View):
    id: str
    room_name: str
    video_address: str
    call_id: str
    web_link: str | None = None
    join_film: str | None = None  # the routine's film on joining via Cisco Meeting, when configured
    dial_in: str | None = None
    starts_at: datetime  # local time
    ends_at: datetime  # local time
    state: str
    recipients: tuple[RecipientView, ...] = ()
    patient_joins: str | None = None  # "video_room", "browser" or "phone" when chosen
    recipient_roles: tuple[str, ...] = ()  # offered on the card beside a short free text
    joined_now: int | None = None  # in the room now, for a meeting in progress (``lista``)
    owned: bool = False  # the room is in its creator's Cisco Meeting app


class NewMeetingForm(View):
    request_id: str
    unit: str = ""
    units: tuple[str, ...] = ()  # the region's units to choose from; empty: typed
    date: str
    min_date: str
    start: str
    length_minutes: int = 60


class HelpInfo(View):
    dial_in: str | None = None
    links: dict[str, str] = {}


class DeleteQuestion(View):
    """``cancel``: the question of "Ställ in mötet" (the meeting will not take place)."""

    meeting: MeetingView
    active_calls: int = 0
    cancel: bool = False


class ColleagueChoice(View):
    key: str
    name: str


class HandOverQuestion(View):
    meeting: MeetingView
    colleagues: tuple[ColleagueChoice, ...]


class OverdueRoom(View):
    room_name: str
    creator_name: str
    ends_at: datetime  # local time


class StatusView(View):
    live: int
    by_state: dict[str, int]
    overdue: tuple[OverdueRoom, ...] = ()


class ReportRow(View):
    """One unit's figures (``unit`` empty: orphans whose meeting was never recorded)."""

    unit: str
    created: int
    deleted_by_creator: int
    deleted_by_admin: int
    deleted_automatically: int
    median_minutes_to_deletion: int | None
    longest_minutes_to_deletion: int | None
    live_now: int
    overdue_now: int
    orphans_last_sweep: int


class RoomReportRow(View):
    """One room: when it was created and deleted, and by which role (``state``, as bot/services/report.py)."""

    room_name: str
    unit: str
    created_at: datetime  # local time
    ends_at: datetime  # local time
    deleted_at: datetime | None = None  # local time
    state: str
    cancelled: bool = False
    moved: int = 0


class RoomsReportView(View):
    since: str | None = None  # YYYY-MM-DD
    until: str | None = None
    rooms: tuple[RoomReportRow, ...] = ()  # the latest, oldest first
    total: int  # rooms in the period; more than ``rooms`` when the card shows only the latest


class ReportView(View):
    since: str | None = None  # YYYY-MM-DD
    until: str | None = None
    last_sweep_at: datetime | None = None  # local time
    units: tuple[ReportRow, ...] = ()
    total: ReportRow
