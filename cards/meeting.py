"""The meeting's cards: new meeting, room created with forwarding and recipients, deletion."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cards import texts
from cards.actions import (
    AddRecipient,
    AskCancel,
    AskDelete,
    CancelDelete,
    ConfirmDelete,
    CreateMeeting,
    FindColleague,
    HandOver,
    KeepOwner,
    LookAgain,
    MarkConfirmed,
    MarkSent,
    MoveMeeting,
    ShowInvitation,
    ShowMore,
    start_stamp,
)
from cards.elements import (
    Element,
    card,
    choices,
    date_input,
    facts,
    heading,
    submit,
    text,
    text_input,
    time_input,
    title,
)
from cards.models import DeleteQuestion, HandOverQuestion, MeetingView, NewMeetingForm, RecipientView

# What a unit's or recipient's typed name may hold (UNIT_MAX, LABEL_MAX in bot/services/validation.py).
TYPED_MAX = 40


def when(view: MeetingView) -> str:
    """``onsdag 2026-11-25 kl. 13.30–14.30``"""
    return span(view.starts_at, view.ends_at)


def span(start: datetime, end: datetime) -> str:
    """``onsdag 2026-11-25 kl. 13.30–14.30``, local times."""
    return f"{day(start)} kl. {clock(start)}–{clock(end)}"


def day(moment: datetime) -> str:
    """``onsdag 2026-11-25``"""
    return f"{texts.WEEKDAYS[moment.weekday()]} {moment:%Y-%m-%d}"


def said_day(moment: datetime) -> str:
    """``tisdag 8 december 2026``: a date as it is read aloud."""
    return f"{texts.WEEKDAYS[moment.weekday()]} {moment.day} {texts.MONTHS[moment.month - 1]} {moment.year}"


def clock(moment: datetime) -> str:
    """``13.30``"""
    return f"{moment:{texts.TIME_FORMAT}}"


def stamp(moment: datetime) -> str:
    """``2026-11-25 kl. 09.00``: with the year, as a record is read long after."""
    return texts.DATE_AND_TIME.format(date=f"{moment:%Y-%m-%d}", time=clock(moment))


def _lengths() -> dict[str, str]:
    return {str(minutes): label for minutes, label in texts.LENGTH_CHOICES}


def grouped(call_id: str) -> str:
    """``785 699 524``: a call ID the way it is read and typed."""
    return " ".join(call_id[i:i + 3] for i in range(0, len(call_id), 3))


def new_meeting_card(form: NewMeetingForm) -> dict[str, Any]:
    lengths = _lengths()
    body = [
        title(texts.NEW_MEETING_TITLE),
        text(texts.NEW_MEETING_INTRO),
        text(texts.NO_PATIENT_DATA, attention=True),
        _unit_input(form),
        date_input("date", texts.DATE_LABEL, value=form.date, min_value=form.min_date),
        time_input("start", texts.START_LABEL, value=form.start),
        choices("length", texts.LENGTH_LABEL, lengths, value=str(form.length_minutes)),
        choices("patient_joins", texts.PATIENT_JOINS_LABEL, texts.PATIENT_JOINS,
                placeholder=texts.PATIENT_JOINS_PLACEHOLDER),
        text(texts.PATIENT_JOINS_HINT, subtle=True),
    ]
    actions = [submit(texts.CREATE_ROOM, CreateMeeting, style="positive", request_id=form.request_id)]
    return card(body, actions=actions, fallback=f"{texts.NEW_MEETING_TITLE}: {texts.NO_PATIENT_DATA}")


def _unit_input(form: NewMeetingForm) -> Element:
    if form.units:
        return choices("unit", texts.UNIT_LABEL, {unit: unit for unit in form.units},
                       value=form.unit if form.unit in form.units else "", placeholder=texts.UNIT_CHOICE_PLACEHOLDER)
    return text_input("unit", texts.UNIT_LABEL, value=form.unit, placeholder=texts.UNIT_PLACEHOLDER,
                      max_length=TYPED_MAX)


def _room_facts(view: MeetingView) -> Element:
    pairs = [
        (texts.ROOM_TITLE, view.room_name),
        (texts.WHEN, when(view)),
        (texts.VIDEO_ADDRESS, view.video_address),
        (texts.CALL_ID, grouped(view.call_id)),
    ]
    if view.patient_joins in texts.PATIENT_JOINS:
        pairs.append((texts.PATIENT_JOINS_FACT, texts.PATIENT_JOINS[view.patient_joins].lower()))
    pairs.append((texts.STATE, texts.STATES.get(view.state, view.state)))
    return facts(pairs)


def _status(recipient: RecipientView) -> str:
    if recipient.channel not in texts.CONFIRMING_CHANNELS:
        if recipient.sent_at:
            return texts.PHONED_AT.format(time=stamp(recipient.sent_at))
        return texts.NEEDS_NEW_WORD if recipient.retell else texts.NOT_PHONED
    if recipient.confirmed_at:
        return texts.CONFIRMED_AT.format(time=stamp(recipient.confirmed_at))
    if recipient.sent_at:
        return texts.SENT_AT.format(time=stamp(recipient.sent_at))
    return texts.NEEDS_NEW_WORD if recipient.retell else texts.NOT_SENT


def recipients_section(view: MeetingView) -> list[Element]:
    section: list[Element] = [heading(texts.RECIPIENTS_TITLE)]
    if view.recipients:
        section.append(facts(
            (r.label, f"{texts.CHANNELS.get(r.channel, r.channel)} – {_status(r)}") for r in view.recipients
        ))
        section.append(choices(
            "recipient_id", texts.PICK_RECIPIENT,
            {r.id: r.label for r in view.recipients},
            # The next one to act on; an empty select would look like nobody is listed.
            value=next((r.id for r in view.recipients if not r.confirmed_at), view.recipients[0].id),
        ))
    else:
        section.append(text(texts.NO_RECIPIENTS, subtle=True))
    if view.recipient_roles:
        section.append(choices("role", texts.RECIPIENT_ROLE_LABEL, {role: role for role in view.recipient_roles},
                               placeholder=texts.RECIPIENT_ROLE_PLACEHOLDER))
    section += [
        text_input("label", texts.RECIPIENT_LABEL, placeholder=texts.RECIPIENT_PLACEHOLDER, max_length=TYPED_MAX),
        choices("channel", texts.CHANNEL_LABEL, texts.CHANNELS, value="link", compact=False),
    ]
    return section


def meeting_card(view: MeetingView, *, just_created: bool = False, note: str | None = None) -> dict[str, Any]:
    """The room, how to forward the invitation, and who has been told and has confirmed."""
    body: list[Element] = [title(texts.ROOM_CREATED_TITLE if just_created else view.room_name), _room_facts(view)]
    if note:
        body.append(text(note, attention=True))
    if just_created:
        body.append(text(texts.INVITATION_FOLLOWS, subtle=True))
    if view.owned:
        body.append(text(texts.ROOM_IN_CISCO_MEETING, subtle=True))
    body += [heading(texts.FORWARDING_TITLE), text(texts.MUNICIPALITY_NEEDS)]
    body += [text(rule) for rule in texts.FORWARDING_RULES]
    body += [heading(texts.READ_ALOUD_TITLE), text(read_aloud(view))]
    body += recipients_section(view)
    actions = [submit(texts.ADD_RECIPIENT, AddRecipient, meeting_id=view.id)]
    if view.recipients:
        actions += [
            submit(texts.MARK_SENT, MarkSent, meeting_id=view.id, starts=start_stamp(view.starts_at)),
            submit(texts.MARK_CONFIRMED, MarkConfirmed, meeting_id=view.id, starts=start_stamp(view.starts_at)),
        ]
    actions += [
        submit(texts.MORE, ShowMore, meeting_id=view.id),
        submit(texts.DELETE_ROOM, AskDelete, style="destructive", meeting_id=view.id),
    ]
    return card(body, actions=actions, fallback=f"{view.room_name}: {when(view)}")


def more_card(view: MeetingView, *, today: str) -> dict[str, Any]:
    """Fler val: move the meeting, hand it over, cancel it, or see the invitation again.
    ``today``: the earliest date to move it to (YYYY-MM-DD)."""
    lengths = _lengths()
    minutes = str(round((view.ends_at - view.starts_at).total_seconds() / 60))
    body = [
        title(texts.MORE_TITLE.format(room=view.room_name)), _room_facts(view),
        heading(texts.MOVE_TITLE), text(texts.MOVE_INTRO),
        date_input("date", texts.DATE_LABEL, value=f"{view.starts_at:%Y-%m-%d}", min_value=today),
        time_input("start", texts.START_LABEL, value=f"{view.starts_at:%H:%M}"),
        choices("length", texts.LENGTH_LABEL, lengths, value=minutes if minutes in lengths else "60"),
        heading(texts.HAND_OVER_TITLE), text(texts.HAND_OVER_INTRO),
        text_input("colleague", texts.COLLEAGUE_LABEL, placeholder=texts.COLLEAGUE_PLACEHOLDER, max_length=TYPED_MAX),
        heading(texts.CANCEL_TITLE), text(texts.CANCEL_INTRO),
    ]
    actions = [
        submit(texts.MOVE, MoveMeeting, meeting_id=view.id),
        submit(texts.FIND_COLLEAGUE, FindColleague, meeting_id=view.id),
        submit(texts.CANCEL_MEETING, AskCancel, style="destructive", meeting_id=view.id),
        submit(texts.JOIN_CHECK_ASK, LookAgain, meeting_id=view.id),
        submit(texts.SHOW_INVITATION, ShowInvitation, meeting_id=view.id),
    ]
    return card(body, actions=actions, fallback=texts.MORE_TITLE.format(room=view.room_name))


def hand_over_card(question: HandOverQuestion) -> dict[str, Any]:
    view = question.meeting
    heading_text = texts.PICK_COLLEAGUE_TITLE.format(room=view.room_name)
    body = [title(heading_text), _room_facts(view), text(texts.PICK_COLLEAGUE_INTRO),
            choices("to", texts.PICK_COLLEAGUE, {c.key: c.name for c in question.colleagues},
                    value=question.colleagues[0].key, compact=False)]
    actions = [submit(texts.HAND_OVER, HandOver, style="positive", meeting_id=view.id),
               submit(texts.HAND_OVER_NO, KeepOwner, meeting_id=view.id)]
    return card(body, actions=actions, fallback=heading_text)


def read_aloud(view: MeetingView) -> str:
    """For a telephone recipient: the same facts, as they are said (``tisdag 8 december 2026``)."""
    start = view.starts_at
    values = dict(date=said_day(start), start=clock(start), call_id=grouped(view.call_id), address=view.video_address)
    if view.dial_in:
        return texts.READ_ALOUD.format(number=view.dial_in, **values)
    return texts.READ_ALOUD_NO_NUMBER.format(**values)


def _join_lines(view: MeetingView) -> list[str]:
    """The three ways to join, the way the patient takes part first."""
    browser = (texts.INVITATION_JOIN["browser"].format(link=view.web_link) if view.web_link
               else texts.INVITATION_JOIN_BROWSER_NO_LINK.format(call_id=grouped(view.call_id),
                                                                 address=view.video_address))
    if view.join_film:
        browser += "\n" + texts.INVITATION_JOIN_FILM.format(link=view.join_film)
    lines = {
        "video_room": texts.INVITATION_JOIN["video_room"].format(address=view.video_address),
        "browser": browser,
    }
    if view.dial_in:
        lines["phone"] = texts.INVITATION_JOIN["phone"].format(number=view.dial_in, call_id=grouped(view.call_id))
    first = [lines.pop(view.patient_joins)] if view.patient_joins in lines else []
    return first + list(lines.values())


def invitation_text(view: MeetingView, *, moved: bool = False, was: str | None = None) -> str:
    """Plain text to paste into Cosmic Link or Cosmic Messenger: for the participants, nothing for staff.
    ``moved``: it replaces the invitation to the meeting's time before (``was``, where known)."""
    start, end = view.starts_at, view.ends_at
    lead = texts.MOVED_INVITATION_LEAD.format(was=was) if was else texts.MOVED_INVITATION_LEAD_AGAIN
    lines = [lead] if moved else []
    lines.append(texts.INVITATION_HEADER.format(date=day(start), start=clock(start), end=clock(end)))
    if view.patient_joins in texts.PATIENT_JOINS_LEAD:
        lines.append(texts.PATIENT_JOINS_LEAD[view.patient_joins])
    lines += [
        "",
        texts.INVITATION_VIDEO.format(address=view.video_address),
        texts.INVITATION_CALL_ID.format(call_id=grouped(view.call_id)),
        "",
        texts.INVITATION_HOW,
        *_join_lines(view),
        "",
        texts.INVITATION_START,
    ]
    return "\n".join(lines)


def delete_question_card(question: DeleteQuestion) -> dict[str, Any]:
    """Ta bort mötesrummet?, or (``cancel``) Ställ in mötet?: the same step, worded for each."""
    view, cancel = question.meeting, question.cancel
    heading_text = (texts.CANCEL_CONFIRM_TITLE if cancel else texts.DELETE_CONFIRM_TITLE).format(room=view.room_name)
    body = [title(heading_text), _room_facts(view),
            text(texts.CANCEL_CONFIRM_TEXT if cancel else texts.DELETE_CONFIRM_TEXT)]
    flag = "true" if cancel else "false"
    if question.active_calls:
        body.append(text(texts.DELETE_CALL_ACTIVE, attention=True))
        yes = submit(texts.CANCEL_YES_END_CALL if cancel else texts.DELETE_YES_END_CALL, ConfirmDelete,
                     style="destructive", meeting_id=view.id, end_calls="true", cancel=flag)
    else:
        yes = submit(texts.CANCEL_YES if cancel else texts.DELETE_YES, ConfirmDelete, style="destructive",
                     meeting_id=view.id, end_calls="false", cancel=flag)
    no = submit(texts.CANCEL_NO if cancel else texts.DELETE_NO, CancelDelete, meeting_id=view.id, cancel=flag)
    return card(body, actions=[yes, no], fallback=heading_text)


def deleted_card(view: MeetingView) -> dict[str, Any]:
    message = texts.DELETED_TEXT.format(room=view.room_name)
    return card([title(texts.DELETED_TITLE), text(message)], fallback=message)


def told(view: MeetingView) -> tuple[RecipientView, ...]:
    """The recipients who were told of the meeting (before a move, too)."""
    return tuple(r for r in view.recipients if r.sent_at or r.retell)


def cancelled_card(view: MeetingView) -> dict[str, Any]:
    """The meeting is off: whom to tell, by which channel, and what to say."""
    message = texts.CANCELLED_TEXT.format(when=when(view), room=view.room_name)
    body = [title(texts.CANCELLED_TITLE), text(message)]
    tell = told(view)
    if not tell:
        body.append(text(texts.CANCELLED_NOBODY))
        return card(body, fallback=message)
    body += [text(texts.CANCELLED_TELL),
             facts((r.label, texts.CHANNELS.get(r.channel, r.channel)) for r in tell)]
    if any(r.channel in texts.CONFIRMING_CHANNELS for r in tell):
        body += [heading(texts.CANCELLED_MESSAGE_TITLE), text(cancelled_text(view), monospace=True)]
    if any(r.channel not in texts.CONFIRMING_CHANNELS for r in tell):
        body += [heading(texts.CANCELLED_PHONE_TITLE), text(texts.CANCELLED_READ_ALOUD.format(
            date=said_day(view.starts_at), start=clock(view.starts_at)))]
    return card(body, fallback=message)


def cancelled_text(view: MeetingView) -> str:
    """Plain text to paste into Cosmic Link or Cosmic Messenger, in place of the invitation."""
    return texts.CANCELLED_MESSAGE.format(date=day(view.starts_at), start=clock(view.starts_at),
                                          end=clock(view.ends_at))
