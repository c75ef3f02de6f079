"""The cleanup prompt's buttons, clicked in the in-memory chat: snooze, and delete (which cancels reminders)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.store.schema import Reminder
from cards import texts
from cards import texts as wording
from tests.handlers.test_routine import ADMIN, COLLEAGUE, NURSE, create_room
from tests.harness import Chat, last_card

# create_room books 2026-11-26 13:30–14:30 in Stockholm; the prompt comes ten minutes after the end.
PROMPT_AT = datetime(2026, 11, 26, 13, 40, tzinfo=UTC)


async def _prompt(chat: Chat, services, clock) -> dict:
    """The prompt arrives in the creator's chat, through the reference stored when she typed."""
    clock.set(PROMPT_AT)
    await services.reminders.run_due()
    [prompt] = [sent for sent in chat.pushed if sent.reply.card]
    assert prompt.to == NURSE.id
    return prompt.reply.card


async def _states(services) -> dict[str, set[str]]:
    async with services.sessions() as session:
        rows = await session.scalars(select(Reminder))
        result: dict[str, set[str]] = {}
        for row in rows:
            result.setdefault(row.kind, set()).add(row.state)
        return result


async def test_snoozing_from_the_prompt_and_clicking_twice(chat, services, clock):
    await create_room(chat)
    prompt = await _prompt(chat, services, clock)

    [reply] = await chat.click(NURSE, prompt, wording.SNOOZE_15)
    assert reply.text == wording.SNOOZED.format(time="14.55")
    [again] = await chat.click(NURSE, prompt, wording.SNOOZE_60)
    assert again.text == wording.ALREADY_SNOOZED.format(time="14.55")
    [refused] = await chat.click(COLLEAGUE, prompt, wording.SNOOZE_60)
    assert refused.text == texts.ERRORS["not_allowed"]
    [by_admin] = await chat.click(ADMIN, prompt, wording.SNOOZE_60)
    assert by_admin.text == wording.ALREADY_SNOOZED.format(time="14.55")


async def test_deleting_from_the_prompt_removes_the_room_and_cancels_the_reminders(chat, services, clock, cms):
    await create_room(chat)
    prompt = await _prompt(chat, services, clock)
    question = last_card(await chat.click(NURSE, prompt, texts.DELETE_ROOM))
    done = await chat.click(NURSE, question, texts.DELETE_YES)
    assert done[0].text == texts.DELETED_TEXT.format(room="HC Torsås 1")
    assert cms.simulator.snapshot() == []
    assert (await _states(services))["followup"] == {"cancelled"}
    assert (await _states(services))["auto_delete"] == {"cancelled"}
    clock.set(datetime(2026, 12, 1, tzinfo=UTC))
    assert await services.reminders.run_due() == 0
    [snooze_late] = await chat.click(NURSE, prompt, wording.SNOOZE_15)
    assert snooze_late.text == texts.ALREADY_DONE["already_deleted"]
    assert len(chat.pushed) == 1  # only the prompt: nothing after the deletion
