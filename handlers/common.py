"""What several handlers need: the store's meetings as card views."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.services.joins import video_address
from bot.services.meetings import Meeting
from cards import texts
from cards.models import MeetingView, RecipientView


def recipient_roles(settings: Settings) -> tuple[str, ...]:
    """The recipients the card offers: the region's own, else the routine's common ones."""
    return settings.recipient_roles or texts.RECIPIENT_ROLES


def meeting_view(meeting: Meeting, settings: Settings) -> MeetingView:
    zone = settings.zone
    return MeetingView(
        id=meeting.id,
        room_name=meeting.room_name,
        video_address=video_address(meeting.uri, settings),
        call_id=meeting.call_id,
        web_link=_web_link(settings.web_join_url, meeting),
        join_film=settings.link_film_join,
        dial_in=settings.dial_in_number,
        starts_at=meeting.starts_at.astimezone(zone),
        ends_at=meeting.ends_at.astimezone(zone),
        state=meeting.state,
        patient_joins=meeting.patient_joins,
        owned=meeting.owner_jid is not None,
        recipient_roles=recipient_roles(settings),
        recipients=tuple(
            RecipientView(
                id=r.id, label=r.label, channel=r.channel,
                sent_at=_local(r.sent_at, zone), confirmed_at=_local(r.confirmed_at, zone), retell=r.retell,
            )
            for r in meeting.recipients
        ),
    )


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return moment.astimezone(zone) if moment else None


def _web_link(base: str | None, meeting: Meeting) -> str | None:
    """CMS 3.x web app: ``<WEB_JOIN_URL>/<callId>?secret=<secret>``."""
    if not base or not meeting.secret:
        return None
    return f"{base.rstrip('/')}/{meeting.call_id}?secret={meeting.secret}"
