"""Help, the list of a person's rooms, and the admins' status and report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cards import texts
from cards.actions import AskDelete, ShowInvitation
from cards.elements import Element, card, choices, facts, heading, submit, text, title
from cards.meeting import stamp, when
from cards.models import HelpInfo, MeetingView, ReportRow, ReportView, RoomReportRow, RoomsReportView, StatusView
from cards.reminders import when as day_and_time


def help_card(info: HelpInfo, *, intro: str = texts.HELP_INTRO) -> dict[str, Any]:
    """The routine's help: preparations, equipment, joining, during and after, every document and film."""
    phone = texts.HELP_PHONE.format(number=info.dial_in) if info.dial_in else texts.HELP_PHONE_NO_NUMBER
    body: list[Element] = [
        title(texts.HELP_TITLE),
        text(intro),
        heading(texts.HELP_COMMANDS_TITLE),
        *(text(line) for line in texts.HELP_COMMANDS),
        heading(texts.HELP_PREPARE_TITLE), text(texts.HELP_PREPARE),
        heading(texts.HELP_EQUIPMENT_TITLE), *(text(line) for line in texts.HELP_EQUIPMENT.values()),
        heading(texts.HELP_VIDEO_TITLE), text(texts.HELP_VIDEO),
        heading(texts.HELP_BROWSER_TITLE), text(texts.HELP_BROWSER),
        heading(texts.HELP_PHONE_TITLE), text(phone),
        heading(texts.HELP_DURING_TITLE), text(texts.HELP_DURING),
        heading(texts.HELP_AFTER_TITLE), text(texts.HELP_AFTER),
        text(texts.NO_EMAIL, subtle=True),
    ]
    # Every document and film the routine names: linked where configured, else where to find it.
    body.append(heading(texts.HELP_LINKS_TITLE))
    body += [text(f"[{title_}]({info.links[key]})" if info.links.get(key)
                  else texts.HELP_LINK_ON_NAVET.format(title=title_))
             for key, title_ in texts.HELP_LINKS.items()]
    return card(body, fallback=texts.HELP_TITLE)


def _confirmed(view: MeetingView) -> str:
    """``1 av 2 har bekräftat, 1 av 1 meddelade per telefon``: telephone recipients confirm nothing."""
    confirming = [r for r in view.recipients if r.channel in texts.CONFIRMING_CHANNELS]
    phoned = [r for r in view.recipients if r.channel not in texts.CONFIRMING_CHANNELS]
    parts = []
    if confirming:
        parts.append(texts.CONFIRMED_COUNT.format(confirmed=sum(1 for r in confirming if r.confirmed_at),
                                                  total=len(confirming)))
    if phoned:
        parts.append(texts.PHONED_COUNT.format(phoned=sum(1 for r in phoned if r.sent_at), total=len(phoned)))
    return ", ".join(parts) or texts.NO_RECIPIENTS_YET


def list_card(meetings: list[MeetingView]) -> dict[str, Any]:
    if not meetings:
        return card([title(texts.LIST_TITLE), text(texts.LIST_EMPTY)], fallback=texts.LIST_EMPTY)
    body: list[Element] = [title(texts.LIST_TITLE)]
    for view in meetings:
        body += [
            heading(view.room_name),
            facts([
                (texts.WHEN, when(view)),
                (texts.STATE, texts.STATES.get(view.state, view.state)),
                (texts.RECIPIENTS_TITLE, _confirmed(view)),
                *([(texts.JOINED_NOW, str(view.joined_now))] if view.joined_now is not None else []),
            ]),
        ]
    body.append(choices("meeting_id", texts.PICK_MEETING, {v.id: v.room_name for v in meetings},
                        value=meetings[0].id))
    actions = [submit(texts.SHOW_INVITATION, ShowInvitation), submit(texts.DELETE_ROOM, AskDelete, style="destructive")]
    return card(body, actions=actions, fallback=texts.LIST_TITLE)


def status_card(status: StatusView) -> dict[str, Any]:
    """Live rooms by state, and the rooms still there after their meeting, by name and creator."""
    pairs = [(texts.STATES.get(state, state), str(count)) for state, count in sorted(status.by_state.items())]
    body = [title(texts.STATUS_TITLE), facts([(texts.STATUS_LIVE, str(status.live))]),
            heading(texts.STATUS_BY_STATE), facts(pairs),
            heading(texts.STATUS_OVERDUE_TITLE.format(count=len(status.overdue)))]
    if status.overdue:
        body.append(text("\n".join(
            "- " + texts.STATUS_OVERDUE_ROOM.format(room=room.room_name, creator=room.creator_name,
                                                    ended=day_and_time(room.ends_at))
            for room in status.overdue)))
    else:
        body.append(text(texts.STATUS_NONE_OVERDUE, subtle=True))
    return card(body, fallback=texts.STATUS_TITLE)


def duration(minutes: int | None) -> str:
    """``125`` -> ``2 tim 5 min``; a dash for none."""
    if minutes is None:
        return "–"
    if minutes < 60:
        return texts.DURATION_MINUTES.format(minutes=minutes)
    return texts.DURATION.format(hours=minutes // 60, minutes=minutes % 60)


def _report_facts(row: ReportRow) -> Element:
    values = row.model_dump()
    return facts(
        (label, duration(values[key]) if key.endswith("_to_deletion") else str(values[key]))
        for key, label in texts.REPORT_FIGURES.items()
    )


def _report_start(heading_text: str, since: str | None, until: str | None, in_period: str, at_any_time: str,
                  note: str) -> list[Element]:
    """A report's title, its period (``in_period`` with the dates, ``at_any_time`` without) and ``note``."""
    period = " ".join(filter(None, [
        texts.REPORT_FROM.format(date=since) if since else "",
        texts.REPORT_TO.format(date=until) if until else "",
    ]))
    return [title(heading_text), text(in_period.format(period=period) if period else at_any_time),
            text(note, subtle=True)]


def report_card(report: ReportView) -> dict[str, Any]:
    """The county's figures per unit (see docs/reminders.md), for admins."""
    body = _report_start(texts.REPORT_TITLE, report.since, report.until, texts.REPORT_PERIOD,
                         texts.REPORT_PERIOD_ALL, texts.REPORT_NO_PATIENT_DATA)
    if not report.units:
        body.append(text(texts.REPORT_EMPTY))
    for row in report.units:
        body += [heading(row.unit or texts.REPORT_UNKNOWN_UNIT), _report_facts(row)]
    if len(report.units) > 1:
        body += [heading(texts.REPORT_TOTAL), _report_facts(report.total)]
    body.append(text(texts.REPORT_LAST_SWEEP.format(when=day_and_time(report.last_sweep_at))
                     if report.last_sweep_at else texts.REPORT_NO_SWEEP, subtle=True))
    return card(body, fallback=texts.REPORT_TITLE)


def _stamp(moment: datetime | None) -> str:
    return stamp(moment) if moment else "–"


def _room_facts(room: RoomReportRow) -> Element:
    values = {"unit": room.unit, "created_at": _stamp(room.created_at), "ends_at": _stamp(room.ends_at),
              "deleted_at": _stamp(room.deleted_at)}
    how = texts.ROOMS_REPORT_DELETED_BY if room.deleted_at else texts.ROOMS_REPORT_NOT_DELETED
    changes = [(texts.ROOMS_REPORT_MOVED, texts.ROOMS_REPORT_TIMES.format(n=room.moved))] if room.moved else []
    if room.cancelled:
        changes.append((texts.ROOMS_REPORT_CANCELLED, texts.YES))
    return facts([*((label, values[key]) for key, label in texts.ROOMS_REPORT_FACTS.items()),
                  (how, texts.ROOMS_REPORT_STATES[room.state]), *changes])


def rooms_report_card(report: RoomsReportView) -> dict[str, Any]:
    """One room at a time: when it was created and deleted, and by which role, for admins."""
    body = _report_start(texts.ROOMS_REPORT_TITLE, report.since, report.until, texts.ROOMS_REPORT_PERIOD,
                         texts.ROOMS_REPORT_PERIOD_ALL, texts.ROOMS_REPORT_NO_PERSONS)
    if not report.rooms:
        body.append(text(texts.REPORT_EMPTY))
    for room in report.rooms:
        body += [heading(room.room_name), _room_facts(room)]
    if report.total > len(report.rooms):
        body.append(text(texts.ROOMS_REPORT_LATEST.format(shown=len(report.rooms), total=report.total), subtle=True))
    return card(body, fallback=texts.ROOMS_REPORT_TITLE)
