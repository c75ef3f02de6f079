"""``kill -9`` of a real bot process while the CMS deletes a room: the deletion was recorded as
intended first, so after a restart the deletions pass records the meeting deleted with its audit
record and tells the person, and the CMS holds no room of it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.services.meetings import DELETION_GRACE
from bot.store.engine import create_engine, sessionmaker
from bot.store.schema import AuditRecord, Meeting
from cards import texts
from tests.fakes.webex import Delivery, SentMessage, WebexFake
from tests.harness import submission
from tests.processes.test_creation_processes import (
    NOW,
    RESTART_WITHIN,
    BotProcess,
    _create,
    _new_card,
    _webex_with_nina,
)
from tests.waiting import eventually


async def _ask(bot: BotProcess, fake: WebexFake, person: dict[str, Any], delivery: Delivery,
               answers: int = 1) -> list[SentMessage]:
    before = len(fake.sent_to(person_id=person["id"]))
    await bot.post(delivery)
    await eventually(lambda: len(fake.sent_to(person_id=person["id"])) >= before + answers)
    return fake.sent_to(person_id=person["id"])[before:]


async def _meeting(database_url: str) -> tuple[str, str | None, list[tuple[str, str]]]:
    """(the one meeting's state, who deleted it, its audit trail as (actor, action))."""
    engine = create_engine(database_url)
    try:
        async with sessionmaker(engine)() as session:
            [meeting] = list(await session.scalars(select(Meeting)))
            trail = await session.execute(select(AuditRecord.actor, AuditRecord.action)
                                          .where(AuditRecord.meeting_id == meeting.id).order_by(AuditRecord.id))
            return meeting.state, meeting.deleted_by, [(actor, action) for actor, action in trail]
    finally:
        await engine.dispose()


async def test_kill_9_while_the_cms_deletes_a_room_the_restart_records_it_deleted_and_tells_the_person(
        database_url: str, cms: Any, aiohttp_server: Any, tmp_path: Path) -> None:
    fake, webex_url, nina = await _webex_with_nina(aiohttp_server)
    log = tmp_path / "bot.log"

    first = await BotProcess.start(database_url, cms.url, webex_url, NOW, log)
    try:
        form = await _new_card(first, fake, nina, database_url)
        room_card, _invitation = await _ask(first, fake, nina, _create(fake, nina, form), 2)
        assert room_card.card is not None and len(cms.simulator.spaces) == 1
        [question] = await _ask(first, fake, nina, fake.submit_card(
            nina, room_card.id, submission(room_card.card, texts.DELETE_ROOM)))
        assert question.card is not None
        cms.simulator.hang(on="DELETE coSpaces/.+")  # the bot waits for the CMS to delete the room ...
        await first.post(fake.submit_card(nina, question.id, submission(
            question.card, texts.DELETE_YES)))
        await eventually(lambda: cms.simulator.hanging == 1)
        await first.kill_9()  # ... and dies
    finally:
        await first.stop()
    cms.simulator.release()
    await cms.simulator.settled()
    assert cms.simulator.spaces == {}  # gone from the CMS, while the meeting is still live in the books
    state, _, trail = await _meeting(database_url)
    assert state != "deleted" and trail[-1] == (f"webex:{nina['id']}", "deleting")
    answers_before = len(fake.sent_to(person_id=nina["id"]))

    second = await BotProcess.start(database_url, cms.url, webex_url, NOW + DELETION_GRACE + timedelta(seconds=1), log)
    try:
        # Told by the deletions pass, or by the card's job run again: whichever finished it first.
        told = texts.DELETED_TEXT.format(room="HC Torsås 1")
        await eventually(lambda: any(told in f"{m.markdown} {m.card}"
                                     for m in fake.sent_to(person_id=nina["id"])[answers_before:]),
                         within=RESTART_WITHIN)
        state, deleted_by, trail = await _meeting(database_url)
        assert (state, deleted_by) == ("deleted", f"webex:{nina['id']}")
        assert trail[-2:] == [(f"webex:{nina['id']}", "deleting"), (f"webex:{nina['id']}", "deleted")]
        assert cms.simulator.spaces == {}
    finally:
        await second.stop()
    assert "Traceback" not in log.read_text()
