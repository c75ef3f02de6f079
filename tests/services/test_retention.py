"""Retention and a person's data (bot.services.retention): the daily purge forgets the people of
meetings deleted more than DISTANSMOTE_RETENTION_DAYS ago and the county report's figures stay the
same; export and erase cover every table that holds a person, the audit trail kept."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core import PersonKey
from bot.metrics import store_families
from bot.services.meetings import Person
from bot.services.reminder_plan import SYSTEM
from bot.services.retention import PersonHasLiveRooms, erase_person, export_person, purge
from bot.store.schema import AUTO_DELETE_RULE, AuditRecord, Base, Channel
from tests.services.test_meetings import NURSE, _create, _open

ADMIN = Person(key="memory:admin-1", name="Ada Admin", is_admin=True)
OTHER = Person(key="memory:nurse-2", name="Olle Undersköterska")


async def _routine(services, clock):
    """Four rooms of NURSE: deleted by her, by an admin, by the deadline rule, and one still live;
    one of OTHER's, live. Recipients, a conversation reference and the unit preference as they come."""
    mine = await _create(services, 4)
    [others] = await _create(services, 1, person=OTHER)
    await services.meetings.add_recipient(mine[0].id, NURSE, "Patient", Channel.LINK)
    await services.references.remember(PersonKey.parse(NURSE.key), "nurse-address")
    await services.references.remember(PersonKey.parse(OTHER.key), "other-address")
    clock.advance(timedelta(hours=2))
    await services.meetings.delete(mine[0].id, NURSE)
    await services.meetings.delete(mine[1].id, ADMIN)
    await services.meetings.delete(mine[2].id, SYSTEM, rule=AUTO_DELETE_RULE)
    return mine, others


async def _figures(services):
    report = await services.reports.report()
    async with services.sessions() as session:
        metrics = {family.name: [(s.labels, s.value) for s in family.samples]
                   for family in await store_families(session, services.settings, services.clock.now())
                   if family.name.startswith("distansmote_rooms")}
    return [u.as_dict() for u in report.units], report.total.as_dict(), metrics


async def _stored_rows(services) -> list[tuple[str, str]]:
    async with services.sessions() as session:
        return [(table.name, " ".join(map(str, row))) for table in Base.metadata.sorted_tables
                for row in await session.execute(select(table))]


def _holding(rows, *needles: str) -> set[str]:
    return {table for table, text in rows if any(needle in text for needle in needles)}


async def test_the_purge_forgets_the_people_and_keeps_the_report(cms, database_url, clock):
    services = await _open(cms, database_url, clock)
    try:
        mine, others = await _routine(services, clock)
        # Within the period nothing goes.
        clock.advance(timedelta(days=89))
        assert await purge(services.sessions, clock.now(), 90) == dataclasses.replace(
            await purge(services.sessions, clock.now(), 90), meetings=0)
        assert "meeting" in _holding(await _stored_rows(services), NURSE.name)

        clock.advance(timedelta(days=2))
        # Both remain live creators; OTHER's address stays for his live room, and so do the admins'.
        at_the_purge = await _figures(services)
        purged = await purge(services.sessions, clock.now(), 90, lambda key: key == ADMIN.key)
        # The units last used (a convenience) go for whoever made no room within the period.
        assert (purged.meetings, purged.conversation_references, purged.preferences) == (3, 0, 2)
        assert await _figures(services) == at_the_purge  # the county's figures and the metrics, all the same
        assert at_the_purge[0][0]["deleted_by_creator"] == at_the_purge[0][0]["deleted_by_admin"] == 1
        rows = await _stored_rows(services)
        # NURSE stays only where her live room needs her (it, and her address for its reminders), and
        # in the audit trail.
        assert _holding([r for r in rows if mine[3].id not in r[1]], NURSE.key, NURSE.name) == {
            "audit", "conversation_reference"}
        assert _holding(rows, "Patient") == set()
        assert _holding(rows, ADMIN.key) == {"audit"}
        assert not [r for r in rows if r[0] == "meeting" and mine[0].secret and mine[0].secret in r[1]]

        # Once her last room is gone too, her address goes with the next purge.
        await services.meetings.delete(mine[3].id, NURSE)
        await services.meetings.delete(others.id, OTHER)
        clock.advance(timedelta(days=91))
        at_the_purge = await _figures(services)
        purged = await purge(services.sessions, clock.now(), 90)
        assert (purged.meetings, purged.conversation_references, purged.preferences) == (2, 2, 0)
        assert await _figures(services) == at_the_purge
        assert at_the_purge[1]["created"] == 5 and at_the_purge[1]["deleted_by_creator"] == 3
        assert _holding(await _stored_rows(services), NURSE.key, NURSE.name, OTHER.key, OTHER.name) == {"audit"}
    finally:
        await services.close()


async def test_export_and_erase_cover_every_table_that_holds_the_person(cms, database_url, clock):
    services = await _open(cms, database_url, clock)
    try:
        mine, others = await _routine(services, clock)
        holding = _holding(await _stored_rows(services), NURSE.key, NURSE.name)
        exported = await export_person(services.sessions, NURSE.key)
        assert holding <= {table for table, rows in exported.items() if rows} | {"recipient"}
        assert {m["id"] for m in exported["meeting"]} == {m.id for m in mine}
        assert [r["label"] for r in exported["recipient"]] == ["Patient"]
        assert exported["preference"] and exported["conversation_reference"] and exported["audit"]
        assert OTHER.key not in str(exported)

        with pytest.raises(PersonHasLiveRooms):
            await erase_person(services.sessions, NURSE.key)
        before = await _figures(services)
        await services.meetings.delete(mine[3].id, NURSE)
        before_erase = await _figures(services)
        counts = await erase_person(services.sessions, NURSE.key)
        assert counts["meeting"] == 4 and counts["conversation_reference"] == 1 and counts["preference"] == 1
        rows = await _stored_rows(services)
        assert _holding(rows, NURSE.key, NURSE.name) == {"audit"}  # kept: docs/privacy.md says why
        assert _holding(rows, OTHER.key) >= {"meeting", "conversation_reference"}  # nobody else's
        assert await _figures(services) == before_erase and before_erase[1]["created"] == before[1]["created"]
        async with services.sessions() as session:
            assert await session.scalar(select(AuditRecord).where(AuditRecord.actor == NURSE.key).limit(1))
    finally:
        await services.close()
