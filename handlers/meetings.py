"""The routine, step by step: create the room, forward the invitation, confirm, delete."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.core import CardSubmit, Event, Reply, Router
from bot.db import Channel, Meeting, MeetingState, PatientJoins
from bot.runtime import Services
from bot.services.meetings import MeetingError, Person
from bot.services.naming import without_room_number
from bot.services.validation import InvalidInput, clean_label, clean_unit, meeting_times
from cards import texts
from cards.actions import (
    AddRecipient,
    AskDelete,
    CancelDelete,
    ConfirmDelete,
    CreateMeeting,
    MarkConfirmed,
    MarkSent,
    ShowInvitation,
)
from cards.meeting import deleted_card, delete_question_card, invitation_text, meeting_card, new_meeting_card
from cards.messages import info_card, no_email_card
from cards.models import DeleteQuestion, NewMeetingForm
from handlers.common import meeting_view, person, refusal

router = Router()


def _in_private(event: Event, replies: list[Reply]) -> list[Reply]:
    """Confidential replies go 1:1; in a group space, say so there."""
    if event.conversation.is_direct:
        return replies
    return [Reply(texts.MOVED_TO_DIRECT), *replies]


def _updated(meeting: Meeting, services: Services) -> list[Reply]:
    """The room card in its new state, in place of the one that was clicked."""
    view = meeting_view(meeting, services)
    return [Reply(view.room_name, meeting_card(view), direct=True, replaces_card=True)]


@router.command("ny")
async def new_meeting(event: Event, rest: str, services: Services) -> list[Reply]:
    zone = services.settings.zone
    now = services.clock.now().astimezone(zone)
    start = (now + timedelta(minutes=60)).replace(minute=0, second=0, microsecond=0)
    form = NewMeetingForm(
        request_id=str(uuid.uuid4()),  # canonical: the guard knows it as the bot's own id
        unit=await services.meetings.last_unit(person(event, services).key) or "",
        date=f"{start:%Y-%m-%d}", min_date=f"{now:%Y-%m-%d}", start=f"{start:%H:%M}",
    )
    return _in_private(event, [Reply(texts.NEW_MEETING_TITLE, new_meeting_card(form), direct=True)])


@router.action(CreateMeeting)
async def create_meeting(submit: CardSubmit[CreateMeeting], services: Services) -> list[Reply]:
    form = submit.form
    try:
        typed = clean_unit(form.unit)
        unit, number = without_room_number(typed)
        times = meeting_times(form.date, form.start, form.length, zone=services.settings.zone,
                              now=services.clock.now())
        meeting = await services.meetings.create(
            platform=submit.event.platform, creator=person(submit.event, services), unit=unit, times=times,
            request_id=form.request_id, patient_joins=PatientJoins(form.patient_joins) if form.patient_joins else None,
        )
    except (InvalidInput, MeetingError) as refused:
        return refusal(refused.code)
    view = meeting_view(meeting, services)
    note = texts.UNIT_NUMBER_STRIPPED.format(unit=unit, typed=typed, room=meeting.room_name) if number else None
    return [
        Reply(texts.ROOM_CREATED_TITLE, meeting_card(view, just_created=True, note=note), direct=True,
              replaces_card=True),
        Reply(invitation_text(view), direct=True),
    ]


@router.action(ShowInvitation)
async def show_invitation(submit: CardSubmit[ShowInvitation], services: Services) -> list[Reply]:
    try:
        meeting = await services.meetings.get(submit.form.meeting_id, person(submit.event, services))
    except MeetingError as refused:
        return refusal(refused.code)
    if meeting.state == MeetingState.DELETED:
        return refusal("already_deleted")  # an old card: the room can never be used again
    view = meeting_view(meeting, services)
    return [Reply(view.room_name, meeting_card(view), direct=True, replaces_card=True),
            Reply(invitation_text(view), direct=True)]


@router.action(AddRecipient)
async def add_recipient(submit: CardSubmit[AddRecipient], services: Services) -> list[Reply]:
    form = submit.form
    if form.channel == "email":
        return [Reply(texts.NO_EMAIL, no_email_card(), direct=True)]
    if not form.channel:
        return refusal("channel_missing")
    try:
        label = clean_label(form.label)
        meeting = await services.meetings.add_recipient(
            form.meeting_id, person(submit.event, services), label, Channel(form.channel)
        )
    except (InvalidInput, MeetingError) as refused:
        return refusal(refused.code)
    return _updated(meeting, services)


async def _recipient_step(form: MarkSent | MarkConfirmed, event: Event, services: Services,
                          step: Callable[[str, Person, str], Awaitable[Meeting]]) -> list[Reply]:
    if not form.recipient_id:
        return refusal("recipient_missing")
    try:
        meeting = await step(form.meeting_id, person(event, services), form.recipient_id)
    except MeetingError as refused:
        return refusal(refused.code)
    return _updated(meeting, services)


@router.action(MarkSent)
async def mark_sent(submit: CardSubmit[MarkSent], services: Services) -> list[Reply]:
    return await _recipient_step(submit.form, submit.event, services, services.meetings.mark_sent)


@router.action(MarkConfirmed)
async def mark_confirmed(submit: CardSubmit[MarkConfirmed], services: Services) -> list[Reply]:
    return await _recipient_step(submit.form, submit.event, services, services.meetings.mark_confirmed)


async def _ask_delete(meeting_id: str, event: Event, services: Services) -> list[Reply]:
    try:
        meeting = await services.meetings.get(meeting_id, person(event, services))
        if meeting.state == MeetingState.DELETED:
            return refusal("already_deleted")
        calls = await services.meetings.active_calls(meeting)
    except MeetingError as refused:
        return refusal(refused.code)
    question = DeleteQuestion(meeting=meeting_view(meeting, services), active_calls=calls)
    return [Reply(texts.DELETE_CONFIRM_TITLE.format(room=meeting.room_name), delete_question_card(question),
                  direct=True)]


@router.action(AskDelete)
async def ask_delete(submit: CardSubmit[AskDelete], services: Services) -> list[Reply]:
    return await _ask_delete(submit.form.meeting_id, submit.event, services)


@router.command("ta bort")
async def delete_by_name(event: Event, rest: str, services: Services) -> list[Reply]:
    if not rest.strip():
        return _in_private(event, refusal("not_found"))
    try:
        meeting = await services.meetings.find_live_by_name(rest, person(event, services))
    except MeetingError as refused:
        return _in_private(event, refusal(refused.code))
    return _in_private(event, await _ask_delete(meeting.id, event, services))


@router.action(ConfirmDelete)
async def confirm_delete(submit: CardSubmit[ConfirmDelete], services: Services) -> list[Reply]:
    form = submit.form
    try:
        meeting = await services.meetings.delete(
            form.meeting_id, person(submit.event, services), end_calls=form.end_calls == "true"
        )
    except MeetingError as refused:
        if refused.code == "call_active":
            return await _ask_delete(form.meeting_id, submit.event, services)
        return refusal(refused.code)
    view = meeting_view(meeting, services)
    return [Reply(texts.DELETED_TEXT.format(room=view.room_name), deleted_card(view), direct=True,
                  replaces_card=True)]


@router.action(CancelDelete)
async def cancel_delete(submit: CardSubmit[CancelDelete], services: Services) -> list[Reply]:
    try:
        meeting = await services.meetings.get(submit.form.meeting_id, person(submit.event, services))
    except MeetingError as refused:
        return refusal(refused.code)
    message = texts.DELETE_CANCELLED.format(room=meeting.room_name)
    return [Reply(message, info_card(meeting.room_name, message), direct=True, replaces_card=True)]
