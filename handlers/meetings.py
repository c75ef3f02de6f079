"""The routine, step by step: create the room, forward the invitation, confirm, delete."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot import notices
from bot.config import Settings
from bot.core import CardSubmit, Command, PersonKey, Problem, Refused, Reply, Router, changes_nothing
from bot.services.meetings import Channel, Finished, Meeting, MeetingError, MeetingState, PatientJoins, Person
from bot.services.reminder_plan import room
from bot.services.validation import chosen_unit, clean_label, meeting_times
from cards import texts
from cards.actions import (
    AddRecipient,
    AskCancel,
    AskDelete,
    CancelDelete,
    ConfirmDelete,
    CreateMeeting,
    MarkConfirmed,
    MarkSent,
    ShowInvitation,
    stamped_start,
)
from cards.meeting import (
    cancelled_card,
    cancelled_text,
    delete_question_card,
    deleted_card,
    invitation_text,
    meeting_card,
    new_meeting_card,
    told,
)
from cards.messages import in_private, info_card, no_email_card
from cards.models import DeleteQuestion, NewMeetingForm
from handlers.common import meeting_view, recipient_roles
from handlers.context import Context

router = Router()


def _updated(meeting: Meeting, ctx: Context) -> list[Reply]:
    """The room card in its new state, in place of the one that was clicked."""
    view = meeting_view(meeting, ctx.settings)
    return [Reply(view.room_name, meeting_card(view), direct=True, replaces_card=True)]


@router.command("ny")
@changes_nothing
async def new_meeting(command: Command, ctx: Context) -> list[Reply]:
    now = ctx.clock.now().astimezone(ctx.settings.zone)
    start = (now + timedelta(minutes=60)).replace(minute=0, second=0, microsecond=0)
    form = NewMeetingForm(
        request_id=str(uuid.uuid4()),  # canonical: the guard knows it as the bot's own id
        unit=await ctx.services.meetings.last_unit(ctx.person.key) or "", units=ctx.settings.units,
        date=f"{start:%Y-%m-%d}", min_date=f"{now:%Y-%m-%d}", start=f"{start:%H:%M}",
    )
    return in_private(command.event, [Reply(texts.NEW_MEETING_TITLE, new_meeting_card(form), direct=True)])


@router.action(CreateMeeting)
async def create_meeting(submit: CardSubmit[CreateMeeting], ctx: Context) -> list[Reply]:
    form = submit.form
    chosen = chosen_unit(form.unit, ctx.settings.units)
    times = meeting_times(form.date, form.start, form.length, zone=ctx.settings.zone, now=ctx.clock.now())
    owner = await ctx.services.owners.owner(submit.event.actor.email)
    meeting = await ctx.services.meetings.create(
        platform=submit.event.platform, creator=ctx.person, unit=chosen.unit, times=times, request_id=form.request_id,
        patient_joins=PatientJoins(form.patient_joins) if form.patient_joins else None, operation=ctx.operation,
        owner_jid=owner.jid,
    )
    if owner.no_user:  # said once per person (the notice outbox); not when the CMS could not be asked
        await ctx.services.notices.tell(PersonKey.parse(ctx.person.key), notices.NoCmsUser())
    note = (texts.UNIT_NUMBER_STRIPPED.format(unit=chosen.unit, typed=chosen.typed, room=meeting.room_name)
            if chosen.number else None)
    return _created(meeting, ctx.settings, texts.ROOM_CREATED_TITLE, note, replaces_card=True)


def _created(meeting: Meeting, settings: Settings, summary: str, note: str | None, *,
             replaces_card: bool) -> list[Reply]:
    """The new room's card and the invitation to forward, 1:1."""
    view = meeting_view(meeting, settings)
    return [Reply(summary, meeting_card(view, just_created=True, note=note), direct=True, replaces_card=replaces_card),
            Reply(invitation_text(view), direct=True)]


Tell = Callable[[PersonKey, notices.Notice | Sequence[Reply]], Awaitable[bool]]


async def announce_creation(finished: Finished, *, settings: Settings, tell: Tell) -> None:
    """Tell a creator who was told to wait how the creation ended, 1:1: the room card and the
    invitation, or that no room was made (``MeetingService``'s ``announce``)."""
    creator = PersonKey.parse(finished.creator_id)
    starts_at = finished.starts_at.astimezone(settings.zone)
    if finished.meeting is None:
        await tell(creator, notices.CreationFailed(
            finished.room_name, starts_at, finished.refusal or Problem.ROOM_SERVICE_UNAVAILABLE))
        return
    note = texts.CREATION_FINISHED.format(when=f"{starts_at:%Y-%m-%d %H:%M}")
    await tell(creator, _created(finished.meeting, settings, texts.CREATION_FINISHED_TITLE.format(
        room=finished.room_name), note, replaces_card=False))


@router.action(ShowInvitation)
async def show_invitation(submit: CardSubmit[ShowInvitation], ctx: Context) -> list[Reply]:
    meeting = await ctx.services.meetings.get(submit.form.meeting_id, ctx.person)
    if meeting.state == MeetingState.DELETED:
        raise Refused(Problem.ALREADY_DELETED)  # an old card: the room can never be used again
    view = meeting_view(meeting, ctx.settings)
    return [Reply(view.room_name, meeting_card(view), direct=True, replaces_card=True),
            Reply(invitation_text(view), direct=True)]


@router.action(AddRecipient)
async def add_recipient(submit: CardSubmit[AddRecipient], ctx: Context) -> list[Reply]:
    form = submit.form
    if form.channel == "email":
        return [Reply(texts.NO_EMAIL, no_email_card(), direct=True)]
    if not form.channel:
        raise Refused(Problem.CHANNEL_MISSING)
    meeting = await ctx.services.meetings.add_recipient(
        form.meeting_id, ctx.person, _recipient_label(form, ctx), Channel(form.channel), operation=ctx.operation)
    return _updated(meeting, ctx)


def _recipient_label(form: AddRecipient, ctx: Context) -> str:
    """What was typed, else the role chosen from the card's list (and only from it)."""
    if form.label.strip() or not form.role:
        return clean_label(form.label)
    if form.role not in recipient_roles(ctx.settings):
        raise Refused(Problem.ROLE_NOT_LISTED)
    return form.role


class _RecipientStep(Protocol):
    def __call__(self, meeting_id: str, person: Person, recipient_id: str, *, shown_start: datetime | None,
                 operation: str) -> Awaitable[Meeting]:
        ...


async def _recipient_step(form: MarkSent | MarkConfirmed, ctx: Context, step: _RecipientStep) -> list[Reply]:
    if not form.recipient_id:
        raise Refused(Problem.RECIPIENT_MISSING)
    return _updated(await step(form.meeting_id, ctx.person, form.recipient_id, shown_start=stamped_start(form.starts),
                               operation=ctx.operation), ctx)


@router.action(MarkSent)
async def mark_sent(submit: CardSubmit[MarkSent], ctx: Context) -> list[Reply]:
    return await _recipient_step(submit.form, ctx, ctx.services.meetings.mark_sent)


@router.action(MarkConfirmed)
async def mark_confirmed(submit: CardSubmit[MarkConfirmed], ctx: Context) -> list[Reply]:
    return await _recipient_step(submit.form, ctx, ctx.services.meetings.mark_confirmed)


async def _ask_delete(meeting_id: str, ctx: Context, *, cancel: bool = False) -> list[Reply]:
    meeting = await ctx.services.meetings.get(meeting_id, ctx.person)
    if meeting.state == MeetingState.DELETED:
        raise Refused(Problem.ALREADY_DELETED)
    calls = await ctx.services.meetings.active_calls(meeting)
    question = DeleteQuestion(meeting=meeting_view(meeting, ctx.settings), active_calls=calls, cancel=cancel)
    heading = texts.CANCEL_CONFIRM_TITLE if cancel else texts.DELETE_CONFIRM_TITLE
    return [Reply(heading.format(room=meeting.room_name), delete_question_card(question), direct=True,
                  replaces_card=cancel)]  # "Ställ in" is asked from the Fler val card, which it replaces


@router.action(AskDelete)
async def ask_delete(submit: CardSubmit[AskDelete], ctx: Context) -> list[Reply]:
    return await _ask_delete(submit.form.meeting_id, ctx)


@router.action(AskCancel)
async def ask_cancel(submit: CardSubmit[AskCancel], ctx: Context) -> list[Reply]:
    return await _ask_delete(submit.form.meeting_id, ctx, cancel=True)


@router.command("ta bort")
async def delete_by_name(command: Command, ctx: Context) -> list[Reply]:
    if not command.rest.strip():
        raise Refused(Problem.NOT_FOUND)
    meeting = await ctx.services.meetings.find_live_by_name(command.rest, ctx.person)
    return in_private(command.event, await _ask_delete(meeting.id, ctx))


@router.action(ConfirmDelete)
async def confirm_delete(submit: CardSubmit[ConfirmDelete], ctx: Context) -> list[Reply]:
    form = submit.form
    cancel = form.cancel == "true"
    try:
        meeting = await ctx.services.meetings.delete(form.meeting_id, ctx.person, end_calls=form.end_calls == "true",
                                                     cancel=cancel, operation=ctx.operation)
    except MeetingError as refused:
        if refused.problem != Problem.CALL_ACTIVE:
            raise
        return await _ask_delete(form.meeting_id, ctx, cancel=cancel)  # a call began meanwhile: ask again
    if meeting.creator_id != ctx.person.key and meeting.deleted_at is not None:  # an admin deleted it
        await ctx.services.notices.tell(PersonKey.parse(meeting.creator_id), notices.DeletedByAdmin(
            room(meeting, ctx.settings), deleted_at=meeting.deleted_at.astimezone(ctx.settings.zone)))
    view = meeting_view(meeting, ctx.settings)
    if cancel:  # whom to tell, and the text for those told in writing
        written = any(r.channel in texts.CONFIRMING_CHANNELS for r in told(view))
        return [Reply(texts.CANCELLED_TITLE, cancelled_card(view), direct=True, replaces_card=True),
                *([Reply(cancelled_text(view), direct=True)] if written else [])]
    return [Reply(texts.DELETED_TEXT.format(room=view.room_name), deleted_card(view), direct=True,
                  replaces_card=True)]


@router.action(CancelDelete)
async def cancel_delete(submit: CardSubmit[CancelDelete], ctx: Context) -> list[Reply]:
    meeting = await ctx.services.meetings.get(submit.form.meeting_id, ctx.person)
    kept = texts.CANCEL_KEPT if submit.form.cancel == "true" else texts.DELETE_CANCELLED
    message = kept.format(room=meeting.room_name)
    return [Reply(message, info_card(meeting.room_name, message), direct=True, replaces_card=True)]
