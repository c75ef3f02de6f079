"""Help, the person's rooms, the admins' status, and everything not understood."""

from __future__ import annotations

from collections import Counter

from bot.core import Event, Reply, Router
from bot.runtime import Services
from cards import texts
from cards.messages import error_card, no_email_card
from cards.models import HelpInfo, StatusView
from cards.overview import help_card, list_card, status_card
from handlers.common import meeting_view, person

router = Router()


def _help(services: Services, intro: str = texts.HELP_INTRO) -> Reply:
    settings = services.settings
    links = {key: getattr(settings, key) for key in texts.HELP_LINKS if getattr(settings, key)}
    return Reply(texts.HELP_TITLE, help_card(HelpInfo(dial_in=settings.dial_in_number, links=links), intro=intro))


@router.command("hjalp", "help", "")
async def show_help(event: Event, rest: str, services: Services) -> list[Reply]:
    return [_help(services)]


async def not_understood(event: Event, rest: str, services: Services) -> list[Reply]:
    return [_help(services, intro=texts.UNKNOWN_COMMAND)]


router.fallback = not_understood


@router.command("e-post", "epost", "mejl", "mail", "email")
async def no_email(event: Event, rest: str, services: Services) -> list[Reply]:
    return [Reply(texts.NO_EMAIL, no_email_card())]


@router.command("lista")
async def list_meetings(event: Event, rest: str, services: Services) -> list[Reply]:
    meetings = await services.meetings.live_for(person(event, services))
    card = list_card([meeting_view(m, services) for m in meetings])
    replies = [Reply(texts.LIST_TITLE, card, direct=True)]
    return replies if event.conversation.is_direct else [Reply(texts.MOVED_TO_DIRECT), *replies]


@router.command("status")
async def status(event: Event, rest: str, services: Services) -> list[Reply]:
    if not person(event, services).is_admin:
        return [Reply(texts.ADMIN_ONLY, error_card(texts.ADMIN_ONLY))]
    meetings = await services.meetings.all_live()
    by_state = Counter(m.state for m in meetings)
    return [Reply(texts.STATUS_TITLE, status_card(StatusView(live=len(meetings), by_state=dict(by_state))),
                  direct=True)]
