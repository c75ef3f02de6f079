"""The personnummer guard: every valid number is caught, no call ID ever is."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.naming import new_call_id
from bot.services.privacy import contains_personal_number


def _check_digit(nine: str) -> str:
    total = 0
    for i, c in enumerate(nine):
        p = int(c) * (2 - i % 2)
        total += p // 10 + p % 10
    return str((10 - total % 10) % 10)


@st.composite
def identity_numbers(draw) -> str:
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 11, 1)))
    coordination = draw(st.booleans())
    day = born.day + (60 if coordination else 0)
    serial = draw(st.integers(min_value=1, max_value=999))
    nine = f"{born:%y%m}{day:02d}{serial:03d}"
    separator = draw(st.sampled_from(["-", "", "+", " "]))
    century = draw(st.sampled_from(["", f"{born.year // 100}"]))
    number = f"{century}{nine[:6]}{separator}{nine[6:]}{_check_digit(nine)}"
    prefix = draw(st.sampled_from(["", "HC Torsås ", "pat ", "("]))
    return prefix + number + draw(st.sampled_from(["", " idag", ")"]))


@settings(max_examples=300, deadline=None)
@given(identity_numbers())
def test_every_valid_personnummer_or_samordningsnummer_is_detected(text):
    assert contains_personal_number(text)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**6))
def test_call_ids_are_never_flagged(_):
    call_id = new_call_id()
    assert len(call_id) == 9
    assert not contains_personal_number(call_id)
    assert not contains_personal_number(f"Samtals-ID: {call_id}")


def test_known_examples():
    assert contains_personal_number("880320-0016")
    assert contains_personal_number("701063-2391")  # samordningsnummer
    assert not contains_personal_number("880320-0017")  # wrong check digit
    assert not contains_personal_number("881320-0016")  # month 13
    assert not contains_personal_number("0480 44 55 11")
    assert not contains_personal_number(str(date(2026, 11, 26) - timedelta(days=1)))
