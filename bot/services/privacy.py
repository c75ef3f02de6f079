"""Detect Swedish personal identity numbers (personnummer, samordningsnummer) in free text.

The bot never asks for them; this guard catches one typed by mistake so that it is neither
stored, logged nor echoed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

_CANDIDATE = re.compile(
    r"(?<!\d)(?P<century>18|19|20)?(?P<yy>\d\d)(?P<mm>\d\d)(?P<dd>\d\d)[-+ ]?(?P<serial>\d{3})(?P<check>\d)(?!\d)"
)


def _luhn_check_digit(nine_digits: str) -> int:
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


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
    for match in _CANDIDATE.finditer(text):
        g = match.groupdict()
        if not _plausible_date(g["century"], g["yy"], g["mm"], g["dd"]):
            continue
        if _luhn_check_digit(g["yy"] + g["mm"] + g["dd"] + g["serial"]) == int(g["check"]):
            return True
    return False


def any_personal_number(texts: Iterable[str]) -> bool:
    return any(contains_personal_number(t) for t in texts)
