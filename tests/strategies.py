"""Hypothesis strategies shared by the tests: personal identity numbers as people type them."""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

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


@st.composite
def identity_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(a personnummer or samordningsnummer as 10 ASCII digits, with or without a right check digit,
    the same number as a person might type it)."""
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 11, 1)))
    day = born.day + (60 if draw(st.booleans()) else 0)
    nine = f"{born:%y%m}{day:02d}{draw(st.integers(min_value=0, max_value=999)):03d}"
    right = check_digit(nine)
    last = right if draw(st.booleans()) else draw(st.sampled_from([d for d in "0123456789" if d != right]))
    digits = nine + last
    century = draw(st.sampled_from(["", f"{born.year // 100}"]))
    # Where the number is split (after the century, in date groups, before the serial) and with what.
    cuts = {len(century) + 6: draw(st.sampled_from([*SEPARATORS, "+"]))}
    for cut in draw(st.sets(st.sampled_from([len(century), len(century) + 2, len(century) + 4,
                                             len(century) + 8]))):
        cuts[cut] = draw(st.sampled_from(SEPARATORS))
    forms = draw(st.lists(st.sampled_from(DIGIT_FORMS), min_size=1, max_size=3))
    typed = ""
    for i, digit in enumerate(century + digits):
        typed += cuts.get(i, "") + chr(draw(st.sampled_from(forms)) + int(digit))
    return digits, typed
