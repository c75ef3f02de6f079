"""Detect Swedish personal identity numbers (personnummer, samordningsnummer) in free text.

The bot never asks for them; this guard catches one typed by mistake so that it is neither
stored, logged nor echoed. It looks at the text as a reader would: full-width or other
digits read as ASCII digits, and any whitespace, dash or dot between them is ignored, so
``85 07 09–9805`` is caught as surely as ``850709-9805``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

# Separators a person (or a word processor) puts between the digits of a number: every kind
# of whitespace, every dash (Unicode "Pd", and the minus sign), dots, and invisible format
# characters such as a zero-width space.
_SEPARATOR_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf", "Pd"}
_SEPARATOR_EXTRA = set(".\u2212\u00b7\u2027\u2219")

_CANDIDATE = re.compile(
    r"(?<![0-9])(?P<century>18|19|20)?(?P<yy>[0-9]{2})(?P<mm>[0-9]{2})(?P<dd>[0-9]{2})\+?"
    r"(?P<serial>[0-9]{3})(?P<check>[0-9])(?![0-9])"
)


def _normalised_char(char: str) -> str:
    if char in _SEPARATOR_EXTRA or char.isspace() or unicodedata.category(char) in _SEPARATOR_CATEGORIES:
        return ""
    digit = unicodedata.decimal(char, None)
    return str(digit) if digit is not None else char


def normalised(text: str) -> str:
    """``text`` as the guard reads it: NFKC, every decimal digit as ASCII, no separators."""
    return "".join(_normalised_char(c) for c in unicodedata.normalize("NFKC", text))


def _plausible_date(century: str | None, yy: str, mm: str, dd: str) -> bool:
    day = int(dd)
    if day > 60:  # samordningsnummer: day + 60
        day -= 60
    years = [int(century + yy)] if century else [1900 + int(yy), 2000 + int(yy)]
    for year in years:
        try:
            date(year, int(mm), day)
        except ValueError:
            continue
        return True
    return False


def contains_personal_number(text: str) -> bool:
    """A personnummer or samordningsnummer however it is spelled, or a mistyped one.

    Any number of 10 or 12 digits that starts with a date counts, whatever its check digit:
    a mistyped personnummer is still one, and nothing a person types into the bot (a
    command, a unit's name, a recipient's label, a date) has any business holding such a
    number. The bot's call IDs have nine digits.
    """
    return any(_plausible_date(*match.group("century", "yy", "mm", "dd"))
               for match in _CANDIDATE.finditer(normalised(text)))


# The ids the bot puts into its own cards (meetings, recipients, new-meeting requests).
_ISSUED_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def any_personal_number(texts: Iterable[str]) -> bool:
    """Whether anything a person sent holds a personal identity number.

    The bot's own ids (canonical UUIDs) are passed over: read without their dashes, one in a
    few hundred would look like a number, and every click on that meeting's card be refused.
    """
    return any(contains_personal_number(t) for t in texts if not _ISSUED_ID.fullmatch(t))
