"""Reminder cards: what the bot says on its own, before, at and after a meeting.

Pure functions from ``bot.notices`` data to replies with Adaptive Card 1.3 bodies; the Swedish
wording is in ``cards/texts.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, Literal

from bot import notices
from bot.core import CardAction, Reply
from cards import texts
from cards.actions import AskDelete, LookAgain, MeetingId, ShowInvitation
from cards.elements import Element, card, facts, heading, submit, text, title
from cards.meeting import clock, grouped


class SnoozeCleanup(CardAction):
    """Mötet pågår / Påminn om en timme: the cleanup prompt comes back after ``minutes``."""

    action: ClassVar[str] = "snooze_cleanup"
    meeting_id: str = MeetingId
    minutes: Literal["15", "60"]


def when(moment: datetime) -> str:
    """``den 26/11 kl. 09.10``: day and month, because a deadline is often another day."""
    return texts.DAY_AND_TIME.format(day=moment.day, month=moment.month, time=clock(moment))


def render(notice: notices.Notice) -> Reply:
    match notice:
        case notices.Unconfirmed():
            return unconfirmed(notice)
        case notices.StartCheck():
            return start_check(notice)
        case notices.JoinCheck():
            return join_check(notice)
        case notices.CleanupPrompt():
            return cleanup_prompt(notice)
        case notices.AutoDeleted():
            return _personal_notice(texts.AUTO_DELETED_TITLE.format(room=notice.room.room_name),
                         texts.AUTO_DELETED_TEXT.format(when=when(notice.deleted_at)))
        case notices.CallActiveAtDeadline():
            return _admin(texts.ADMIN_CALL_ACTIVE.format(room=notice.room.room_name, deadline=when(notice.deadline),
                                                   retry=clock(notice.retry_at)))
        case notices.RecipientGone():
            deadline = when(notice.deadline) if notice.deadline else texts.AT_THE_DEADLINE
            return _admin(texts.ADMIN_GONE.format(room=notice.room.room_name, deadline=deadline))
        case notices.ReminderFailed():
            return _admin(texts.ADMIN_FAILED.format(room=notice.room.room_name, attempts=notice.attempts))
        case notices.DeletionFailing():
            return _admin(texts.ADMIN_DELETION_FAILING.format(room=notice.room.room_name))
        case notices.CreationFailed():
            reason = texts.ERRORS.get(notice.refusal, texts.ERRORS["room_service_unavailable"])
            return _personal_notice(texts.CREATION_FAILED_TITLE,
                         texts.CREATION_FAILED.format(when=when(notice.starts_at), reason=reason))
        case notices.DeletionFinished():
            return _personal_notice(texts.DELETED_TITLE, texts.DELETED_TEXT.format(room=notice.room_name))
        case notices.DeletedByAdmin():
            return _personal_notice(texts.DELETED_BY_ADMIN_TITLE.format(room=notice.room.room_name),
                         texts.DELETED_BY_ADMIN_TEXT.format(when=when(notice.deleted_at)))
        case notices.DeletionWaitsOnCall():
            return _personal_notice(texts.DELETION_WAITS_TITLE.format(room=notice.room.room_name),
                         texts.DELETION_WAITS_TEXT.format(deadline=when(notice.deadline), retry=clock(notice.retry_at)))
        case notices.DeletedInCiscoMeeting():
            return _personal_notice(texts.DELETED_IN_CISCO_MEETING_TITLE.format(room=notice.room.room_name),
                         texts.DELETED_IN_CISCO_MEETING_TEXT)
        case notices.NoCmsUser():
            return _personal_notice(texts.NO_CMS_USER_TITLE, texts.NO_CMS_USER_TEXT)
        case notices.Orphans():
            return _orphans(notice)


def _reply(heading_text: str, body: Sequence[Element], *, late: bool, actions: Sequence[Element] = (),
           fallback: str) -> Reply:
    top = [text(texts.LATE, attention=True)] if late else []
    summary = f"{texts.LATE} {heading_text}" if late else heading_text
    return Reply(summary, card([*top, title(heading_text), *body], fallback=f"{summary}. {fallback}",
                               actions=actions))


def _personal_notice(heading_text: str, message: str) -> Reply:
    return _reply(heading_text, [text(message)], late=False, fallback=message)


def _admin(message: str, *extra: Element) -> Reply:
    return Reply(message, card([title(texts.ADMIN_TITLE), text(message), *extra], fallback=message))


def _orphans(notice: notices.Orphans) -> Reply:
    """The daily sweep's report: what it deleted, and what is left for ``distansmote sweep``."""
    sentences: list[str] = []
    body: list[Element] = []
    if notice.deleted:
        sentences.append(texts.ADMIN_ORPHANS_DELETED.format(count=len(notice.deleted)))
        body += [text(sentences[-1]), _bullets(notice.deleted)]
    if notice.room_names:
        sentences.append(texts.ADMIN_ORPHANS.format(count=len(notice.room_names)))
        body += [text(sentences[-1]), _bullets(notice.room_names), text(texts.ADMIN_ORPHANS_HOW, subtle=True)]
    message = " ".join(sentences)
    return Reply(message, card([title(texts.ADMIN_TITLE), *body], fallback=message))


def _bullets(lines: Sequence[str]) -> Element:
    return text("\n".join(f"- {line}" for line in lines))


def unconfirmed(notice: notices.Unconfirmed) -> Reply:
    """Before the start: who has not confirmed (or nobody registered at all) – ring them."""
    room, start = notice.room, clock(notice.room.starts_at)
    actions = [submit(texts.SHOW_INVITATION, ShowInvitation, meeting_id=room.meeting_id)]
    missing = len(notice.unconfirmed) + len(notice.not_sent) + len(notice.not_phoned)
    if missing == 0:
        message = texts.NOBODY_TEXT.format(start=start)
        return _reply(texts.NOBODY_TITLE.format(room=room.room_name), [text(message)], late=notice.late,
                      actions=actions, fallback=message)
    body: list[Element] = [text(texts.MEETING_STARTS.format(start=start))]
    if notice.unconfirmed:
        body += [text(texts.UNCONFIRMED_TEXT), _bullets(notice.unconfirmed)]
    if notice.not_sent:
        body += [text(texts.NOT_SENT_TEXT), _bullets(notice.not_sent)]
    if notice.unconfirmed or notice.not_sent:
        body.append(text(texts.CALL_THEM, attention=True))
    if notice.not_phoned:
        body += [text(texts.NOT_PHONED_TEXT), _bullets(notice.not_phoned), text(texts.RING_THEM, attention=True)]
    return _reply(_unconfirmed_title(notice).format(room=room.room_name, count=missing), body, late=notice.late,
                  actions=actions, fallback=texts.CALL_THEM)


def _unconfirmed_title(notice: notices.Unconfirmed) -> str:
    """What is missing, when it is one thing; else that some have not got or confirmed the information."""
    kinds = {texts.UNCONFIRMED_TITLE: notice.unconfirmed, texts.NOT_SENT_TITLE: notice.not_sent,
             texts.NOT_PHONED_TITLE: notice.not_phoned}
    missing = [title for title, labels in kinds.items() if labels]
    return missing[0] if len(missing) == 1 else texts.MISSING_TITLE


def start_check(notice: notices.StartCheck) -> Reply:
    """A few minutes before the start: check picture and sound, with the routine's tips."""
    lead = [text(texts.PATIENT_JOINS_LEAD[notice.patient_joins], attention=True)] \
        if notice.patient_joins in texts.PATIENT_JOINS_LEAD else []
    body = [*lead, text(texts.START_TEXT), heading(texts.START_TIPS_TITLE), _bullets(texts.START_TIPS)]
    links = dict(notice.links)
    documents = [f"[{label}]({links[key]})" for key, label in texts.TIP_LINKS.items() if links.get(key)]
    if documents:
        body.append(_bullets(documents))
    heading_text = texts.START_TITLE.format(room=notice.room.room_name, start=clock(notice.room.starts_at))
    return _reply(heading_text, body, late=notice.late, fallback=texts.START_TEXT)


def join_check(notice: notices.JoinCheck) -> Reply:
    """A few minutes after the start: how many have joined and how, and what to give one missing."""
    heading_text = texts.JOIN_CHECK_TITLE.format(room=notice.room.room_name)
    again = [submit(texts.JOIN_CHECK_AGAIN, LookAgain, meeting_id=notice.room.meeting_id)]
    if notice.joined is None:
        return _reply(heading_text, [text(texts.JOIN_CHECK_UNAVAILABLE)], late=False, actions=again,
                      fallback=texts.JOIN_CHECK_UNAVAILABLE)
    ways = dict(notice.joined)
    joined = sum(ways.values())
    if joined == 0:
        summary = texts.JOIN_CHECK_NOBODY.format(expected=notice.expected)
    else:
        summary = (texts.JOIN_CHECK_ALL if joined >= notice.expected else texts.JOIN_CHECK_SOME).format(
            joined=joined, expected=notice.expected)
    body: list[Element] = [text(summary), text(texts.JOIN_CHECK_EXPECTED, subtle=True)]
    if joined:
        body.append(facts((label, str(ways.get(way, 0))) for way, label in texts.JOIN_CHECK_WAYS.items()))
    if joined < notice.expected:
        details = [(texts.VIDEO_ADDRESS, notice.video_address), (texts.CALL_ID, grouped(notice.call_id))]
        if notice.dial_in:
            details.append((texts.JOIN_CHECK_DIAL_IN, texts.JOIN_CHECK_DIAL_IN_VALUE.format(
                number=notice.dial_in, call_id=grouped(notice.call_id))))
        body += [text(texts.JOIN_CHECK_MISSING), facts(details)]
    body.append(text(texts.JOIN_CHECK_PRIVATE, subtle=True))
    return _reply(heading_text, body, late=False, actions=again, fallback=summary)


def cleanup_prompt(notice: notices.CleanupPrompt) -> Reply:
    """After the meeting: delete the room now, or be reminded in 15 or 60 minutes."""
    room = notice.room
    heading_text = (texts.FOLLOWUP_TITLE if notice.followup else texts.CLEANUP_TITLE).format(room=room.room_name)
    film = (f"[{texts.DELETE_FILM_TITLE}]({notice.film_link})" if notice.film_link
            else texts.CLEANUP_FILM_ON_NAVET.format(film=texts.DELETE_FILM_TITLE))
    body = [text(texts.CLEANUP_TEXT), text(texts.CLEANUP_FILM.format(film=film))]
    if notice.deadline is not None:
        body.append(text(texts.CLEANUP_DEADLINE.format(deadline=when(notice.deadline)), subtle=True))
    actions = [
        submit(texts.DELETE_ROOM, AskDelete, style="destructive", meeting_id=room.meeting_id),
        submit(texts.SNOOZE_15, SnoozeCleanup, meeting_id=room.meeting_id, minutes="15"),
        submit(texts.SNOOZE_60, SnoozeCleanup, meeting_id=room.meeting_id, minutes="60"),
    ]
    return _reply(heading_text, body, late=notice.late, actions=actions, fallback=texts.CLEANUP_TEXT)


def snoozed(at: datetime, *, already: bool) -> Reply:
    message = (texts.ALREADY_SNOOZED if already else texts.SNOOZED).format(time=clock(at))
    return Reply(message, card([text(message)], fallback=message))
