"""The cleanup prompt's snooze buttons: "Mötet pågår – påminn om 15 min", "Påminn om en timme"."""

from __future__ import annotations

from bot.core import CardSubmit, Reply, Router
from bot.runtime import Services
from bot.services.meetings import MeetingError
from cards import reminders as cards
from handlers.common import person, refusal

router = Router()


@router.action(cards.SnoozeCleanup)
async def snooze_cleanup(submit: CardSubmit[cards.SnoozeCleanup], services: Services) -> list[Reply]:
    """Only the creator or an admin; a second click answers calmly with the time already set."""
    try:
        snoozed = await services.reminders.snooze(
            submit.form.meeting_id, person(submit.event, services), int(submit.form.minutes))
    except MeetingError as exc:
        return refusal(exc.code)
    return [cards.snoozed(snoozed.due_at.astimezone(services.settings.zone), already=snoozed.already)]
