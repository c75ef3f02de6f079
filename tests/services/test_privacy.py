"""The personnummer guard: every spelling of a number is caught, no call ID, date or time ever is."""

from __future__ import annotations

import uuid
from datetime import date, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.naming import new_call_id
from bot.services.privacy import any_personal_number, contains_personal_number, normalised
from bot.services.validation import InvalidInput, clean_label, clean_unit
from tests.strategies import SEPARATORS, identity_numbers


@st.composite
def in_context(draw: st.DrawFn, number: str) -> str:
    return (draw(st.sampled_from(["", "HC Torsås ", "pat ", "(", "Kommunen – ", "ny "])) + number
            + draw(st.sampled_from(["", " idag", ")", ", hemtjänsten"])))


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(identity_numbers().flatmap(lambda pair: in_context(pair[1])))
def test_every_spelling_of_a_personnummer_or_samordningsnummer_is_detected(text):
    assert contains_personal_number(text)
    assert any_personal_number(["13:30", text])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(identity_numbers())
def test_a_number_in_a_unit_or_label_is_refused_in_every_spelling(pair):
    _, typed = pair
    for clean in (clean_unit, clean_label):
        with pytest.raises(InvalidInput) as refused:
            clean(f"HC Torsås {typed}")
        assert refused.value.code in {"personal_number", "invisible_characters"}


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(SEPARATORS))
def test_call_ids_are_never_flagged_however_spelled(_, separator):
    call_id = new_call_id()
    assert len(call_id) == 9
    grouped = separator.join([call_id[:3], call_id[3:6], call_id[6:]])
    for text in (call_id, grouped, f"Samtals-ID: {call_id}", f"Samtals-ID: {grouped}"):
        assert not contains_personal_number(text)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
       st.times().map(lambda t: t.replace(second=0, microsecond=0)),
       st.integers(min_value=5, max_value=480))
def test_meeting_dates_times_and_lengths_pass(day, start, minutes):
    fields = [day.isoformat(), f"{start:%H:%M}", str(minutes), f"{day:%d.%m.%Y}", f"{day.isoformat()} {start:%H:%M}"]
    assert not any_personal_number(fields)


def test_the_bots_own_ids_are_never_taken_for_a_number():
    # Without its dashes a UUID reads as a 10-digit number starting with a date one time in a few hundred.
    unlucky = "85070998-05ab-4cde-8f00-000000000000"
    assert contains_personal_number(unlucky)
    assert not any_personal_number([unlucky, str(uuid.uuid4())])


@pytest.mark.parametrize("text", [
    "880320-0016", "701063-2391", "19701063-2391", "880320+0016",
    # The spellings that got through before the guard read the normalised text.
    "850709 - 9805", "850709  9805", "850709\u20139805", "850709\u00a09805", "850709\t9805",
    "85 07 09-9805", "\uff18\uff15\uff10\uff17\uff10\uff19-\uff19\uff18\uff10\uff15", "850709-9806",
    "19 850709 - 9806", "85.07.09-98.05",
])
def test_known_spellings_are_detected(text):
    assert contains_personal_number(text)


@pytest.mark.parametrize("text", [
    "881320-0016",  # month 13
    "880340-0016",  # day 40 (samordningsnummer days start at 61)
    "0480 44 55 11", "2026-11-25", "13:30", "HC Torsås 9", "Samtals-ID 123 456 789",
    "8803200016 7",  # 11 digits once joined
    "123-45 678 90 12",  # 12 digits without a century
])
def test_what_is_not_a_number(text):
    assert not contains_personal_number(text)


def test_normalised_reads_digits_and_drops_separators():
    assert normalised("\uff18\u0665 07\u2013\u09680\u0669") == "8507209"
    assert normalised(f"Avd. 12{time(13, 30):%H:%M}") == "Avd1213:30"
