"""The audit trail is history: written only by appends, and not read by the 15-second passes, which
select their intents from ``room_creation`` and ``room_deletion`` by an index.

Statements are recorded as SQLAlchemy sends them (``before_cursor_execute``). The few that go to
aiosqlite's connection directly (``bot.store.driver.sqlite_run``: inbound events and jobs) touch no audit row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services.meetings import DELETION_GRACE, MeetingError, Person
from bot.services.reminder_plan import SYSTEM
from bot.services.retention import erase_person
from bot.store.queues import DailyRun, OperationChange
from bot.store.schema import AUTO_DELETE_RULE, AuditRecord, Channel, RoomDeletion
from tests.conftest import run_pass
from tests.handlers.test_routine import test_full_routine_from_new_to_deleted_room
from tests.services.test_meetings import NURSE, TIMES, _open

ADMIN = Person(key="memory:admin-1", name="Ada", is_admin=True)
CHANGES_AUDIT = re.compile(r"^\s*(UPDATE|DELETE\s+FROM|INSERT\s+OR\s+REPLACE\s+INTO)\s+\"?audit\"?[\s(]", re.I)
READS_AUDIT = re.compile(r"\b(FROM|JOIN)\s+\"?audit\"?\b", re.I)


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement ``engine`` sends while the block runs."""
    sent: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


def changing_audit(sent: list[str]) -> list[str]:
    return [s for s in sent if CHANGES_AUDIT.search(s)]


async def test_a_whole_routine_only_appends_to_the_audit_trail(cms, database_url, clock) -> None:
    """Created, invited, confirmed; a deletion withdrawn, one left to the pass, one by the rule; a
    creation left to the pass; the daily sweep and purge (there is no audit purge: docs/privacy.md)
    and a person's erasure, each run twice where a run again must change nothing."""
    services = await _open(cms, database_url, clock, timeout=0.3, max_attempts=1)
    meetings = services.meetings
    try:
        with statements(services.engine) as sent:
            rooms = [await meetings.create(platform="memory", creator=NURSE, unit="HC Torsås", times=TIMES,
                                           request_id=f"card-{n}", operation=f"memory:create-{n}") for n in range(4)]
            first = rooms[0]
            for _ in range(2):
                [recipient] = (await meetings.add_recipient(first.id, NURSE, "Kommunen", Channel.MESSENGER,
                                                            operation="memory:add")).recipients
                await meetings.mark_sent(first.id, NURSE, recipient.id, operation="memory:sent")
                await meetings.mark_confirmed(first.id, NURSE, recipient.id, operation="memory:confirmed")
            cms.simulator.fail_next(401, on="DELETE coSpaces/.+")  # refused: withdrawn
            with pytest.raises(MeetingError):
                await meetings.delete(first.id, NURSE, operation="memory:delete-refused")
            await meetings.delete(first.id, NURSE, operation="memory:delete")
            cms.simulator.hang(on="DELETE coSpaces/.+")  # no answer: the intent stays for the pass
            with pytest.raises(MeetingError):
                await meetings.delete(rooms[1].id, ADMIN, operation="memory:delete-hung")
            cms.simulator.release()
            await cms.simulator.settled()
            cms.simulator.clear_faults()
            clock.advance(DELETION_GRACE + timedelta(seconds=1))
            assert len(await meetings.finish_interrupted_deletions()) == 1
            assert await meetings.finish_interrupted_deletions() == []
            async with services.sessions() as session:
                deletion = await session.get(RoomDeletion, rooms[1].id)
            await meetings.delete(rooms[2].id, SYSTEM, rule=AUTO_DELETE_RULE)
            await meetings.finish_interrupted()
            await services.reminders.run_due()
            clock.advance(timedelta(days=services.settings.retention_days + 1))
            for _ in range(2):
                await run_pass(services, "sweep")
                await run_pass(services, "purge")
            await meetings.delete(rooms[3].id, NURSE)
            await erase_person(services.sessions, NURSE.key)
        async with services.sessions() as session:
            actions = list(await session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))
            runs = list(await session.scalars(select(DailyRun.job).order_by(DailyRun.job)))
            changes = set(await session.scalars(select(OperationChange.change).where(
                OperationChange.operation == "memory:delete-hung")))
            left = list(await session.scalars(select(RoomDeletion.meeting_id)))
    finally:
        await services.close()
    assert any("INSERT INTO audit" in s for s in sent)
    assert changing_audit(sent) == []
    assert actions.count("deleting") == 5 and actions.count("delete_withdrawn") == 1
    assert actions.count("daily:sweep") == actions.count("daily:purge") == 1 and runs == ["purge", "sweep"]
    assert changes == {"deleting", "deleted"}
    assert deletion is not None and (deletion.state, deletion.actor) == ("deleted", ADMIN.key)
    assert left == []  # purged after the retention period; the last one erased with its person


async def test_the_routine_through_the_handlers_only_appends_to_the_audit_trail(chat, services, cms) -> None:
    with statements(services.engine) as sent:
        await test_full_routine_from_new_to_deleted_room(chat, services, cms)
    assert any("INSERT INTO audit" in s for s in sent)
    assert changing_audit(sent) == []


def test_the_recorder_sees_a_change_of_an_audit_row() -> None:
    """The rule itself: what today's code never sends would be seen."""
    assert changing_audit(['UPDATE audit SET detail=? WHERE audit.id = ?', 'DELETE FROM audit WHERE audit.id = ?',
                           'INSERT INTO audit (at) VALUES (?)', 'UPDATE room_deletion SET state=?']) == [
        'UPDATE audit SET detail=? WHERE audit.id = ?', 'DELETE FROM audit WHERE audit.id = ?']


async def test_the_passes_read_their_intents_not_the_audit_trail(cms, database_url, clock) -> None:
    services = await _open(cms, database_url, clock, timeout=0.3, max_attempts=1)
    meetings = services.meetings
    try:
        meeting = await meetings.create(platform="memory", creator=NURSE, unit="HC Torsås", times=TIMES,
                                        request_id="card-1")
        cms.simulator.hang(on="DELETE coSpaces/.+")
        with pytest.raises(MeetingError):
            await meetings.delete(meeting.id, NURSE)
        cms.simulator.release()
        await cms.simulator.settled()
        cms.simulator.clear_faults()
        clock.advance(DELETION_GRACE + timedelta(seconds=1))
        with statements(services.engine) as sent:
            assert len(await meetings.finish_interrupted_deletions()) == 1
            assert await meetings.finish_interrupted() == []
        if database_url.startswith("sqlite"):
            async with services.engine.connect() as connection:
                deletions, creations = [" ".join(str(part) for row in (await connection.execute(
                    text(f"EXPLAIN QUERY PLAN {select_}"))).all() for part in row) for select_ in (
                    "SELECT meeting_id FROM room_deletion WHERE state = 'deleting' AND lease_until < '2026'",
                    "SELECT meeting_id FROM room_creation WHERE state = 'creating' AND lease_until < '2026'")]
    finally:
        await services.close()
    reads = [s for s in sent if s.lstrip().upper().startswith("SELECT")]
    assert any("room_deletion" in s for s in reads) and any("room_creation" in s for s in reads)
    assert [s for s in sent if READS_AUDIT.search(s)] == []
    assert [s for s in sent if "max(" in s.lower()] == []  # no newest mark per meeting
    if database_url.startswith("sqlite"):
        assert "USING INDEX ix_room_deletion_state" in deletions
        assert "USING INDEX ix_room_creation_state" in creations
