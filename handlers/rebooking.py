"""Fler val on the room card: move the meeting, hand it over to a colleague, or cancel it."""

from __future__ import annotations

from bot.core import CardSubmit, PersonKey, Problem, Refused, Reply, Router, changes_nothing
from bot.services.meetings import MeetingState
from bot.services.validation import meeting_times
from cards import texts
from cards.actions import FindColleague, HandOver, KeepOwner, MoveMeeting, ShowMore
from cards.meeting import hand_over_card, invitation_text, meeting_card, more_card, span, stamp
from cards.messages import info_card
from cards.models import ColleagueChoice, HandOverQuestion
from handlers.common import meeting_view
from handlers.context import Context

router = Router()


@router.action(ShowMore)
@changes_nothing
async def show_more(submit: CardSubmit[ShowMore], ctx: Context) -> list[Reply]:
    meeting = await ctx.services.meetings.get(submit.form.meeting_id, ctx.person)
    if meeting.state == MeetingState.DELETED:
        raise Refused(Problem.ALREADY_DELETED)
    view = meeting_view(meeting, ctx.settings)
    today = f"{ctx.clock.now().astimezone(ctx.settings.zone):%Y-%m-%d}"
    return [Reply(texts.MORE_TITLE.format(room=view.room_name), more_card(view, today=today), direct=True)]


@router.action(MoveMeeting)
async def move_meeting(submit: CardSubmit[MoveMeeting], ctx: Context) -> list[Reply]:
    """The new time; everyone told of the old one needs a new word, with the new invitation."""
    form, zone = submit.form, ctx.settings.zone
    times = meeting_times(form.date, form.start, form.length, zone=zone, now=ctx.clock.now())
    moved = await ctx.services.meetings.move(form.meeting_id, ctx.person, times, operation=ctx.operation)
    view = meeting_view(moved.meeting, ctx.settings)
    was = span(moved.was.starts_at.astimezone(zone), moved.was.ends_at.astimezone(zone)) if moved.was else None
    note = texts.MOVED_NOTE.format(was=was) if was else texts.MOVED_NOTE_AGAIN
    return [Reply(view.room_name, meeting_card(view, note=note), direct=True, replaces_card=True),
            Reply(invitation_text(view, moved=True, was=was), direct=True)]


@router.action(FindColleague)
@changes_nothing
async def find_colleague(submit: CardSubmit[FindColleague], ctx: Context) -> list[Reply]:
    """The colleagues on the same platform who match the name or address typed, to pick from."""
    form = submit.form
    if not form.colleague:
        raise Refused(Problem.COLLEAGUE_MISSING)
    meeting = await ctx.services.meetings.get(form.meeting_id, ctx.person)
    if meeting.state == MeetingState.DELETED:
        raise Refused(Problem.ALREADY_DELETED)
    found = [c for c in await ctx.services.colleagues.find(meeting.platform, form.colleague)
             if c.key != meeting.creator_id]
    if not found:
        raise Refused(Problem.NO_COLLEAGUE_FOUND)
    question = HandOverQuestion(meeting=meeting_view(meeting, ctx.settings),
                                colleagues=tuple(ColleagueChoice(key=c.key, name=c.name) for c in found))
    return [Reply(texts.PICK_COLLEAGUE_TITLE.format(room=meeting.room_name), hand_over_card(question), direct=True,
                  replaces_card=True)]


@router.action(HandOver)
async def hand_over(submit: CardSubmit[HandOver], ctx: Context) -> list[Reply]:
    """The colleague gets the room card; the creator is told when an admin handed it over."""
    form = submit.form
    colleague = await ctx.services.colleagues.get(form.to) if form.to else None
    if colleague is None:
        raise Refused(Problem.NO_COLLEAGUE_FOUND)
    owner = await ctx.services.owners.owner(colleague.address)  # the room moves to their Cisco Meeting too
    if owner.unknown:
        raise Refused(Problem.ROOM_SERVICE_UNAVAILABLE)
    handed = await ctx.services.meetings.hand_over(form.meeting_id, ctx.person, colleague, owner_jid=owner.jid,
                                                   operation=ctx.operation)
    view = meeting_view(handed.meeting, ctx.settings)
    now = ctx.clock.now().astimezone(ctx.settings.zone)
    note = texts.HANDED_TO_YOU_NOTE.format(name=ctx.person.name, when=stamp(now))
    await ctx.services.notices.tell(PersonKey.parse(colleague.key), [
        Reply(view.room_name, meeting_card(view, note=note), direct=True)])
    previous = handed.previous_key
    if previous is not None and previous != ctx.person.key:  # an admin handed over someone else's room
        away = texts.HANDED_AWAY_TEXT.format(name=colleague.name)
        title = texts.HANDED_AWAY_TITLE.format(room=view.room_name)
        await ctx.services.notices.tell(PersonKey.parse(previous), [Reply(away, info_card(title, away), direct=True)])
    message = texts.HANDED_OVER_TEXT.format(name=colleague.name, room=view.room_name)
    return [Reply(message, info_card(texts.HANDED_OVER_TITLE.format(room=view.room_name), message), direct=True,
                  replaces_card=True)]


@router.action(KeepOwner)
@changes_nothing
async def keep_owner(submit: CardSubmit[KeepOwner], ctx: Context) -> list[Reply]:
    meeting = await ctx.services.meetings.get(submit.form.meeting_id, ctx.person)
    message = texts.HAND_OVER_CANCELLED.format(room=meeting.room_name)
    return [Reply(message, info_card(meeting.room_name, message), direct=True, replaces_card=True)]
