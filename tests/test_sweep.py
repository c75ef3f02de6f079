"""The sweep: rooms on the CMS with this product's mark that no live meeting claims."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.cli import build_parser
from bot.db import AuditRecord, Meeting
from bot.runtime import open_services
from bot.services.meetings import Person
from bot.services.reminders import sweep
from bot.services.validation import MeetingTimes
from tests.conftest import make_settings
from tests.services.test_meetings import fast_cms

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
        assert ("sweep", "deleted") in {(a.actor, a.action) for a in await services.meetings.audit_trail(forgotten.id)}
    finally:
        await services.close()


def test_the_sweep_command_parses():
    args = build_parser().parse_args(["sweep", "--delete"])
    assert args.delete and args.run.__name__ == "_sweep"
    assert not build_parser().parse_args(["sweep"]).delete
