"""Rooms on the CMS and meetings in the store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.runtime import open_services
from bot.services.cms import CmsClient
from bot.services.cms_guard import CmsGuard
from bot.services.meetings import MeetingError, Person
from bot.services.naming import room_uri, uri_slug
from bot.services.validation import MeetingTimes
from bot.store.schema import AuditRecord, Meeting
from tests.conftest import make_settings

NURSE = Person(key="memory:nurse-1", name="Nina")
TIMES = MeetingTimes(datetime(2026, 11, 26, 12, 30, tzinfo=UTC), datetime(2026, 11, 26, 13, 30, tzinfo=UTC))


def fast_cms(cms, **overrides) -> CmsClient:
    # No cool-down: a CMS that a test brings back is asked again at once. A create that times out is
    # pending, not retried, so the timeout is long enough for a busy machine; tests of timeouts set their own.
    options = dict(retry_for=0.5, max_attempts=3, backoff=0.01, timeout=10.0, guard=CmsGuard(cool_down=0)) | overrides
    return CmsClient(cms.url, "api", "simulator", **options)


async def _open(cms, database_url, clock, adapters=(), **cms_options):
    return await open_services(make_settings(cms, database_url), clock=clock, cms=fast_cms(cms, **cms_options),
                               adapters=adapters)


async def _create(services, n: int, unit: str = "HC Torsås", person: Person = NURSE) -> list[Meeting]:
    return await asyncio.gather(*(
        services.meetings.create(platform="memory", creator=person, unit=unit, times=TIMES, request_id=f"r{i:04d}")
        for i in range(n)
    ))


@pytest.mark.parametrize("word", ["HC Torsås", "Vårdcentralen Öland", "Ängö Hälsa", "Ünïcödé Clinic",
                                  "Smørrebrød Straße"])
def test_uri_is_transliterated(word):
    assert re.fullmatch(r"[a-z0-9]+(\.[a-z0-9]+)*", uri_slug(word))
    assert room_uri("HC Torsås", 9) == "hc.torsas.9"


async def test_50_concurrent_rooms_get_distinct_names_uris_and_call_ids(cms, database_url, clock):
    services = await _open(cms, database_url, clock)
    try:
        meetings = await _create(services, 50)
    finally:
        await services.close()
    assert sorted(m.room_name for m in meetings) == sorted(f"HC Torsås {n}" for n in range(1, 51))
    assert len({m.uri for m in meetings}) == 50
    assert len({m.call_id for m in meetings}) == 50
    assert all(re.fullmatch(r"[1-9]\d{8}", m.call_id) for m in meetings)
    assert len(cms.simulator.spaces) == 50


async def test_numbers_are_never_reused_after_deletion_or_restart(cms, database_url, clock):
    services = await _open(cms, database_url, clock)
    first = await _create(services, 3)
    for meeting in first:
        await services.meetings.delete(meeting.id, NURSE)
    await services.close()

    restarted = await _open(cms, database_url, clock)
    try:
        [again] = await restarted.meetings.create(
            platform="memory", creator=NURSE, unit="hc torsas", times=TIMES, request_id="after-restart"
        ),
    finally:
        await restarted.close()
    assert again.room_name == "hc torsas 4"
    assert again.uri == "hc.torsas.4"
    assert again.call_id not in {m.call_id for m in first}


async def test_duplicate_uri_on_the_cms_takes_the_next_number(cms, database_url, clock):
    # A room made by hand in Cisco Meeting with the name the bot would choose next.
    cms.simulator.spaces["manual"] = {"name": "HC Torsås 1", "uri": "hc.torsas.1", "callId": "123123123"}
    services = await _open(cms, database_url, clock)
    try:
        [meeting] = await _create(services, 1)
    finally:
        await services.close()
    assert meeting.uri == "hc.torsas.2"


async def test_deleting_twice_succeeds_and_a_missing_room_counts_as_gone(cms, tmp_path, clock):
    services = await _open(cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", clock)
    try:
        [meeting] = await _create(services, 1)
        await services.cms.delete_space(meeting.space_id)  # gone behind our back
        await services.cms.delete_space(meeting.space_id)
        deleted = await services.meetings.delete(meeting.id, NURSE)
        assert deleted.state == "deleted"
        with pytest.raises(MeetingError, match="already_deleted"):
            await services.meetings.delete(meeting.id, NURSE)
    finally:
        await services.close()


async def test_each_room_created_and_deleted_is_one_info_line_with_its_name_and_no_person(
        cms, tmp_path, clock, caplog):
    services = await _open(cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", clock)
    try:
        with caplog.at_level(logging.INFO, logger="bot"):
            [meeting] = await _create(services, 1)
            await services.meetings.delete(meeting.id, NURSE)
    finally:
        await services.close()
    lines = [record.getMessage() for record in caplog.records if record.getMessage().startswith("room ")]
    assert lines == [f"room {meeting.room_name} created", f"room {meeting.room_name} deleted"]
    assert all(record.levelno == logging.INFO for record in caplog.records if record.getMessage() in lines)
    assert not [r for r in caplog.records if NURSE.key in r.getMessage() or NURSE.name in r.getMessage()]


async def _meeting_count(services) -> int:
    async with services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Meeting))


@pytest.mark.parametrize("fault", ["wrong_password", "busy", "timeout", "malformed_xml"])
async def test_cms_failure_gives_a_clear_error_and_records_nothing(cms, tmp_path, clock, fault):
    options = {}
    if fault == "wrong_password":
        services = await open_services(
            make_settings(cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"), clock=clock,
            cms=CmsClient(cms.url, "api", "not-the-password", retry_for=0.5, backoff=0.01),
        )
    else:
        if fault == "timeout":
            cms.simulator.slowness = 0.5
            options = {"timeout": 0.2}
        services = await _open(cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", clock, **options)
    if fault == "busy":
        cms.simulator.fail_next(503, count=100)
    if fault == "malformed_xml":
        cms.simulator.raw_next(b"<coSpace><name>HC", status=200)
    try:
        with pytest.raises(MeetingError) as refused:
            await _create(services, 1)
        # A create with no answer, or one it cannot read, may have happened: the bot does not claim to know.
        assert refused.value.code == ("room_pending" if fault in ("timeout", "malformed_xml")
                                      else "room_service_unavailable")
        assert await _meeting_count(services) == 0
    finally:
        await services.close()
        cms.simulator.slowness = 0


async def test_room_is_deleted_again_when_recording_the_meeting_fails(cms, tmp_path, clock):
    services = await _open(cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", clock)

    class Exploding:
        def reminders_for(self, meeting):
            raise RuntimeError("the store refused the write")

    services.meetings.planner = Exploding()
    try:
        with pytest.raises(RuntimeError):
            await _create(services, 1)
        assert await _meeting_count(services) == 0
        assert cms.simulator.spaces == {}
        async with services.sessions() as session:
            trail = (await session.scalars(select(AuditRecord))).all()
        assert [(r.action, r.detail, r.actor) for r in trail] == [("deleted", "not_recorded", "system")]
    finally:
        await services.close()


async def test_only_creator_or_admin_may_delete_and_active_call_needs_confirmation(cms, tmp_path, clock):
    services = await _open(cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", clock)
    try:
        [meeting] = await _create(services, 1)
        with pytest.raises(MeetingError, match="not_allowed"):
            await services.meetings.delete(meeting.id, Person(key="memory:other", name="Other"))
        cms.simulator.add_call(meeting.space_id)
        with pytest.raises(MeetingError, match="call_active"):
            await services.meetings.delete(meeting.id, NURSE)
        admin = Person(key="memory:admin-1", name="Ada", is_admin=True)
        deleted = await services.meetings.delete(meeting.id, admin, end_calls=True)
        assert deleted.deleted_by == "memory:admin-1"
        assert cms.simulator.calls == {}
        assert cms.simulator.spaces == {}
    finally:
        await services.close()
