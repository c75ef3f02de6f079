"""Reminders on SQLite and PostgreSQL, driven by a manual clock: sent once, late when late, never lost."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.core import PersonKey, Platform, Reply, delivery
from bot.core.adapter import AdapterHost
from bot.runtime import Services, open_services
from bot.services import auto_delete, reminders
from bot.services import reminder_plan as kinds
from bot.services.meetings import MeetingError, Person
from bot.services.validation import MeetingTimes
from bot.store.schema import Channel, Meeting, Reminder, ReminderAttempt
from cards import texts as wording
from tests.conftest import RunningCms, make_settings
from tests.services.test_meetings import fast_cms
from tests.store.rows import audit_trail

NURSE = Person(key="memory:nurse-1", name="Nina")
COLLEAGUE = Person(key="memory:nurse-2", name="Kalle")
ADMIN = Person(key="memory:admin-1", name="Ada", is_admin=True)
# Wednesday 2026-11-25, 13:00–14:00 in Stockholm.
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class Outbox:
    """An adapter that can write to anyone and records what it sends; ``failures[person]`` raises
    queued errors first. People are recorded by their platform id, admins by their listed identity."""

    platform = Platform("memory")
    ready = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Reply]] = []
        self.failures: dict[str, list[Exception]] = defaultdict(list)

    def install(self, app: web.Application, host: AdapterHost) -> None:
        pass

    async def send_direct(self, person: PersonKey, replies: Sequence[Reply]) -> None:
        await self.send_to_identity(person.id, replies)

    async def send_to_identity(self, identity: str, replies: Sequence[Reply]) -> None:
        if self.failures[identity]:
            raise self.failures[identity].pop(0)
        self.sent.extend((self.platform, identity, reply) for reply in replies)

    def texts(self, person_id: str = "nurse-1") -> list[str]:
        return [reply.text for _, to, reply in self.sent if to == person_id]

    def cards(self, person_id: str = "nurse-1") -> list[dict]:
        return [reply.card for _, to, reply in self.sent if to == person_id and reply.card]


@dataclass
class Rig:
    services: Services
    outbox: Outbox
    clock: ManualClock
    cms: RunningCms

    @property
    def reminders(self) -> reminders.ReminderService:
        return self.services.reminders

    async def meeting(self, starts: datetime = START, minutes: int = 60, n: int = 0) -> Meeting:
        times = MeetingTimes(starts, starts + timedelta(minutes=minutes))
        return await self.services.meetings.create(platform="memory", creator=NURSE, unit="HC Torsås",
                                                   times=times, request_id=f"request-{n:04d}")

    async def run_until(self, until: datetime) -> int:
        """What the timer does: wake at each due time up to ``until`` and run what is due."""
        handled = 0
        while (due := await self.reminders.next_due()) is not None and due <= until:
            self.clock.set(max(due, self.clock.now()))
            handled += await self.reminders.run_due()
        self.clock.set(max(until, self.clock.now()))
        return handled

    async def rows(self, meeting_id: str) -> list[Reminder]:
        async with self.services.sessions() as session:
            return list(await session.scalars(
                select(Reminder).where(Reminder.meeting_id == meeting_id).order_by(Reminder.planned_at)))

    async def states(self, meeting_id: str) -> dict[str, list[str]]:
        result: dict[str, list[str]] = defaultdict(list)
        for row in await self.rows(meeting_id):
            result[row.kind].append(row.state)
        return dict(result)

    async def trail(self, meeting_id: str) -> list[tuple[str, str, str | None]]:
        return [(a.actor, a.action, a.detail) for a in await audit_trail(self.services, meeting_id)]


async def open_rig(cms: RunningCms, database_url: str, clock: ManualClock, outbox: Any = None,
                   **settings: object) -> Rig:
    outbox = outbox or Outbox()
    # These tests follow the messages about recipients, the start and the cleanup; "har alla
    # anslutit?" asks the CMS, and has its own (tests/services/test_join_check.py).
    settings.setdefault("join_check_minutes", 0)
    services = await open_services(make_settings(cms, database_url, **settings), clock=clock, cms=fast_cms(cms),
                                   adapters=[outbox])
    return Rig(services, outbox, clock, cms)


def _buttons(card: dict) -> list[str]:
    return [action["title"] for action in card.get("actions", [])]


async def test_a_new_meeting_stores_its_reminders(rig):
    meeting = await rig.meeting()
    planned = {row.kind: row.due_at for row in await rig.rows(meeting.id)}
    assert planned == {
        kinds.UNCONFIRMED: START - timedelta(minutes=60),
        kinds.START: START - timedelta(minutes=5),
        kinds.CLEANUP: START + timedelta(minutes=70),
        kinds.AUTO_DELETE: START + timedelta(hours=25),
    }


async def test_a_meeting_made_at_short_notice_gets_no_nagging_reminder(rig):
    rig.clock.set(START - timedelta(minutes=50))
    meeting = await rig.meeting()
    assert {row.kind for row in await rig.rows(meeting.id)} == {kinds.START, kinds.CLEANUP, kinds.AUTO_DELETE}


async def test_each_reminder_is_sent_once_at_its_time(rig):
    meeting = await rig.meeting()
    await rig.run_until(START - timedelta(minutes=60))
    assert rig.outbox.texts() == [wording.NOBODY_TITLE.format(room="HC Torsås 1")]
    await rig.run_until(START - timedelta(minutes=5))
    assert rig.outbox.texts()[-1] == wording.START_TITLE.format(room="HC Torsås 1", start="13.00")
    await rig.run_until(START + timedelta(minutes=70))
    prompt = rig.outbox.cards()[-1]
    assert _buttons(prompt) == ["Ta bort mötesrummet", wording.SNOOZE_15, wording.SNOOZE_60]
    assert "26/11 kl. 14.00" in str(prompt)  # the deadline, local time
    assert await rig.reminders.run_due() == 0
    assert len(rig.outbox.sent) == 3
    rows = {row.kind: row for row in await rig.rows(meeting.id)}
    assert all(rows[k].state == kinds.SENT and rows[k].sent_at == rows[k].planned_at
               for k in (kinds.UNCONFIRMED, kinds.START, kinds.CLEANUP))
    assert (await rig.services.meetings.get(meeting.id, NURSE)).state == "ended"


async def test_unconfirmed_reminder_names_who_to_ring_and_is_skipped_when_all_confirmed(rig):
    first, second = await rig.meeting(n=1), await rig.meeting(n=2)
    meetings = rig.services.meetings
    await meetings.add_recipient(first.id, NURSE, "Hemtjänsten", Channel.LINK)
    await meetings.add_recipient(first.id, NURSE, "Biståndshandläggare", Channel.PHONE)
    done = await meetings.add_recipient(second.id, NURSE, "Kommunen", Channel.MESSENGER)
    told = (await meetings.add_recipient(first.id, NURSE, "Rehab", Channel.MESSENGER)).recipients[2]
    await meetings.mark_sent(first.id, NURSE, first_recipient := (await meetings.get(first.id, NURSE)).recipients[0].id)
    await meetings.mark_confirmed(first.id, NURSE, first_recipient)
    await meetings.mark_sent(first.id, NURSE, told.id)
    await meetings.mark_sent(second.id, NURSE, done.recipients[0].id)
    await meetings.mark_confirmed(second.id, NURSE, done.recipients[0].id)

    phoned = (await meetings.add_recipient(second.id, NURSE, "Vårdcentralen", Channel.PHONE)).recipients[1]
    await meetings.mark_sent(second.id, NURSE, phoned.id)

    await rig.run_until(START - timedelta(minutes=60))
    [card] = rig.outbox.cards()
    assert card["body"][0]["text"] == "HC Torsås 1: 2 mottagare har inte fått eller bekräftat mötesinformationen"
    shown = [element.get("text") for element in card["body"]]
    # The telephone recipient confirms nothing, but is named to be rung while not yet phoned.
    assert shown[shown.index(wording.UNCONFIRMED_TEXT) + 1] == "- Rehab"
    assert shown[shown.index(wording.NOT_PHONED_TEXT) + 1] == "- Biståndshandläggare"
    assert "Hemtjänsten" not in str(card)
    # Everyone confirmed or phoned: nothing to say.
    assert (await rig.states(second.id))[kinds.UNCONFIRMED] == [kinds.SKIPPED]


async def test_a_meeting_with_only_unphoned_telephone_recipients_is_reminded_to_ring_them(rig):
    meeting = await rig.meeting()
    await rig.services.meetings.add_recipient(meeting.id, NURSE, "Biståndshandläggare", Channel.PHONE)
    await rig.services.meetings.add_recipient(meeting.id, NURSE, "Vårdcentralen", Channel.PHONE)

    await rig.run_until(START - timedelta(minutes=60))
    [card] = rig.outbox.cards()
    assert card["body"][0]["text"] == "HC Torsås 1: ring 2 mottagare innan mötet"
    shown = [element.get("text") for element in card["body"]]
    assert shown[shown.index(wording.NOT_PHONED_TEXT) + 1] == "- Biståndshandläggare\n- Vårdcentralen"
    assert (await rig.states(meeting.id))[kinds.UNCONFIRMED] == [kinds.SENT]


async def test_a_reminder_due_while_the_bot_was_stopped_is_sent_once_after_start_marked_late(cms, database_url, clock):
    rig = await open_rig(cms, database_url, clock)
    meeting = await rig.meeting()
    await rig.services.close()  # the bot stops before anything is due ...

    clock.set(START - timedelta(minutes=30))  # ... and starts again half an hour after the first was due
    rig = await open_rig(cms, database_url, clock)
    try:
        assert await rig.reminders.run_due() == 1
        assert await rig.reminders.run_due() == 0
        [text] = rig.outbox.texts()
        assert text.startswith(wording.LATE)
        assert rig.outbox.cards()[0]["body"][0]["text"] == wording.LATE
        await rig.run_until(START - timedelta(minutes=5))
        assert not rig.outbox.texts()[1].startswith(wording.LATE)  # on time again
        assert (await _attempts(rig, meeting.id)) == 2
    finally:
        await rig.services.close()


async def _attempts(rig: Rig, meeting_id: str) -> int:
    async with rig.services.sessions() as session:
        return await session.scalar(
            select(func.count()).select_from(ReminderAttempt).join(Reminder, Reminder.id == ReminderAttempt.reminder_id)
            .where(Reminder.meeting_id == meeting_id))


async def test_reminders_that_can_no_longer_help_are_skipped(rig):
    meeting = await rig.meeting()
    rig.clock.set(START + timedelta(hours=2))  # down for the whole meeting
    await rig.reminders.run_due()
    assert await rig.states(meeting.id) == {
        kinds.UNCONFIRMED: [kinds.SKIPPED], kinds.START: [kinds.SKIPPED], kinds.CLEANUP: [kinds.SENT],
        kinds.FOLLOWUP: [kinds.PENDING],
        kinds.AUTO_DELETE: [kinds.PENDING],
    }
    assert rig.outbox.texts() == [f"{wording.LATE} " + wording.CLEANUP_TITLE.format(room="HC Torsås 1")]


async def test_a_temporary_failure_is_retried_with_backoff_then_failed_and_an_admin_told(rig):
    meeting = await rig.meeting()
    rig.outbox.failures["nurse-1"] = [delivery.DeliveryFailed("http_503")] * kinds.MAX_ATTEMPTS
    rig.clock.set(START - timedelta(minutes=60))
    await rig.reminders.run_due()
    [row] = [row for row in await rig.rows(meeting.id) if row.kind == kinds.UNCONFIRMED]
    assert (row.state, row.attempts, row.last_error) == (kinds.PENDING, 1, "http_503")
    assert row.due_at == rig.clock.now() + kinds.BACKOFF_FIRST
    for _ in range(kinds.MAX_ATTEMPTS - 1):
        rig.clock.set(await rig.reminders.next_due())
        await rig.reminders.run_due()
    [row] = [row for row in await rig.rows(meeting.id) if row.kind == kinds.UNCONFIRMED]
    assert (row.state, row.attempts) == (kinds.FAILED, kinds.MAX_ATTEMPTS)
    assert rig.outbox.texts("admin-1") == [wording.ADMIN_FAILED.format(room="HC Torsås 1", attempts=kinds.MAX_ATTEMPTS)]


async def test_retry_after_from_the_platform_is_honoured(rig):
    await rig.meeting()
    rig.outbox.failures["nurse-1"] = [delivery.DeliveryFailed("http_429", retry_after=600)]
    rig.clock.set(START - timedelta(minutes=60))
    await rig.reminders.run_due()
    assert await rig.reminders.next_due() == rig.clock.now() + timedelta(seconds=600)


async def test_an_adapter_bug_or_timeout_is_a_temporary_failure(rig):
    meeting = await rig.meeting()
    rig.outbox.failures["nurse-1"] = [RuntimeError("boom"), TimeoutError()]
    rig.clock.set(START - timedelta(minutes=60))
    await rig.reminders.run_due()
    rig.clock.set(await rig.reminders.next_due())
    await rig.reminders.run_due()
    [row] = [row for row in await rig.rows(meeting.id) if row.kind == kinds.UNCONFIRMED]
    assert (row.state, row.last_error) == (kinds.PENDING, "timeout")


async def test_a_person_gone_stops_the_reminders_keeps_the_deletion_and_tells_an_admin(rig):
    meeting = await rig.meeting()
    rig.outbox.failures["nurse-1"] = [delivery.DeliveryGone("Person Not Found!")]
    rig.clock.set(START - timedelta(minutes=60))
    await rig.reminders.run_due()
    assert await rig.states(meeting.id) == {
        kinds.UNCONFIRMED: [kinds.FAILED], kinds.START: [kinds.CANCELLED], kinds.CLEANUP: [kinds.CANCELLED],
        kinds.AUTO_DELETE: [kinds.PENDING],
    }
    assert ("system", "reminders_stopped", "person_not_found_") in await rig.trail(meeting.id)
    [alert] = rig.outbox.texts("admin-1")
    assert "HC Torsås 1" in alert and "26/11 kl. 14.00" in alert


async def test_snoozing_brings_the_prompt_back_once_and_a_second_click_is_calm(rig):
    meeting = await rig.meeting()
    await rig.run_until(START + timedelta(minutes=70))
    snoozed = await rig.reminders.snooze(meeting.id, NURSE, 15)
    assert snoozed == reminders.Snoozed(rig.clock.now() + timedelta(minutes=15), already=False)
    assert (await rig.reminders.snooze(meeting.id, NURSE, 60)).already
    assert (await rig.states(meeting.id))[kinds.FOLLOWUP] == [kinds.CANCELLED]

    await rig.run_until(START + timedelta(minutes=84))
    assert len(rig.outbox.cards()) == 3
    await rig.run_until(START + timedelta(minutes=85))
    assert rig.outbox.texts()[-1] == wording.CLEANUP_TITLE.format(room="HC Torsås 1")
    assert await rig.states(meeting.id) == {
        kinds.UNCONFIRMED: [kinds.SENT], kinds.START: [kinds.SENT], kinds.CLEANUP: [kinds.SENT, kinds.SENT],
        kinds.FOLLOWUP: [kinds.CANCELLED, kinds.PENDING],
        kinds.AUTO_DELETE: [kinds.PENDING],
    }
    assert ("memory:nurse-1", "reminder_snoozed", "15") in await rig.trail(meeting.id)


async def test_only_the_creator_or_an_admin_may_snooze(rig):
    meeting = await rig.meeting()
    await rig.run_until(START + timedelta(minutes=70))
    with pytest.raises(MeetingError, match="not_allowed"):
        await rig.reminders.snooze(meeting.id, COLLEAGUE, 15)
    assert not (await rig.reminders.snooze(meeting.id, ADMIN, 60)).already
    await rig.services.meetings.delete(meeting.id, NURSE)
    with pytest.raises(MeetingError, match="already_deleted"):
        await rig.reminders.snooze(meeting.id, NURSE, 15)


async def test_deleting_early_cancels_every_reminder(rig):
    meeting = await rig.meeting()
    await rig.services.meetings.delete(meeting.id, NURSE)
    await rig.run_until(START + timedelta(days=3))
    assert rig.outbox.sent == []
    assert set(sum((await rig.states(meeting.id)).values(), [])) == {kinds.CANCELLED}
    assert ("memory:nurse-1", "deleted", None) in await rig.trail(meeting.id)


async def test_the_room_is_deleted_at_the_deadline_and_the_creator_told(rig):
    meeting = await rig.meeting()
    rig.clock.set(START + timedelta(hours=25))
    await rig.reminders.run_due()
    assert meeting.space_id not in rig.cms.simulator.spaces
    deleted = await rig.services.meetings.get(meeting.id, NURSE)
    assert (deleted.state, deleted.deleted_by) == ("deleted", auto_delete.AUTO_DELETE_RULE)
    assert rig.outbox.texts()[-1] == wording.AUTO_DELETED_TITLE.format(room="HC Torsås 1")
    assert wording.AUTO_DELETED_TEXT.format(when="den 26/11 kl. 14.00") in str(rig.outbox.cards()[-1])
    assert (await rig.states(meeting.id))[kinds.AUTO_DELETE] == [kinds.SENT]
    assert ("system", "deleted", auto_delete.AUTO_DELETE_RULE) in await rig.trail(meeting.id)
    assert await rig.reminders.next_due() is None


async def test_at_the_deadline_an_active_call_is_waited_for_and_the_creator_and_an_admin_told_once(rig):
    meeting = await rig.meeting()
    call = rig.cms.simulator.add_call(meeting.space_id)
    rig.clock.set(START + timedelta(hours=25))
    await rig.run_until(START + timedelta(hours=26))  # two tries, half an hour apart
    assert meeting.space_id in rig.cms.simulator.spaces
    [alert] = rig.outbox.texts("admin-1")
    assert alert == wording.ADMIN_CALL_ACTIVE.format(room="HC Torsås 1", deadline="den 26/11 kl. 14.00", retry="14.30")
    waits = wording.DELETION_WAITS_TITLE.format(room="HC Torsås 1")
    assert rig.outbox.texts().count(waits) == 1
    assert wording.DELETION_WAITS_TEXT.format(deadline="den 26/11 kl. 14.00", retry="14.30") in str(
        rig.outbox.cards()[rig.outbox.texts().index(waits)])
    assert [a for a in await rig.trail(meeting.id) if a[1] == "auto_delete_postponed"] == [
        ("system", "auto_delete_postponed", "call_active")] * 3

    rig.cms.simulator.end_call(call)
    await rig.run_until(START + timedelta(hours=26, minutes=30))
    assert meeting.space_id not in rig.cms.simulator.spaces
    assert rig.outbox.texts()[-1] == wording.AUTO_DELETED_TITLE.format(room="HC Torsås 1")  # not "late"


async def test_a_room_deleted_by_hand_during_the_deadline_run_is_not_announced(rig):
    meeting = await rig.meeting()
    await rig.services.meetings.delete(meeting.id, NURSE)
    async with rig.services.sessions() as session, session.begin():
        row = await session.scalar(select(Reminder).where(Reminder.meeting_id == meeting.id,
                                                           Reminder.kind == kinds.AUTO_DELETE))
        row.state = kinds.RUNNING  # a lease left by a process that died mid-run
    rig.clock.set(START + timedelta(hours=26))
    await rig.reminders.run_due()
    assert (await rig.states(meeting.id))[kinds.AUTO_DELETE] == [kinds.CANCELLED]
    assert rig.outbox.sent == []


async def test_a_lease_left_by_a_crash_after_the_deletion_still_tells_the_creator(rig):
    meeting = await rig.meeting()
    await rig.services.meetings.delete(meeting.id, kinds.SYSTEM, rule=auto_delete.AUTO_DELETE_RULE)
    async with rig.services.sessions() as session, session.begin():
        row = await session.scalar(select(Reminder).where(Reminder.meeting_id == meeting.id,
                                                           Reminder.kind == kinds.AUTO_DELETE))
        row.state, row.due_at = kinds.RUNNING, START + timedelta(hours=25, minutes=30)
    await rig.run_until(START + timedelta(hours=26))
    # Told late, but never "late" itself: the deletion happened when the notice says.
    assert rig.outbox.texts() == [wording.AUTO_DELETED_TITLE.format(room="HC Torsås 1")]


async def test_the_cms_being_down_at_the_deadline_is_retried_until_the_room_is_gone(rig):
    meeting = await rig.meeting()
    rig.clock.set(START + timedelta(hours=25))
    rig.cms.simulator.fail_next(503, count=3 * (kinds.MAX_ATTEMPTS + 1))
    for _ in range(kinds.MAX_ATTEMPTS + 1):
        await rig.reminders.run_due()
        rig.clock.set(await rig.reminders.next_due())
    assert rig.outbox.texts("admin-1") == [wording.ADMIN_DELETION_FAILING.format(room="HC Torsås 1")]
    rig.cms.simulator.clear_faults()  # the CMS is back
    await rig.reminders.run_due()
    assert meeting.space_id not in rig.cms.simulator.spaces


async def test_an_unfinished_earlier_attempt_is_sent_again_with_a_warning(rig, caplog):
    meeting = await rig.meeting()
    [row] = [row for row in await rig.rows(meeting.id) if row.kind == kinds.UNCONFIRMED]
    async with rig.services.sessions() as session, session.begin():
        session.add(ReminderAttempt(reminder_id=row.id, started_at=row.due_at))  # a crash after sending
    rig.clock.set(row.due_at)
    with caplog.at_level(logging.WARNING, logger="bot.services.reminders"):
        await rig.reminders.run_due()
    assert len(rig.outbox.sent) == 1
    assert f"reminder {row.id}: an earlier send attempt did not finish" in caplog.text


async def test_two_instances_against_one_postgresql_send_each_reminder_once(cms, postgres_url, clock):
    """The in-process version; tests/processes/test_reminder_processes.py does it with two real processes."""
    first = await open_rig(cms, postgres_url, clock)
    second = await open_rig(cms, postgres_url, clock, first.outbox)
    try:
        meetings = [await first.meeting(n=n) for n in range(20)]
        clock.set(START + timedelta(minutes=70))  # unconfirmed, start and cleanup of each are due
        counts = await asyncio.gather(first.reminders.run_due(), second.reminders.run_due())
        assert sum(counts) == 60
        sent = [reply.text for _, _, reply in first.outbox.sent]
        assert len(sent) == len(set(sent)) == 60 - 40  # the meeting is over: only the prompts go out
        assert {m.room_name for m in meetings} == {t.split("ta bort ")[-1] for t in sent}
    finally:
        await first.services.close()
        await second.services.close()
