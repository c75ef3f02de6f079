"""Help, the person's rooms, the admins' status and report, and everything not understood."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from bot.core import Event, Reply, Router
from bot.runtime import Services
from cards import texts
from cards.messages import error_card, no_email_card
from cards.models import HelpInfo, OverdueRoom, ReportRow, ReportView, StatusView
from cards.overview import help_card, list_card, report_card, status_card
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
    overdue = tuple(OverdueRoom(room_name=o.room_name, creator_name=o.creator_name, ends_at=o.ends_at)
                    for o in await services.reports.overdue())
    view = StatusView(live=len(meetings), by_state=dict(by_state), overdue=overdue)
    return [Reply(texts.STATUS_TITLE, status_card(view), direct=True)]


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@router.command("rapport", "report")
async def report(event: Event, rest: str, services: Services) -> list[Reply]:
    """``/distansmöte rapport [från ÅÅÅÅ-MM-DD] [till ÅÅÅÅ-MM-DD]``: the county's figures."""
    if not person(event, services).is_admin:
        return [Reply(texts.ADMIN_ONLY, error_card(texts.ADMIN_ONLY))]
    try:
        dates = [date.fromisoformat(d) for d in _DATE.findall(rest)]
    except ValueError:
        dates = []
    if len(dates) > 2 or (rest.strip() and not dates) or (len(dates) == 2 and dates[0] > dates[1]):
        return [Reply(texts.REPORT_DATES_INVALID, error_card(texts.REPORT_DATES_INVALID), direct=True)]
    bounds: list[date | None] = list(dates)
    if len(bounds) == 1 and rest.lower().lstrip().startswith("till"):
        bounds.insert(0, None)  # "till 2026-11-30": up to that date
    since, until = (bounds + [None, None])[:2]
    figures = await services.reports.report(since, until)
    view = ReportView(
        since=since.isoformat() if since else None, until=until.isoformat() if until else None,
        last_sweep_at=figures.last_sweep_at, total=ReportRow(**figures.total.as_dict()),
        units=tuple(ReportRow(**row.as_dict()) for row in figures.units),
    )
    return [Reply(texts.REPORT_TITLE, report_card(view), direct=True)]
