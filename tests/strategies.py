"""Hypothesis strategies shared by the tests: personal identity numbers as people type them."""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from cards import actions

# Every card action the bot has.
ACTIONS = [actions.CreateMeeting, actions.AddRecipient, actions.MarkSent, actions.MarkConfirmed,
           actions.ShowInvitation, actions.AskDelete, actions.ConfirmDelete, actions.CancelDelete, actions.ShowMore,
           actions.MoveMeeting, actions.FindColleague, actions.HandOver, actions.KeepOwner, actions.AskCancel]

# What people (and word processors, and copies from other systems) put between digits.
SEPARATORS = [
    "", " ", "  ", "\t", "\u00a0", "\u202f", "\u2009", "\u3000", "-", " - ", "  -  ", "\u2013", " \u2013 ",
    "\u2014", "\u2212", "\u2010", "\u2011", "\uff0d", "\ufe63", ".", ". ", "\u200b", "\u00a0-\u00a0",
]
# Digit forms that read as the same digits: ASCII, full-width, Arabic-Indic, Devanagari, bold.
DIGIT_FORMS = [0x30, 0xFF10, 0x0660, 0x0966, 0x1D7CE]


def check_digit(nine: str) -> str:
    total = 0
    for i, c in enumerate(nine):
        p = int(c) * (2 - i % 2)
        total += p // 10 + p % 10
    return str((10 - total % 10) % 10)


# Separators that spell something else before they are read: keycaps, variation selectors, fillers
# that Unicode calls letters, encodings (percent, HTML entities), markdown and HTML around digits.
DISGUISES = [
    "/", "_", ",", ":", "|", "\u2022", "*", "#", "\ufe0f\u20e3", "\ufe0f", "\u3164", "\u2800", "\u115f", "\uffa0",
    "%2D", "%2d", "%20", "%C2%A0", "&#45;", "&ndash;", "&nbsp;", "**", "__", "`", "<b>", "</b>", "<br/>", "\u0301",
]
# Any other character that is neither a letter nor a digit (``%``, ``&`` and ``<`` only in the
# disguises above, where they encode; alone they could eat the digits after them).
OTHER_NON_LETTERS = st.characters(exclude_categories=["L", "Nd", "Cs"], exclude_characters="%&<")
# Up to three separators: characters, disguised ones, or one of the spellings people use (" - ").
GAP = st.one_of(st.just(""), st.just(""), st.sampled_from(SEPARATORS), st.lists(
    st.one_of(st.sampled_from(DISGUISES), OTHER_NON_LETTERS), min_size=1, max_size=3,
).map("".join))
# Birth dates: the guard takes a date before today for one; the tests' clocks are later than this.
LATEST_BIRTH = date(2026, 9, 30)


@st.composite
def identity_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(a personnummer or samordningsnummer as 10 ASCII digits, with or without a right check digit,
    the same number as a person might type it: with or without its century, in any digit forms, with
    up to three characters that are not letters between any two of its digits)."""
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=LATEST_BIRTH))
    day = born.day + (60 if draw(st.booleans()) else 0)
    nine = f"{born:%y%m}{day:02d}{draw(st.integers(min_value=0, max_value=999)):03d}"
    right = check_digit(nine)
    last = right if draw(st.booleans()) else draw(st.sampled_from([d for d in "0123456789" if d != right]))
    digits = nine + last
    century = draw(st.sampled_from(["", f"{born.year // 100}"]))
    forms = draw(st.lists(st.sampled_from(DIGIT_FORMS), min_size=1, max_size=3))
    plus = len(century) + 6  # where "+" may stand: born a hundred years ago or more
    typed = ""
    for i, digit in enumerate(century + digits):
        if i:
            typed += draw(st.one_of(GAP, st.just("+"))) if i == plus else draw(GAP)
        typed += chr(draw(st.sampled_from(forms)) + int(digit))
    return digits, typed


# What may stand beside a number: text, other digits, both.
TEXT_BESIDE = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="%&<"), max_size=12)
BESIDE = st.one_of(st.just(""), TEXT_BESIDE, st.integers(0, 99_999).map(str),
                   st.sampled_from(["HC 2 ", "Rum 1 ", "Hemtjänst 2 ", " a", " 12", "HC ", "Kommunen "]))


@st.composite
def embedded_identity_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(the 10 digits, a text with the number in it anywhere, digits or text on either side)."""
    digits, typed = draw(identity_numbers())
    return digits, draw(BESIDE) + typed + draw(BESIDE)
