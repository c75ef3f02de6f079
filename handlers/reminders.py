"""The buttons of reminders: the cleanup prompt's snoozes, and "Titta igen" on "har alla anslutit?"."""

from __future__ import annotations

import dataclasses

from bot.core import CardSubmit, Reply, Router, changes_nothing
from cards import reminders as cards
from cards.actions import LookAgain
from handlers.context import Context

router = Router()


@router.action(cards.SnoozeCleanup)
async def snooze_cleanup(submit: CardSubmit[cards.SnoozeCleanup], ctx: Context) -> list[Reply]:
    """Only the creator or an admin; a second click answers calmly with the time already set."""
    snoozed = await ctx.services.reminders.snooze(submit.form.meeting_id, ctx.person, int(submit.form.minutes))
    return [cards.snoozed(snoozed.due_at.astimezone(ctx.settings.zone), already=snoozed.already)]


@router.action(LookAgain)
@changes_nothing
async def look_again(submit: CardSubmit[LookAgain], ctx: Context) -> list[Reply]:
    """Who has joined now, in place of the card that asked (the creator or an admin)."""
    meeting = await ctx.services.meetings.get(submit.form.meeting_id, ctx.person)
    reply = cards.render(await ctx.services.joins.look(meeting))
    return [dataclasses.replace(reply, replaces_card=True)]
