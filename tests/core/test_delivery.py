"""Messages the bot starts itself: through the stored conversation reference, within the delivery contract."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from bot.core import PersonKey, Platform, Reply
from bot.core.adapter import AdapterHost
from bot.core.delivery import DeliveryFailed, DeliveryGone, Outbox
from bot.services.meetings import Person
from bot.services.validation import MeetingTimes
from tests.conftest import make_settings, open_with_chat, run_pass
from tests.handlers.test_routine import NURSE, create_room
from tests.store.rows import audit_trail

PROMPT_AT = datetime(2026, 11, 26, 13, 40, tzinfo=UTC)  # ten minutes after create_room's meeting ends


async def test_a_reminder_reaches_the_creator_through_the_stored_reference(chat, services, clock):
    await create_room(chat)
    # The nurse writes again from another device: the newest reference is the address.
    await chat.deliver(replace(chat.event(NURSE, text="/distansmöte hjälp"), reference="direct-nurse-1-on-the-phone"))
    clock.set(PROMPT_AT)
    assert await services.reminders.run_due() == 4  # unconfirmed, start, join check and cleanup: all late
    assert {(sent.where, sent.to) for sent in chat.pushed} == {("direct", "nurse-1-on-the-phone")}


async def test_a_creator_the_platform_cannot_reach_first_gets_no_reminders(chat, services, clock):
    """No reference stored (the creator never wrote on this platform): the reminders stop, the deletion stays."""
    stranger = Person(key="memory:nurse-9", name="Nora")
    meeting = await services.meetings.create(
        platform="memory", creator=stranger, unit="HC Torsås", request_id="request-0001",
        times=MeetingTimes(PROMPT_AT, PROMPT_AT + timedelta(hours=1)))
    clock.set(PROMPT_AT)
    await services.reminders.run_due()
    assert chat.pushed == []
    trail = [(a.actor, a.action, a.detail) for a in await audit_trail(services, meeting.id)]
    assert ("system", "reminders_stopped", "no_reference") in trail


async def test_an_admin_listed_only_by_email_on_a_platform_that_cannot_write_first_is_logged(
        cms, tmp_path, clock, caplog):
    settings = make_settings(cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", admins=("ada@region.example",))
    services, chat = await open_with_chat(settings, clock)
    try:
        await services.cms.create_space(name="HC Glömd 7", uri="hc.glomd.7", call_id="918273645",
                                        cdr_tag=f"distansmote:{uuid.uuid4()}")
        with caplog.at_level(logging.WARNING):
            await run_pass(services, "sweep")  # an orphaned room: the admins are told
        assert "cannot be written to first" in caplog.text
        assert "admin alert not delivered, given up (cannot_write_first)" in caplog.text
        assert "ada@region.example" not in caplog.text
        assert chat.pushed == []
    finally:
        await services.close()


class Stuck:
    """An adapter whose sends never finish, or fail with a bug."""

    platform = Platform("memory")
    ready = True

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def install(self, app: web.Application, host: AdapterHost) -> None:
        pass

    async def send_direct(self, person: PersonKey, replies: Sequence[Reply]) -> None:
        if self.error is not None:
            raise self.error
        await asyncio.Event().wait()

    async def send_to_identity(self, identity: str, replies: Sequence[Reply]) -> None:
        await self.send_direct(PersonKey(self.platform, identity), replies)


async def test_the_outbox_turns_a_bug_or_a_missing_adapter_into_a_temporary_failure():
    with pytest.raises(DeliveryFailed) as bug:
        await Outbox([Stuck(RuntimeError("boom"))]).send(PersonKey("memory", "nurse-1"), [Reply("x")])
    assert bug.value.code == "runtimeerror"
    with pytest.raises(DeliveryFailed) as missing:
        await Outbox([]).send(PersonKey("teams", "nurse-1"), [Reply("x")])
    assert missing.value.code == "no_adapter"
    with pytest.raises(DeliveryGone):
        await Outbox([Stuck(DeliveryGone("gone"))]).send_to_identity("memory", "admin-1", [Reply("x")])
