"""Proof for the county: per unit, rooms created and how each was deleted, from the store alone.

Figures count meetings whose room was created in the period (local dates, both ends included).
"Live" and "overdue" are as of now. Nothing about recipients or patients is read: only units,
times and who deleted (the creator, an admin, or the deadline rule).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.services.meetings.rebooking import MOVED
from bot.services.naming import uri_slug
from bot.store.schema import CISCO_MEETING_RULE, LIVE_STATES, AuditRecord, Meeting

# What the sweep leaves in the audit trail each time it runs (actor "sweep"): one row for the run
# (detail: how many orphans) and one per orphan found (its meeting id and CMS space id), same time.
SWEEP_ACTOR = "sweep"
SWEEP_RUN = "sweep_run"
ORPHAN_FOUND = "orphan_found"
UNKNOWN_UNIT = ""  # an orphan whose meeting the store never recorded
DELETED_FIELD = {"creator": "deleted_by_creator", "admin": "deleted_by_admin",
                 "automatically": "deleted_automatically"}


@dataclass
class UnitFigures:
    unit: str
    created: int = 0
    deleted_by_creator: int = 0
    deleted_by_admin: int = 0
    deleted_automatically: int = 0
    live_now: int = 0
    overdue_now: int = 0
    orphans_last_sweep: int = 0
    # Minutes from the meeting's end to the room's deletion (0 when deleted before the end).
    minutes_to_deletion: list[int] = field(default_factory=list, repr=False)

    @property
    def median_minutes_to_deletion(self) -> int | None:
        values = self.minutes_to_deletion
        return round(statistics.median(values)) if values else None

    @property
    def longest_minutes_to_deletion(self) -> int | None:
        return max(self.minutes_to_deletion) if self.minutes_to_deletion else None

    def add(self, other: UnitFigures) -> None:
        for name in ("created", "deleted_by_creator", "deleted_by_admin", "deleted_automatically",
                     "live_now", "overdue_now", "orphans_last_sweep"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.minutes_to_deletion += other.minutes_to_deletion

    def as_dict(self) -> dict[str, object]:
        return {
            "unit": self.unit, "created": self.created, "deleted_by_creator": self.deleted_by_creator,
            "deleted_by_admin": self.deleted_by_admin, "deleted_automatically": self.deleted_automatically,
            "median_minutes_to_deletion": self.median_minutes_to_deletion,
            "longest_minutes_to_deletion": self.longest_minutes_to_deletion,
            "live_now": self.live_now, "overdue_now": self.overdue_now,
            "orphans_last_sweep": self.orphans_last_sweep,
        }


FIGURES = tuple(UnitFigures(UNKNOWN_UNIT).as_dict())


@dataclass(frozen=True)
class Report:
    since: date | None
    until: date | None
    generated_at: datetime  # local time
    last_sweep_at: datetime | None  # local time
    units: tuple[UnitFigures, ...]
    total: UnitFigures


@dataclass(frozen=True)
class Overdue:
    room_name: str
    creator_name: str
    ends_at: datetime  # local time


# The only columns the report reads: never a recipient, never the room's address or call ID.
_COLUMNS = (Meeting.unit, Meeting.state, Meeting.creator_id, Meeting.ends_at, Meeting.deleted_at, Meeting.deleted_by)
# Per room also its name (the unit and a number, bot/services/naming.py) and when it was created;
# who deleted it only as a role (``deleted_how``), never as a person.
_ROOM_COLUMNS = (*_COLUMNS, Meeting.room_name, Meeting.created_at, Meeting.cancelled_at)
_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")
LIVE, OVERDUE = "live", "overdue"  # a room's state in the per-room report when it is not deleted
IN_CISCO_MEETING = "cisco_meeting"  # ... when its creator deleted it in Cisco Meeting


@dataclass(frozen=True)
class RoomRow:
    room_name: str
    unit: str
    created_at: datetime  # local time
    ends_at: datetime  # the meeting's end, local time
    deleted_at: datetime | None  # local time
    state: str  # ``creator``, ``cisco_meeting``, ``admin`` or ``automatically`` (who deleted it), ``live``, ``overdue``
    cancelled: bool = False  # "Ställ in mötet": deleted before the meeting, which did not take place
    moved: int = 0  # times the meeting was moved ("Flytta mötet")


def deleted_how(meeting: Row[Any] | Meeting) -> str:
    """``creator``, ``admin`` or ``automatically`` (``deleted_by`` is a person key or a rule)."""
    if meeting.deleted_by in (meeting.creator_id, CISCO_MEETING_RULE):  # the owner, in Cisco Meeting
        return "creator"
    if meeting.deleted_by and ":" in meeting.deleted_by:
        return "admin"  # "<platform>:<id>" of someone else: only an admin may delete another's room
    return "automatically"


class ReportService:
    def __init__(self, sessions: async_sessionmaker, clock: Clock, settings: Settings) -> None:
        self._sessions = sessions
        self._clock = clock
        self._settings = settings

    async def overdue(self) -> list[Overdue]:
        zone = self._settings.zone
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Meeting).where(Meeting.state.in_(LIVE_STATES),
                                      Meeting.ends_at < self._settings.overdue_from(self._clock.now()))
                .order_by(Meeting.ends_at)
            )
            return [Overdue(m.room_name, m.creator_name, m.ends_at.astimezone(zone)) for m in rows]

    async def report(self, since: date | None = None, until: date | None = None) -> Report:
        zone = self._settings.zone
        now = self._clock.now()
        async with self._sessions() as session:
            meetings = list(await session.execute(self._created_in(select(*_COLUMNS), since, until)))
            last_sweep, orphan_ids = await _last_sweep(session)
            orphan_units: dict[str, str] = {
                meeting_id: unit for meeting_id, unit in await session.execute(
                    select(Meeting.id, Meeting.unit).where(Meeting.id.in_(orphan_ids)))
            } if orphan_ids else {}

        units: dict[str, UnitFigures] = {}

        def figures(unit: str) -> UnitFigures:
            row = units.setdefault(uri_slug(unit), UnitFigures(unit))
            row.unit = unit  # the latest spelling
            return row

        overdue_from = self._settings.overdue_from(now)
        for meeting in meetings:
            row = figures(meeting.unit)
            row.created += 1
            if meeting.state in LIVE_STATES:
                row.live_now += 1
                row.overdue_now += meeting.ends_at < overdue_from
            elif meeting.deleted_at is not None:
                name = DELETED_FIELD[deleted_how(meeting)]
                setattr(row, name, getattr(row, name) + 1)
                after_end = (meeting.deleted_at - meeting.ends_at).total_seconds()
                row.minutes_to_deletion.append(max(0, round(after_end / 60)))
        for meeting_id in orphan_ids:
            figures(orphan_units.get(meeting_id, UNKNOWN_UNIT)).orphans_last_sweep += 1

        total = UnitFigures("total")
        ordered = tuple(sorted(units.values(), key=lambda r: (r.unit == UNKNOWN_UNIT, r.unit.casefold())))
        for row in ordered:
            total.add(row)
        return Report(since, until, now.astimezone(zone), last_sweep.astimezone(zone) if last_sweep else None,
                      ordered, total)


    async def rooms(self, since: date | None = None, until: date | None = None) -> list[RoomRow]:
        """One row per room created in the period, oldest first: the proof that each was deleted."""
        zone = self._settings.zone
        overdue_from = self._settings.overdue_from(self._clock.now())
        moves = (select(func.count()).where(AuditRecord.meeting_id == Meeting.id, AuditRecord.action == MOVED)
                 .scalar_subquery().label("moves"))
        async with self._sessions() as session:
            meetings = list(await session.execute(self._created_in(select(*_ROOM_COLUMNS, moves), since, until)))

        def local(moment: datetime | None) -> datetime | None:
            return moment.astimezone(zone) if moment is not None else None

        return [RoomRow(m.room_name, m.unit, m.created_at.astimezone(zone), m.ends_at.astimezone(zone),
                        local(m.deleted_at),
                        IN_CISCO_MEETING if m.deleted_by == CISCO_MEETING_RULE
                        else deleted_how(m) if m.deleted_at is not None and m.state not in LIVE_STATES
                        else OVERDUE if m.ends_at < overdue_from else LIVE,
                        cancelled=m.cancelled_at is not None, moved=m.moves)
                for m in meetings]

    def _created_in(self, query: _Query, since: date | None, until: date | None) -> _Query:
        """``query`` for the meetings whose room was created in the period (local dates, both included)."""
        zone = self._settings.zone
        if since is not None:
            query = query.where(Meeting.created_at >= datetime.combine(since, time(), zone).astimezone(UTC))
        if until is not None:
            end = datetime.combine(until + timedelta(days=1), time(), zone).astimezone(UTC)
            query = query.where(Meeting.created_at < end)
        return query.order_by(Meeting.created_at, Meeting.id)


async def _last_sweep(session: AsyncSession) -> tuple[datetime | None, list[str]]:
    at = await session.scalar(
        select(AuditRecord.at).where(AuditRecord.actor == SWEEP_ACTOR, AuditRecord.action == SWEEP_RUN)
        .order_by(AuditRecord.id.desc()).limit(1)
    )
    if at is None:
        return None, []
    ids = await session.scalars(
        select(AuditRecord.meeting_id).where(AuditRecord.actor == SWEEP_ACTOR, AuditRecord.action == ORPHAN_FOUND,
                                             AuditRecord.at == at)
    )
    return at, [i for i in ids if i]


async def record_sweep(sessions: async_sessionmaker, at: datetime, found: Sequence[tuple[str, str]]) -> None:
    """Leave the run and each orphan found (meeting id, space id) in the audit trail, for the report."""
    async with sessions() as session, session.begin():
        session.add(AuditRecord(at=at, actor=SWEEP_ACTOR, action=SWEEP_RUN, detail=str(len(found))))
        session.add_all(AuditRecord(at=at, actor=SWEEP_ACTOR, action=ORPHAN_FOUND, meeting_id=meeting_id,
                                    space_id=space_id) for meeting_id, space_id in found)
