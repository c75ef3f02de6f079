"""Cards rendered from view models: golden JSON files and the Adaptive Cards 1.3 schema.

Regenerate the golden files with ``UPDATE_GOLDEN=1 pytest tests/cards`` and review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from cards import texts
from cards.meeting import (
    cancelled_card,
    delete_question_card,
    deleted_card,
    hand_over_card,
    invitation_text,
    meeting_card,
    more_card,
    new_meeting_card,
)
from cards.messages import error_card, info_card, no_email_card
from cards.models import (
    ColleagueChoice,
    DeleteQuestion,
    HandOverQuestion,
    HelpInfo,
    MeetingView,
    NewMeetingForm,
    OverdueRoom,
    RecipientView,
    ReportRow,
    ReportView,
    RoomReportRow,
    RoomsReportView,
    StatusView,
)
from cards.overview import help_card, list_card, report_card, rooms_report_card, status_card

GOLDEN = Path(__file__).parent / "golden"
ZONE = ZoneInfo("Europe/Stockholm")
SCHEMA = json.loads(resources.files("adaptive_cards").joinpath("schemas/schema-1.3.json").read_text())
# The schema's own id is not a resolvable URL; validate offline.
VALIDATOR = jsonschema.Draft6Validator(SCHEMA)


def _at(hour: int, minute: int = 0, day: int = 26) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZONE)


MEETING = MeetingView(
    id="0b0c7f5e-4c1a-4c5e-9a50-1f3f0a6c2d11", room_name="HC Torsås 9",
    video_address="hc.torsas.9@video.region.example",
    call_id="482913705", web_link="https://join.region.example/meeting/482913705?secret=V_diBH_9ARvojUzOOy38Cg",
    dial_in="0480 44 55 11", starts_at=_at(13, 30), ends_at=_at(14, 30), state="invited",
    recipient_roles=texts.RECIPIENT_ROLES, recipients=(
        RecipientView(id="7f1d6a52-1f44-4b0d-8a1d-9e0f4b1c2a01", label="Kommunen – hemtjänsten", channel="link",
                      sent_at=_at(9, 12, 25), confirmed_at=_at(10, 3, 25)),
        RecipientView(id="7f1d6a52-1f44-4b0d-8a1d-9e0f4b1c2a02", label="Biståndshandläggare", channel="phone"),
    ),
)

TORSAS = ReportRow(unit="HC Torsås", created=14, deleted_by_creator=10, deleted_by_admin=1, deleted_automatically=1,
                   median_minutes_to_deletion=25, longest_minutes_to_deletion=1445, live_now=2, overdue_now=1,
                   orphans_last_sweep=1)

CARDS = {
    "new_meeting": lambda: new_meeting_card(NewMeetingForm(
        request_id="5d1c0e8a2b7f4c3d9e6a1b2c3d4e5f60", unit="HC Torsås", date="2026-11-26",
        min_date="2026-11-25", start="13:00")),
    "new_meeting_units": lambda: new_meeting_card(NewMeetingForm(
        request_id="5d1c0e8a2b7f4c3d9e6a1b2c3d4e5f60", unit="HC Torsås", units=("HC Ljungby", "HC Torsås", "Avd 12"),
        date="2026-11-26", min_date="2026-11-25", start="13:00")),
    "meeting_created": lambda: meeting_card(MEETING.model_copy(update={"recipients": (), "state": "created"}),
                                            just_created=True),
    "meeting_with_recipients": lambda: meeting_card(MEETING),
    "meeting_unit_number_read": lambda: meeting_card(
        MEETING.model_copy(update={"recipients": (), "state": "created", "patient_joins": "browser"}),
        just_created=True, note=texts.UNIT_NUMBER_STRIPPED.format(unit="HC Torsås", typed="HC Torsås 8",
                                                                   room="HC Torsås 9")),
    "delete_question": lambda: delete_question_card(DeleteQuestion(meeting=MEETING)),
    "delete_question_call_active": lambda: delete_question_card(DeleteQuestion(meeting=MEETING, active_calls=1)),
    "deleted": lambda: deleted_card(MEETING),
    "more": lambda: more_card(MEETING, today="2026-11-25"),
    "moved": lambda: meeting_card(MEETING.model_copy(update={"recipients": (
        MEETING.recipients[0].model_copy(update={"sent_at": None, "confirmed_at": None, "retell": True}),
        MEETING.recipients[1])}), note=texts.MOVED_NOTE.format(was="onsdag 2026-11-25 kl. 13.30–14.30")),
    "hand_over_question": lambda: hand_over_card(HandOverQuestion(meeting=MEETING, colleagues=(
        ColleagueChoice(key="webex:Y2lzY29zcGFyazovL3VzL1BFT1BMRS9rYXJpbg", name="Karin Ek"),
        ColleagueChoice(key="webex:Y2lzY29zcGFyazovL3VzL1BFT1BMRS9rYWxsZQ", name="Kalle Kollega")))),
    "cancel_question": lambda: delete_question_card(DeleteQuestion(meeting=MEETING, cancel=True)),
    "cancelled": lambda: cancelled_card(MEETING.model_copy(update={"recipients": (
        MEETING.recipients[0], MEETING.recipients[1].model_copy(update={"sent_at": _at(9, 40, 25)}))})),
    "cancelled_nobody_told": lambda: cancelled_card(MEETING.model_copy(update={"recipients": ()})),
    "list": lambda: list_card([MEETING]),
    "list_empty": lambda: list_card([]),
    "help": lambda: help_card(HelpInfo(dial_in="0480 44 55 11", links={
        "link_meeting_tips": "https://intranat.region.example/tips.pdf"})),
    "list_with_phone": lambda: list_card([MEETING.model_copy(update={"recipients": (
        MEETING.recipients[0], MEETING.recipients[1].model_copy(update={"sent_at": _at(9, 40, 25)})
    )})]),
    "status": lambda: status_card(StatusView(live=3, by_state={"created": 1, "ended": 2}, overdue=(
        OverdueRoom(room_name="HC Torsås 7", creator_name="Anna Lind", ends_at=_at(11, 0, 25)),))),
    "status_none_overdue": lambda: status_card(StatusView(live=1, by_state={"created": 1})),
    "report": lambda: report_card(ReportView(
        since="2026-11-01", until="2026-11-30", last_sweep_at=_at(6, 0),
        units=(TORSAS, ReportRow(**{**TORSAS.model_dump(), "unit": "", "created": 0, "deleted_by_creator": 0,
                                    "deleted_by_admin": 0, "deleted_automatically": 0, "live_now": 0,
                                    "overdue_now": 0, "median_minutes_to_deletion": None,
                                    "longest_minutes_to_deletion": None, "orphans_last_sweep": 1})),
        total=TORSAS.model_copy(update={"unit": "total", "orphans_last_sweep": 2}))),
    "rooms_report": lambda: rooms_report_card(RoomsReportView(since="2026-11-01", total=41, rooms=(
        RoomReportRow(room_name="HC Torsås 7", unit="HC Torsås", created_at=_at(8, 0, 24), ends_at=_at(11, 0, 25),
                      deleted_at=_at(11, 20, 25), state="creator"),
        RoomReportRow(room_name="HC Torsås 8", unit="HC Torsås", created_at=_at(9, 0, 25), ends_at=_at(11, 0, 26),
                      state="overdue", moved=1),
        RoomReportRow(room_name="HC Torsås 9", unit="HC Torsås", created_at=_at(9, 30, 25), ends_at=_at(15, 0, 26),
                      deleted_at=_at(10, 0, 25), state="creator", cancelled=True)))),
    "error": lambda: error_card("Den tiden har redan varit. Välj en tid framåt."),
    "info": lambda: info_card("Distansmöte", "Det är redan markerat som skickat."),
    "no_email": no_email_card,
}


def _golden(name: str, rendered: Any) -> Any:
    path = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(json.dumps(rendered, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return json.loads(path.read_text(encoding="utf-8"))


def _golden_text(name: str, rendered: str) -> str:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(CARDS))
def test_card_matches_golden_file_and_the_1_3_schema(name):
    rendered = CARDS[name]()
    VALIDATOR.validate(rendered)
    assert rendered["version"] == "1.3"
    assert rendered["fallbackText"]
    actions = rendered.get("actions", [])
    assert len(actions) <= 5
    assert all(a["type"] == "Action.Submit" for a in actions)
    assert rendered == _golden(name, rendered)


def test_every_submit_names_its_action_and_card_version():
    for name, build in CARDS.items():
        for action in build().get("actions", []):
            assert {"action", "v"} <= set(action["data"]), name


def test_invitation_text_has_what_the_routine_asks_for():
    text = invitation_text(MEETING)
    assert text == _golden_text("invitation.txt", text)
    for needed in ("hc.torsas.9@video.region.example", "Samtals-ID: 482 913 705", "0480 44 55 11", "Ring upp",
                   "https://join.region.example/meeting/482913705?secret="):
        assert needed in text


def test_the_invitation_leads_with_where_the_patient_takes_part():
    text = invitation_text(MEETING.model_copy(update={"patient_joins": "phone"}))
    assert text == _golden_text("invitation_patient_by_phone.txt", text)
    lines = text.splitlines()
    assert lines[1] == texts.PATIENT_JOINS_LEAD["phone"]
    assert lines[lines.index(texts.INVITATION_HOW) + 1].startswith("Via telefon")


def test_without_a_join_link_the_browser_way_is_explained_and_the_film_linked():
    view = MEETING.model_copy(update={"web_link": None, "join_film": "https://film.region.example/anslut.mp4"})
    text = invitation_text(view)
    assert text == _golden_text("invitation_no_link_with_film.txt", text)


def test_new_meeting_card_warns_against_patient_data():
    texts_shown = [e.get("text", "") for e in CARDS["new_meeting"]()["body"]]
    assert any("personnummer" in t for t in texts_shown)


def test_invalid_card_is_caught_by_the_schema_check():
    broken = new_meeting_card(NewMeetingForm(request_id="x" * 32, date="2026-11-26", min_date="2026-11-25",
                                             start="13:00"))
    broken["body"][0]["size"] = "Gigantic"
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(broken)
