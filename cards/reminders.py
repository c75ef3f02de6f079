"""Reminder cards: what the bot says on its own, before, at and after a meeting (Swedish).

Pure functions from ``bot.notices`` data to replies with Adaptive Card 1.3 bodies.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, Literal

from bot import notices
from bot.core import CardAction, Reply
from cards import texts
from cards.actions import AskDelete, MeetingId, ShowInvitation
from cards.elements import Element, card, heading, submit, text, title

LATE = "(försenad påminnelse)"

UNCONFIRMED_TITLE = "{room}: {count} mottagare har inte bekräftat"
UNCONFIRMED_TEXT = "Mötet börjar kl. {start}. De här mottagarna har inte bekräftat att de har fått mötesinformationen:"
NOT_SENT_TEXT = "Inbjudan är inte markerad som skickad till:"
CALL_THEM = "Ring dem och kontrollera att de har videoadressen och samtals-ID:t."
NOBODY_TITLE = "{room}: ingen mottagare är registrerad"
NOBODY_TEXT = (
    "Mötet börjar kl. {start}, men ingen mottagare är registrerad. Har alla som ska vara med fått "
    "videoadressen och samtals-ID:t via Cosmic Link, Cosmic Messenger eller telefon? Ring dem som saknas."
)

START_TITLE = "{room} börjar kl. {start}"
START_TEXT = "Inled mötet med att kontrollera att alla ser varandra och att ljudet är bra."
START_TIPS_TITLE = "Tips"
START_TIPS = (
    "Be var och en säga något, så att du hör att ljudet fungerar hos alla.",
    "Kontrollera att alla syns i bild och att ingen sitter i motljus.",
    "Den som är med via telefon ser ingenting: säg vem som pratar.",
    "Ekar eller brusar det? Be alla stänga av mikrofonen när de inte pratar.",
)
TIP_LINKS = {
    "link_meeting_tips": "Tips inför distansmöte",
    "link_film_picture_sound": "Film: Konfigurera bild och ljud i Cisco Meeting",
}

CLEANUP_TITLE = "Mötet är slut – ta bort {room}"
FOLLOWUP_TITLE = "Påminnelse: {room} finns kvar"
CLEANUP_TEXT = (
    "Enligt rutinen ska den som skapade mötesrummet ta bort det efter mötet, så att det aldrig "
    "används igen."
)
CLEANUP_FILM = "Hur du gör visas i filmen {film}."
DELETE_FILM_TITLE = "”Ta bort mötesrum i Cisco Meeting”"
CLEANUP_FILM_ON_NAVET = "{film} på intranätet Navet"
CLEANUP_DEADLINE = (
    "Tar du inte bort det, påminner jag dig under arbetstid. Finns det kvar {deadline}, tar jag bort det "
    "själv, eftersom rutinen kräver att rummet tas bort."
)
SNOOZE_15 = "Mötet pågår – påminn om 15 min"
SNOOZE_60 = "Påminn om en timme"

SNOOZED = "Okej, jag påminner dig igen kl. {time}."
ALREADY_SNOOZED = "Jag påminner dig redan kl. {time}."

AUTO_DELETED_TITLE = "{room} är borttaget"
AUTO_DELETED_TEXT = (
    "Mötesrummet fanns fortfarande kvar efter mötet. Rutinen kräver att rummet tas bort, så jag tog bort "
    "det {when}. Det kan inte användas igen. Nästa gång: ta bort rummet när mötet är slut – enligt "
    "rutinen är det den som skapade rummet som gör det."
)

ADMIN_TITLE = "Distansmöte – till administratör"
ADMIN_CALL_ACTIVE = (
    "{room} skulle tas bort automatiskt {deadline}, men det pågår ett samtal i rummet. "
    "Jag försöker igen kl. {retry}."
)
ADMIN_GONE = (
    "Jag kan inte längre nå den som skapade {room} (personen eller boten finns inte kvar i chatten). "
    "Påminnelserna om rummet är stoppade; rummet tas bort automatiskt {deadline}."
)
ADMIN_DELETION_FAILING = (
    "{room} kunde inte tas bort automatiskt: mötestjänsten (Cisco Meeting Server) svarar inte. "
    "Jag fortsätter att försöka."
)
ADMIN_FAILED = "En påminnelse om {room} kunde inte levereras efter {attempts} försök."
ADMIN_ORPHANS = "Det finns {count} mötesrum på mötestjänsten som Distansmöte har skapat men inte längre har något möte för:"
ADMIN_ORPHANS_HOW = "Kör ”distansmote sweep --delete” för att ta bort dem."


class SnoozeCleanup(CardAction):
    """Mötet pågår / Påminn om en timme: the cleanup prompt comes back after ``minutes``."""

    action: ClassVar[str] = "snooze_cleanup"
    meeting_id: str = MeetingId
    minutes: Literal["15", "60"]


def when(moment: datetime) -> str:
    """``den 26/11 kl. 09:10``: day and month, because a deadline is often another day."""
    return f"den {moment.day}/{moment.month} kl. {moment:%H:%M}"


def render(notice: notices.Notice) -> Reply:
    match notice:
        case notices.Unconfirmed():
            return unconfirmed(notice)
        case notices.StartCheck():
            return start_check(notice)
        case notices.CleanupPrompt():
            return cleanup_prompt(notice)
        case notices.AutoDeleted():
            message = AUTO_DELETED_TEXT.format(when=when(notice.deleted_at))
            return _reply(AUTO_DELETED_TITLE.format(room=notice.room.room_name), [text(message)],
                          late=False, fallback=message)
        case notices.CallActiveAtDeadline():
            return _admin(ADMIN_CALL_ACTIVE.format(room=notice.room.room_name, deadline=when(notice.deadline),
                                                   retry=f"{notice.retry_at:%H:%M}"))
        case notices.RecipientGone():
            deadline = when(notice.deadline) if notice.deadline else "vid tidsgränsen"
            return _admin(ADMIN_GONE.format(room=notice.room.room_name, deadline=deadline))
        case notices.ReminderFailed():
            return _admin(ADMIN_FAILED.format(room=notice.room.room_name, attempts=notice.attempts))
        case notices.DeletionFailing():
            return _admin(ADMIN_DELETION_FAILING.format(room=notice.room.room_name))
        case notices.CreationFinished(refusal=None):
            message = texts.CREATION_FINISHED.format(when=when(notice.starts_at))
            return _reply(texts.CREATION_FINISHED_TITLE.format(room=notice.room_name), [text(message)],
                          late=False, fallback=message)
        case notices.CreationFinished():
            reason = texts.ERRORS.get(notice.refusal or "", texts.ERRORS["room_service_unavailable"])
            message = texts.CREATION_FAILED.format(when=when(notice.starts_at), reason=reason)
            return _reply(texts.CREATION_FAILED_TITLE, [text(message)], late=False, fallback=message)
        case notices.Orphans():
            return _orphans(notice)


def _reply(heading_text: str, body: Sequence[Element], *, late: bool, actions: Sequence[Element] = (),
           fallback: str) -> Reply:
    top = [text(LATE, attention=True)] if late else []
    summary = f"{LATE} {heading_text}" if late else heading_text
    return Reply(summary, card([*top, title(heading_text), *body], fallback=f"{summary}. {fallback}",
                               actions=actions))


def _admin(message: str, *extra: Element) -> Reply:
    return Reply(message, card([title(ADMIN_TITLE), text(message), *extra], fallback=message))


def _orphans(notice: notices.Orphans) -> Reply:
    """The daily sweep's report: what it deleted, and what is left for ``distansmote sweep``."""
    sentences: list[str] = []
    body: list[Element] = []
    if notice.deleted:
        sentences.append(texts.ADMIN_ORPHANS_DELETED.format(count=len(notice.deleted)))
        body += [text(sentences[-1]), _bullets(notice.deleted)]
    if notice.room_names:
        sentences.append(ADMIN_ORPHANS.format(count=len(notice.room_names)))
        body += [text(sentences[-1]), _bullets(notice.room_names), text(ADMIN_ORPHANS_HOW, subtle=True)]
    message = " ".join(sentences)
    return Reply(message, card([title(ADMIN_TITLE), *body], fallback=message))


def _bullets(lines: Sequence[str]) -> Element:
    return text("\n".join(f"- {line}" for line in lines))


def unconfirmed(notice: notices.Unconfirmed) -> Reply:
    """Before the start: who has not confirmed (or nobody registered at all) – ring them."""
    room, start = notice.room, f"{notice.room.starts_at:%H:%M}"
    actions = [submit(texts.SHOW_INVITATION, ShowInvitation, meeting_id=room.meeting_id)]
    missing = len(notice.unconfirmed) + len(notice.not_sent)
    if missing == 0:
        message = NOBODY_TEXT.format(start=start)
        return _reply(NOBODY_TITLE.format(room=room.room_name), [text(message)], late=notice.late,
                      actions=actions, fallback=message)
    body: list[Element] = []
    if notice.unconfirmed:
        body += [text(UNCONFIRMED_TEXT.format(start=start)), _bullets(notice.unconfirmed)]
    if notice.not_sent:
        body += [text(NOT_SENT_TEXT), _bullets(notice.not_sent)]
    body.append(text(CALL_THEM, attention=True))
    return _reply(UNCONFIRMED_TITLE.format(room=room.room_name, count=missing), body, late=notice.late,
                  actions=actions, fallback=CALL_THEM)


def start_check(notice: notices.StartCheck) -> Reply:
    """A few minutes before the start: check picture and sound, with the routine's tips."""
    lead = [text(texts.PATIENT_JOINS_LEAD[notice.patient_joins], attention=True)] \
        if notice.patient_joins in texts.PATIENT_JOINS_LEAD else []
    body = [*lead, text(START_TEXT), heading(START_TIPS_TITLE), _bullets(START_TIPS)]
    links = dict(notice.links)
    documents = [f"[{label}]({links[key]})" for key, label in TIP_LINKS.items() if links.get(key)]
    if documents:
        body.append(_bullets(documents))
    heading_text = START_TITLE.format(room=notice.room.room_name, start=f"{notice.room.starts_at:%H:%M}")
    return _reply(heading_text, body, late=notice.late, fallback=START_TEXT)


def cleanup_prompt(notice: notices.CleanupPrompt) -> Reply:
    """After the meeting: delete the room now, or be reminded in 15 or 60 minutes."""
    room = notice.room
    heading_text = (FOLLOWUP_TITLE if notice.followup else CLEANUP_TITLE).format(room=room.room_name)
    film = (f"[{DELETE_FILM_TITLE}]({notice.film_link})" if notice.film_link
            else CLEANUP_FILM_ON_NAVET.format(film=DELETE_FILM_TITLE))
    body = [text(CLEANUP_TEXT), text(CLEANUP_FILM.format(film=film))]
    if notice.deadline is not None:
        body.append(text(CLEANUP_DEADLINE.format(deadline=when(notice.deadline)), subtle=True))
    actions = [
        submit(texts.DELETE_ROOM, AskDelete, style="destructive", meeting_id=room.meeting_id),
        submit(SNOOZE_15, SnoozeCleanup, meeting_id=room.meeting_id, minutes="15"),
        submit(SNOOZE_60, SnoozeCleanup, meeting_id=room.meeting_id, minutes="60"),
    ]
    return _reply(heading_text, body, late=notice.late, actions=actions, fallback=CLEANUP_TEXT)


def snoozed(at: datetime, *, already: bool) -> Reply:
    message = (ALREADY_SNOOZED if already else SNOOZED).format(time=f"{at:%H:%M}")
    return Reply(message, card([text(message)], fallback=message))
