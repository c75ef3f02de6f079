"""The cleanup prompt's snooze buttons: "Mötet pågår – påminn om 15 min", "Påminn om en timme"."""

from __future__ import annotations

from bot.core import CardSubmit, Reply, Router
from cards import reminders as cards
from handlers.context import Context

router = Router()


@router.action(cards.SnoozeCleanup)
async def snooze_cleanup(submit: CardSubmit[cards.SnoozeCleanup], ctx: Context) -> list[Reply]:
    """Only the creator or an admin; a second click answers calmly with the time already set."""
    snoozed = await ctx.services.reminders.snooze(submit.form.meeting_id, ctx.person, int(submit.form.minutes))
    return [cards.snoozed(snoozed.due_at.astimezone(ctx.settings.zone), already=snoozed.already)]
