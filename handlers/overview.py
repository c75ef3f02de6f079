"""Help, the person's rooms, the admins' status and report, and everything not understood."""

from __future__ import annotations

import functools
import re
from collections import Counter
from datetime import date

from bot.config import Settings
from bot.core import Command, Reply, Router, changes_nothing
from cards import texts
from cards.messages import error_card, in_private, no_email_card
from cards.models import HelpInfo, OverdueRoom, ReportRow, ReportView, RoomReportRow, RoomsReportView, StatusView
from cards.overview import help_card, list_card, report_card, rooms_report_card, status_card
from handlers.common import meeting_view
from handlers.context import Context

router = Router()


def _help(settings: Settings, intro: str = texts.HELP_INTRO) -> Reply:
    links = tuple((key, getattr(settings, key)) for key in texts.HELP_LINKS if getattr(settings, key))
    return _help_reply(settings.dial_in_number, links, intro)


@functools.lru_cache(maxsize=16)
def _help_reply(dial_in: str | None, links: tuple[tuple[str, str], ...], intro: str) -> Reply:
    """Built once per text: it is the same for everyone, and adapters only read a reply's card."""
    return Reply(texts.HELP_TITLE, help_card(HelpInfo(dial_in=dial_in, links=dict(links)), intro=intro))


@router.command("hjalp", "help", "")
@changes_nothing
async def show_help(command: Command, ctx: Context) -> list[Reply]:
    return [_help(ctx.settings)]


@router.fallback
@changes_nothing
async def not_understood(command: Command, ctx: Context) -> list[Reply]:
    return [_help(ctx.settings, intro=texts.UNKNOWN_COMMAND)]


@router.command("e-post", "epost", "mejl", "mail", "email")
@changes_nothing
async def no_email(command: Command, ctx: Context) -> list[Reply]:
    return [Reply(texts.NO_EMAIL, no_email_card())]


@router.command("lista")
@changes_nothing
async def list_meetings(command: Command, ctx: Context) -> list[Reply]:
    meetings = await ctx.services.meetings.live_for(ctx.person)
    now = ctx.clock.now()
    views = [meeting_view(m, ctx.settings).model_copy(update={"joined_now": await ctx.services.joins.count(m)})
             if m.starts_at <= now < m.ends_at else meeting_view(m, ctx.settings) for m in meetings]
    card = list_card(views)
    return in_private(command.event, [Reply(texts.LIST_TITLE, card, direct=True)])


@router.command("status")
@changes_nothing
async def status(command: Command, ctx: Context) -> list[Reply]:
    if not ctx.person.is_admin:
        return [Reply(texts.ADMIN_ONLY, error_card(texts.ADMIN_ONLY))]
    meetings = await ctx.services.meetings.all_live()
    by_state = Counter(m.state for m in meetings)
    overdue = tuple(OverdueRoom(room_name=o.room_name, creator_name=o.creator_name, ends_at=o.ends_at)
                    for o in await ctx.services.reports.overdue())
    view = StatusView(live=len(meetings), by_state=dict(by_state), overdue=overdue)
    return [Reply(texts.STATUS_TITLE, status_card(view), direct=True)]


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


_ROOMS = re.compile(r"\s*(rum|rooms)\b", re.IGNORECASE)
ROOMS_SHOWN = 40  # the latest rooms on the card; the CLI gives them all


def _period(rest: str) -> tuple[date | None, date | None] | None:
    """``[från ÅÅÅÅ-MM-DD] [till ÅÅÅÅ-MM-DD]``; None if it is not that."""
    try:
        dates = [date.fromisoformat(d) for d in _DATE.findall(rest)]
    except ValueError:
        dates = []
    if len(dates) > 2 or (rest.strip() and not dates) or (len(dates) == 2 and dates[0] > dates[1]):
        return None
    bounds: list[date | None] = list(dates)
    if len(bounds) == 1 and rest.lower().lstrip().startswith("till"):
        bounds.insert(0, None)  # "till 2026-11-30": up to that date
    since, until = (bounds + [None, None])[:2]
    return since, until


@router.command("rapport", "report")
@changes_nothing
async def report(command: Command, ctx: Context) -> list[Reply]:
    """``/distansmöte rapport [rum] [från ÅÅÅÅ-MM-DD] [till ÅÅÅÅ-MM-DD]``: the county's figures per
    unit, or (``rum``) one room at a time."""
    if not ctx.person.is_admin:
        return [Reply(texts.ADMIN_ONLY, error_card(texts.ADMIN_ONLY))]
    rooms = _ROOMS.match(command.rest)
    period = _period(command.rest[rooms.end():] if rooms else command.rest)
    if period is None:
        return [Reply(texts.REPORT_DATES_INVALID, error_card(texts.REPORT_DATES_INVALID), direct=True)]
    since, until = period
    if rooms:
        return [await _rooms_report(ctx, since, until)]
    figures = await ctx.services.reports.report(since, until)
    view = ReportView(
        since=since.isoformat() if since else None, until=until.isoformat() if until else None,
        last_sweep_at=figures.last_sweep_at, total=ReportRow(**figures.total.as_dict()),
        units=tuple(ReportRow(**row.as_dict()) for row in figures.units),
    )
    return [Reply(texts.REPORT_TITLE, report_card(view), direct=True)]


async def _rooms_report(ctx: Context, since: date | None, until: date | None) -> Reply:
    rooms = await ctx.services.reports.rooms(since, until)
    view = RoomsReportView(
        since=since.isoformat() if since else None, until=until.isoformat() if until else None,
        rooms=tuple(RoomReportRow(room_name=r.room_name, unit=r.unit, created_at=r.created_at, ends_at=r.ends_at,
                                  deleted_at=r.deleted_at, state=r.state, cancelled=r.cancelled, moved=r.moved)
                     for r in rooms[-ROOMS_SHOWN:]),
        total=len(rooms),
    )
    return Reply(texts.ROOMS_REPORT_TITLE, rooms_report_card(view), direct=True)
