"""The sweep: rooms on the CMS with this product's mark that no live meeting claims."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.cli import build_parser
from bot.runtime import open_services
from bot.services.meetings import Person
from bot.services.sweep import sweep
from bot.services.validation import MeetingTimes
from bot.store.schema import AuditRecord, Meeting
from cards import texts
from tests.conftest import make_settings, run_pass
from tests.services.test_meetings import fast_cms
from tests.store.rows import audit_trail

NURSE = Person(key="memory:nurse-1", name="Nina")
START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


async def test_sweep_lists_then_deletes_only_orphans_and_audits_each(cms, database_url, clock):
    services = await open_services(make_settings(cms, database_url), clock=clock, cms=fast_cms(cms))
    try:
        async def meeting(n: int) -> Meeting:
            return await services.meetings.create(
                platform="memory", creator=NURSE, unit="HC Torsås", request_id=f"request-{n:04d}",
                times=MeetingTimes(START, START + timedelta(hours=1)))

        live, deleted, forgotten = await meeting(1), await meeting(2), await meeting(3)
        await services.meetings.delete(deleted.id, NURSE)
        async with services.sessions() as session, session.begin():  # recorded deleted, but still on the CMS
            await session.execute(update(Meeting).where(Meeting.id == forgotten.id).values(state="deleted"))
        unknown = await services.cms.create_space(name="HC Okänd 5", uri="hc.okand.5", call_id="918273645",
                                                  cdr_tag=f"distansmote:{uuid.uuid4()}")
        foreign = await services.cms.create_space(name="Styrelserummet", uri="styrelse", call_id="918273646",
                                                  cdr_tag="other-product:1")

        listed = await sweep(services.cms, services.sessions, delete=False, clock=clock)
        assert {(o.space_id, o.deleted) for o in listed} == {(forgotten.space_id, False), (unknown, False)}
        assert forgotten.space_id in cms.simulator.spaces

        removed = await sweep(services.cms, services.sessions, delete=True, clock=clock)
        assert {(o.space_id, o.deleted) for o in removed} == {(forgotten.space_id, True), (unknown, True)}
        assert set(cms.simulator.spaces) == {live.space_id, foreign}
        assert await sweep(services.cms, services.sessions, delete=True, clock=clock) == []

        async with services.sessions() as session:
            audits = list(await session.scalars(select(AuditRecord).where(AuditRecord.actor == "sweep",
                                                                      AuditRecord.action == "deleted")))
        assert {(a.space_id, a.action, a.detail) for a in audits} == {
            (forgotten.space_id, "deleted", "orphan"), (unknown, "deleted", "orphan")}
        assert ("sweep", "deleted") in {(a.actor, a.action) for a in await audit_trail(services, forgotten.id)}
    finally:
        await services.close()


def test_the_sweep_command_parses():
    args = build_parser().parse_args(["sweep", "--delete"])
    assert args.delete and args.run.__name__ == "_sweep"
    assert not build_parser().parse_args(["sweep"]).delete


async def test_the_daily_sweep_deletes_the_bots_unclaimed_rooms_after_an_hour_and_reports_them(
        cms, database_url, clock, caplog):
    from bot.services.meetings import MeetingError
    from tests.app.test_scheduler import RecordingAdapter

    adapter = RecordingAdapter()
    services = await open_services(make_settings(cms, database_url), clock=clock, cms=fast_cms(cms, timeout=0.2),
                                   adapters=[adapter])
    times = MeetingTimes(START, START + timedelta(hours=1))
    try:
        live = await services.meetings.create(platform="memory", creator=NURSE, unit="HC Torsås",
                                              request_id="live", times=times)
        # The CMS sits on a create past the client's timeout, then makes the room after all.
        cms.simulator.hang(on="POST coSpaces")
        with pytest.raises(MeetingError, match="room_pending"):
            await services.meetings.create(platform="memory", creator=NURSE, unit="HC Kalmar",
                                           request_id="late", times=times)
        cms.simulator.release()
        while len(cms.simulator.spaces) < 2:
            await asyncio.sleep(0.01)
        [late] = [s for s in cms.simulator.snapshot() if s["name"] == "HC Kalmar 1"]
        forgotten = await services.cms.create_space(name="HC Okänd 5", uri="hc.okand.5", call_id="918273645",
                                                    cdr_tag=f"distansmote:{uuid.uuid4()}")  # no record at all
        foreign = await services.cms.create_space(name="Styrelserummet", uri="styrelse", call_id="918273646",
                                                  cdr_tag="other-product:1")

        clock.advance(timedelta(minutes=30))
        with caplog.at_level("WARNING"):
            await run_pass(services, "sweep")  # the late room's creation is still pending: kept, and reported
        assert set(cms.simulator.spaces) == {live.space_id, late["id"], foreign}
        [(admin, first)] = adapter.sent
        assert admin == "admin-1" and "HC Okänd 5" in str(first.card) and "HC Kalmar 1" in str(first.card)
        assert f"room {forgotten} that no meeting claims" in caplog.text
        assert texts.ADMIN_ORPHANS_DELETED.format(count=1) in first.text  # the one with no record at all
        assert await run_pass(services, "creations") == 1  # the pass adopts it, and tells its creator
        assert [person for person, _ in adapter.sent] == ["admin-1", "nurse-1", "nurse-1"]

        clock.advance(timedelta(days=1))  # the next day's sweep: nothing unclaimed is left
        await run_pass(services, "sweep")
        assert set(cms.simulator.spaces) == {live.space_id, late["id"], foreign}
        assert len(adapter.sent) == 3
        async with services.sessions() as session:
            audits = list(await session.scalars(select(AuditRecord).where(AuditRecord.actor == "sweep",
                                                                          AuditRecord.action == "deleted")))
        assert {a.space_id for a in audits} == {forgotten}
    finally:
        cms.simulator.release()
        await services.close()
