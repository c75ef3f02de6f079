"""What an earlier guard let into the store is found and replaced: by migration 0009 when the
database is upgraded, and by ``distansmote privacy scan [--fix]`` (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main
from bot.store.engine import sessionmaker
from bot.store.migrations import MIGRATIONS
from bot.store.queues import InboundEvent, InboundJob
from bot.store.schema import Meeting, Preference, Recipient
from cards import texts
from tests.reading import shows_number
from tests.store.rows import everything_stored

NUMBER = "8507099805"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _meeting(unit: str, number: int, *, state: str = "created") -> Meeting:
    meeting_id = str(uuid.uuid4())
    return Meeting(id=meeting_id, request_key=meeting_id, platform="webex", creator_id="nina", creator_name="Nina",
                   unit=unit, starts_at=T0, ends_at=T0 + timedelta(hours=1), room_name=f"{unit} {number}",
                   uri=f"hc.{number}", call_id=f"{100000000 + number}", space_id=f"space-{number}", state=state,
                   created_at=T0)


async def _store_what_the_old_guard_let_through(engine: AsyncEngine) -> dict[str, Meeting]:
    meetings = {"live": _meeting("HC 2 850709-9805", 1), "gone": _meeting("Rum 1 850709_9805 a", 2, state="deleted"),
                "clean": _meeting("HC Torsås", 3)}
    async with sessionmaker(engine)() as session, session.begin():
        session.add_all(meetings.values())
        await session.flush()
        session.add_all([
            Recipient(id=str(uuid.uuid4()), meeting_id=meetings["clean"].id, position=0,
                      label="Kommunen 850709/9805", channel="link"),
            Recipient(id=str(uuid.uuid4()), meeting_id=meetings["clean"].id, position=1,
                      label="Kommunen – hemtjänsten", channel="phone"),
            Preference(actor_key="webex:nina", last_unit="HC 850709_9805"),
            Preference(actor_key="webex:kalle", last_unit="HC Torsås"),
            Preference(actor_key="webex:olle", last_unit="HC Emmaboda"),  # not on the region's list
            InboundJob(key="job-1", platform="teams", state="pending", received_at=T0, attempts=0,
                       payload=json.dumps({"id": "a:1850709", "text": "ta bort HC 2 850709-9805"})),
            InboundJob(key="job-2", platform="teams", state="pending", received_at=T0, attempts=0,
                       payload=json.dumps({"id": "29:1912121212abc", "text": "hjälp"})),  # digits in an id only
            InboundEvent(key="webex:1", received_at=T0, replies=json.dumps([{"text": "HC 2 850709-9805 1"}])),
        ])
    return meetings


def _alembic(connection: Any, *steps: tuple[str, str]) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    for direction, revision in steps:
        getattr(command, direction)(config, revision)


async def test_the_migration_replaces_what_holds_a_number_and_names_the_live_room(engine: AsyncEngine, caplog):
    meetings = await _store_what_the_old_guard_let_through(engine)
    async with engine.begin() as connection:
        await connection.run_sync(_alembic, ("downgrade", "0008"), ("upgrade", "head"))

    stored = await everything_stored_in(engine)
    assert not shows_number(NUMBER, stored)
    async with sessionmaker(engine)() as session:
        units = dict((await session.execute(select(Meeting.id, Meeting.unit))).all())
        labels = set(await session.scalars(select(Recipient.label)))
        preferences = set(await session.scalars(select(Preference.actor_key)))
        jobs = set(await session.scalars(select(InboundJob.key)))
        replies = await session.scalar(select(InboundEvent.replies))
    assert units == {meetings["live"].id: texts.REMOVED_UNIT, meetings["gone"].id: texts.REMOVED_UNIT,
                     meetings["clean"].id: "HC Torsås"}
    assert labels == {texts.REMOVED_LABEL, "Kommunen – hemtjänsten"}
    assert preferences == {"webex:kalle", "webex:olle"} and jobs == {"job-2"} and replies is None
    # The live room is named for an admin, by its space id; the deleted one is not.
    assert "space-1" in caplog.text and "space-2" not in caplog.text and "850709" not in caplog.text


async def everything_stored_in(engine: AsyncEngine) -> Any:
    class Store:
        def sessions(self) -> Any:
            return sessionmaker(engine)()
    return await everything_stored(Store())


async def test_the_scan_command_lists_where_and_fixes(engine: AsyncEngine, database_url: str, monkeypatch, capsys):
    await _store_what_the_old_guard_let_through(engine)
    monkeypatch.setenv("DISTANSMOTE_DATABASE_URL", database_url)
    monkeypatch.setenv("DISTANSMOTE_UNITS", "HC Torsås,HC Ljungby")

    assert await _scan() == 1
    listed = capsys.readouterr().out
    assert "meeting.room_name" in listed and "recipient.label" in listed and "live room space-1" in listed
    assert "7 place(s)" in listed and "850709" not in listed
    assert shows_number(NUMBER, await everything_stored_in(engine))

    assert await _scan("--fix") == 0
    assert "replaced" in capsys.readouterr().out
    assert not shows_number(NUMBER, await everything_stored_in(engine))
    assert await _scan() == 0
    assert "0 place(s)" in capsys.readouterr().out


async def _scan(*flags: str) -> int:
    return await asyncio.to_thread(main, ["privacy", "scan", *flags])


@pytest.fixture(autouse=True)
def _alembic_logs(caplog):
    caplog.set_level(logging.WARNING, logger="alembic")
