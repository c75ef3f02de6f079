"""The personnummer guard: every spelling of a number is caught, wherever it stands; what the bot
itself shows staff (call IDs, the dial-in number, meeting dates and times, room names, invitations)
typed back never is."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.services.naming import new_call_id
from bot.services.privacy import PersonalNumberGuard, decoded, digit_runs
from bot.services.validation import InvalidInput, clean_label, clean_unit
from cards.meeting import invitation_text, meeting_card, read_aloud, when
from cards.models import MeetingView
from tests.reading import strings_in
from tests.strategies import SEPARATORS, embedded_identity_numbers, identity_numbers

TODAY = date(2026, 12, 7)
DIAL_IN = "0480 44 55 11"
guard = PersonalNumberGuard(lambda: TODAY, own_numbers=[DIAL_IN])
# The guard alone; tests/processes/test_property_round.py sends over ten thousand through every platform.
MANY = settings(max_examples=3_000, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


@MANY
@given(embedded_identity_numbers())
def test_any_number_in_any_spelling_anywhere_in_a_text_is_found(pair):
    _, text = pair
    assert guard([text])
    assert guard(["13:30", str(uuid.uuid4()), text])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(identity_numbers())
def test_a_unit_or_label_never_holds_a_number_in_any_spelling(pair):
    _, typed = pair
    for clean in (clean_unit, clean_label):
        with pytest.raises(InvalidInput):
            clean(f"HC Torsås {typed}")


@pytest.mark.parametrize("text", [
    # beside another number
    "Rum 1 850709-9805 a", "HC 2 850709-9805", "Hemtjänst 2 850709-9805", "12 8507099805 34",
    # separators that are not whitespace, dashes or dots
    "HC 850709_9805", "Kommunen 850709/9805", "850709,9805", "850709:9805", "850709|9805", "850709•9805",
    "850709*9805", "850709#9805", "8\ufe0f\u20e35\ufe0f\u20e30\ufe0f\u20e37\ufe0f\u20e30\ufe0f\u20e39\ufe0f\u20e3-9805",
    "85\u316407\u280009\u31649805", "850709%2D9805", "850709%252D9805", "850709&#45;9805", "850709&ndash;9805",
    "**850709**-**9805**", "<b>850709</b>-<i>9805</i>", "`850709-9805`", "8\u03015\u03010709-9805",
    # the forms that always counted
    "880320-0016", "701063-2391", "19701063-2391", "880320+0016", "850709 - 9805", "85.07.09-98.05",
    "\uff18\uff15\uff10\uff17\uff10\uff19-\uff19\uff18\uff10\uff15", "850709-9806", "8803200016 7",
])
def test_each_reported_spelling_is_found(text):
    assert guard([text])


@pytest.mark.parametrize("text", [
    "881320-0016",  # month 13
    "880340-0016",  # day 40 (samordningsnummer days start at 61)
    "0480 44 55 11", "2026-11-25", "13:30", "HC Torsås 9", "Samtals-ID 123 456 789",
    "123-45 678 90 12",  # 12 digits without a century, no 10 of them starting with a date
    "2026-12-07 10:00", "2026-11-10 14:03",  # a meeting, a recipient's confirmation of last month
    "rapport 2026-11-20 2026-11-30", "rapport 2025-01-01  2025-12-31",  # a report's period
])
def test_what_is_not_a_number(text):
    assert not guard([text])


def test_a_stamp_beside_a_number_does_not_hide_it_and_an_old_stamp_is_a_date_like_any_other():
    assert guard(["2026-12-07 10:00 850709-9805"])
    assert guard(["2025-11-10 14:03"])  # 202511101403: read as 10 digits, 2511101403 starts with 1925-11-10
    assert guard(["1985-07-09 9805-01-01"])  # not two dates of a report's period: year 9805
    assert guard(["2026-02-30 2026-03-01"])  # nor is a date that does not exist


def test_the_bots_own_ids_are_never_taken_for_a_number():
    # Without its dashes a UUID reads as a 10-digit number starting with a date one time in a few hundred.
    unlucky = "85070998-05ab-4cde-8f00-000000000000"
    assert guard([unlucky + " "])
    assert not guard([unlucky, str(uuid.uuid4())])


def test_the_configured_dial_in_number_is_the_bots_own():
    number = "010-123 45 67"  # 0101234567 starts with 2001-01-23
    assert PersonalNumberGuard(lambda: TODAY)([number])
    assert not PersonalNumberGuard(lambda: TODAY, own_numbers=[number])([number, f"Ring {number}"])


def test_decoding_and_reading_runs():
    assert decoded("85%2D07&#45;09<b>") == "85-07-09"
    assert decoded("%98") == "%98"  # not UTF-8: left alone, its digits still count
    assert [digits for digits, _ in digit_runs("HC 2 850709-9805 a 12")] == ["28507099805", "12"]
    assert [digits for digits, _ in digit_runs("85      07")] == ["8507"]  # whitespace counts once
    assert [digits for digits, _ in digit_runs("85 - - - 07")] == ["85", "07"]


# -- what the bot shows, typed back ------------------------------------------------------------------

DIAL_INS = ["0480 44 55 11", "010-123 45 67", "+46 480 44 55 11", "08-123 456 78", "0771-25 25 25"]
UNITS = ["HC Torsås", "Avd 12", "HC 2", "Kvinnokliniken Växjö", "Rum 1234"]


@st.composite
def meeting_views(draw: st.DrawFn) -> tuple[MeetingView, str]:
    dial_in = draw(st.sampled_from(DIAL_INS))
    start = datetime.combine(draw(st.dates(min_value=TODAY, max_value=TODAY + timedelta(days=366))),
                             time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 5, 15, 30, 45, 55]))))
    call_id = new_call_id()
    unit = draw(st.sampled_from(UNITS))
    number = draw(st.integers(1, 9999))
    view = MeetingView(
        id=str(uuid.uuid4()), room_name=f"{unit} {number}", video_address=f"x.{number}@region.example",
        call_id=call_id, dial_in=dial_in, web_link=draw(st.sampled_from([None, "https://join.region.example/"])),
        starts_at=start, ends_at=start + timedelta(minutes=draw(st.sampled_from([15, 60, 480]))), state="live",
        patient_joins=draw(st.sampled_from([None, "video_room", "browser", "phone"])),
    )
    return view, dial_in


@settings(max_examples=2_000, deadline=None, derandomize=True, database=None)
@given(meeting_views(), st.sampled_from(SEPARATORS))
def test_what_the_bot_shows_is_never_refused_when_typed_back(drawn, separator):
    view, dial_in = drawn
    own = PersonalNumberGuard(lambda: TODAY, own_numbers=[dial_in])
    call_id = view.call_id
    shown = [
        call_id, separator.join([call_id[:3], call_id[3:6], call_id[6:]]), dial_in, f"Ring {dial_in}",
        f"{view.starts_at:%Y-%m-%d %H:%M}", f"{view.starts_at:%Y-%m-%d}", f"{view.starts_at:%H:%M}", when(view),
        view.room_name, f"/distansmöte ta bort {view.room_name}", view.video_address, read_aloud(view),
        invitation_text(view), *invitation_text(view).splitlines(),
        *strings_in(meeting_card(view), keys=False),
    ]
    assert [text for text in shown if own([text])] == []


def test_the_guard_reads_the_day_from_its_clock():
    today = [date(2026, 12, 1)]
    moving = PersonalNumberGuard(lambda: today[0])
    assert not moving(["2026-11-01 10:00"])  # a stamp of the last weeks
    today[0] += timedelta(days=6)
    assert moving(["2026-11-01 10:00"])  # 2611011000 starts with 1926-11-01
