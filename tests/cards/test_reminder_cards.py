"""Reminder cards: golden files, the Adaptive Cards 1.3 schema, and what each card promises."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot import notices
from cards import reminders, texts
from tests.cards.test_cards import VALIDATOR, _golden

ZONE = ZoneInfo("Europe/Stockholm")
ROOM = notices.Room("0b0c7f5e-4c1a-4c5e-9a50-1f3f0a6c2d11", "HC Torsås 9",
                    datetime(2026, 11, 26, 13, 30, tzinfo=ZONE), datetime(2026, 11, 26, 14, 30, tzinfo=ZONE))
DEADLINE = datetime(2026, 11, 27, 14, 30, tzinfo=ZONE)

NOTICES = {
    "reminder_unconfirmed": notices.Unconfirmed(ROOM, unconfirmed=("Kommunen – hemtjänsten",),
                                                not_sent=("Biståndshandläggare",)),
    "reminder_not_sent": notices.Unconfirmed(ROOM, unconfirmed=(), not_sent=("Biståndshandläggare",)),
    "reminder_not_phoned": notices.Unconfirmed(ROOM, unconfirmed=(), not_sent=(), not_phoned=("Biståndshandläggare",)),
    "reminder_nobody_registered": notices.Unconfirmed(ROOM, unconfirmed=(), not_sent=(), late=True),
    "reminder_start": notices.StartCheck(ROOM, links=(("link_meeting_tips", "https://intranat.region.example/tips.pdf"),)),
    "reminder_start_patient_in_browser": notices.StartCheck(ROOM, patient_joins="browser"),
    "reminder_cleanup": notices.CleanupPrompt(ROOM, deadline=DEADLINE),
    "reminder_cleanup_film_linked": notices.CleanupPrompt(ROOM, deadline=DEADLINE,
                                                          film_link="https://intranat.region.example/ta-bort.mp4"),
    "reminder_followup_late": notices.CleanupPrompt(ROOM, deadline=DEADLINE, followup=True, late=True),
    "reminder_auto_deleted": notices.AutoDeleted(ROOM, deleted_at=DEADLINE),
    "admin_call_active": notices.CallActiveAtDeadline(ROOM, deadline=DEADLINE,
                                                      retry_at=datetime(2026, 11, 27, 15, 0, tzinfo=ZONE)),
    "admin_recipient_gone": notices.RecipientGone(ROOM, deadline=DEADLINE),
    "admin_reminder_failed": notices.ReminderFailed(ROOM, attempts=6),
    "admin_deletion_failing": notices.DeletionFailing(ROOM),
    "admin_orphans": notices.Orphans(("HC Torsås 3", "HC Kalmar 12")),
    "admin_orphans_deleted": notices.Orphans(("HC Torsås 3",), deleted=("HC Kalmar 12", "HC Borgholm 4")),
    "creation_failed": notices.CreationFailed("HC Torsås 9", ROOM.starts_at, refusal="room_service_down"),
}


@pytest.mark.parametrize("name", sorted(NOTICES))
def test_reminder_card_matches_golden_file_and_the_1_3_schema(name):
    reply = reminders.render(NOTICES[name])
    card = reply.card
    assert card is not None and reply.text
    VALIDATOR.validate(card)
    assert card["version"] == "1.3" and card["fallbackText"]
    actions = card.get("actions", [])
    assert len(actions) <= 5 and all(a["type"] == "Action.Submit" for a in actions)
    assert card == _golden(name, card)


def test_the_cleanup_prompt_offers_delete_and_both_snoozes():
    card = reminders.render(NOTICES["reminder_cleanup"]).card
    assert [(a["title"], a["data"]["action"], a["data"].get("minutes")) for a in card["actions"]] == [
        ("Ta bort mötesrummet", "ask_delete", None),
        ("Mötet pågår – påminn om 15 min", "snooze_cleanup", "15"),
        ("Påminn om en timme", "snooze_cleanup", "60"),
    ]
    assert all(a["data"]["meeting_id"] == ROOM.meeting_id for a in card["actions"])
    assert "27/11 kl. 14.30" in str(card)


def test_a_late_reminder_says_so_first():
    reply = reminders.render(NOTICES["reminder_followup_late"])
    assert reply.text.startswith("(försenad påminnelse)")
    assert reply.card["body"][0]["text"] == "(försenad påminnelse)"
    assert reply.card["fallbackText"].startswith("(försenad påminnelse)")


def test_snooze_action_accepts_only_its_two_choices():
    assert reminders.SnoozeCleanup.model_validate({"meeting_id": ROOM.meeting_id, "minutes": "60"}).minutes == "60"
    with pytest.raises(ValueError):
        reminders.SnoozeCleanup.model_validate({"meeting_id": ROOM.meeting_id, "minutes": "5"})


@pytest.mark.parametrize(("unconfirmed", "not_sent", "title"), [
    (("Kommunen – hemtjänsten",), (), "HC Torsås 9: 1 mottagare har inte bekräftat"),
    ((), ("Vårdcentralen", "Biståndshandläggare"), "HC Torsås 9: inbjudan är inte skickad till 2 mottagare"),
    (("Kommunen – hemtjänsten",), ("Vårdcentralen",),
     "HC Torsås 9: 2 mottagare har inte fått eller bekräftat mötesinformationen"),
])
def test_the_title_says_whether_the_invitation_or_the_confirmation_is_missing(unconfirmed, not_sent, title):
    card = reminders.render(notices.Unconfirmed(ROOM, unconfirmed=unconfirmed, not_sent=not_sent)).card
    assert card["body"][0]["text"] == title
    assert card["body"][1]["text"] == "Mötet börjar kl. 13.30."


def test_a_recipient_not_yet_phoned_is_to_be_rung_before_the_meeting():
    card = reminders.render(NOTICES["reminder_not_phoned"]).card
    assert card["body"][0]["text"] == "HC Torsås 9: ring 1 mottagare innan mötet"
    shown = [element.get("text", "") for element in card["body"]]
    assert shown[shown.index(texts.NOT_PHONED_TEXT) + 1:][:2] == ["- Biståndshandläggare", texts.RING_THEM]
    assert texts.CALL_THEM not in shown  # nothing was sent that could be checked
    mixed = reminders.render(notices.Unconfirmed(ROOM, unconfirmed=("Vårdcentralen",), not_sent=(),
                                                 not_phoned=("Biståndshandläggare",))).card
    assert mixed["body"][0]["text"] == "HC Torsås 9: 2 mottagare har inte fått eller bekräftat mötesinformationen"
