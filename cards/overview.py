"""Help, the list of a person's rooms, and the admins' status."""

from __future__ import annotations

from typing import Any

from cards import texts
from cards.actions import AskDelete, ShowInvitation
from cards.elements import Element, card, choices, facts, heading, submit, text, title
from cards.meeting import when
from cards.models import HelpInfo, MeetingView, StatusView


def help_card(info: HelpInfo, *, intro: str = texts.HELP_INTRO) -> dict[str, Any]:
    phone = texts.HELP_PHONE.format(number=info.dial_in) if info.dial_in else texts.HELP_PHONE_NO_NUMBER
    body: list[Element] = [
        title(texts.HELP_TITLE),
        text(intro),
        heading(texts.HELP_COMMANDS_TITLE),
        *(text(line) for line in texts.HELP_COMMANDS),
        heading(texts.HELP_VIDEO_TITLE), text(texts.HELP_VIDEO),
        heading(texts.HELP_BROWSER_TITLE), text(texts.HELP_BROWSER),
        heading(texts.HELP_PHONE_TITLE), text(phone),
        heading(texts.HELP_DURING_TITLE), text(texts.HELP_DURING),
        heading(texts.HELP_AFTER_TITLE), text(texts.HELP_AFTER),
        text(texts.NO_EMAIL, subtle=True),
    ]
    links = [(texts.HELP_LINKS[key], url) for key, url in info.links.items() if key in texts.HELP_LINKS]
    if links:
        body.append(heading(texts.HELP_LINKS_TITLE))
        body += [text(f"[{label}]({url})") for label, url in links]
    return card(body, fallback=texts.HELP_TITLE)


def _confirmed(view: MeetingView) -> str:
    confirmed = sum(1 for r in view.recipients if r.confirmed_at)
    return texts.CONFIRMED_COUNT.format(confirmed=confirmed, total=len(view.recipients))


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
            ]),
        ]
    body.append(choices("meeting_id", texts.PICK_MEETING, {v.id: v.room_name for v in meetings},
                        value=meetings[0].id))
    actions = [submit(texts.SHOW_INVITATION, ShowInvitation), submit(texts.DELETE_ROOM, AskDelete, style="destructive")]
    return card(body, actions=actions, fallback=texts.LIST_TITLE)


def status_card(status: StatusView) -> dict[str, Any]:
    pairs = [(texts.STATES.get(state, state), str(count)) for state, count in sorted(status.by_state.items())]
    body = [title(texts.STATUS_TITLE), facts([(texts.STATUS_LIVE, str(status.live))]),
            heading(texts.STATUS_BY_STATE), facts(pairs)]
    return card(body, fallback=texts.STATUS_TITLE)
