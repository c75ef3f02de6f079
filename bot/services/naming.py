"""Room names, video-address user parts and call IDs."""

from __future__ import annotations

import re
import secrets
import unicodedata

# Letters NFKD does not decompose into ASCII.
_TRANSLITERATE = str.maketrans({"æ": "ae", "ø": "o", "ß": "ss", "đ": "d", "ł": "l", "þ": "th", "ð": "d"})
_NOT_URI = re.compile(r"[^a-z0-9]+")

CALL_ID_DIGITS = 9


def uri_slug(text: str) -> str:
    """``"HC Torsås"`` -> ``"hc.torsas"``: only ``[a-z0-9.]``, no leading/trailing dots."""
    lowered = text.casefold().translate(_TRANSLITERATE)
    ascii_only = unicodedata.normalize("NFKD", lowered).encode("ascii", "ignore").decode()
    return _NOT_URI.sub(".", ascii_only).strip(".")


_TRAILING_NUMBER = re.compile(r"^(?P<unit>.*[^\W\d_])\s+(?P<number>\d{1,4})$")
# Words after which a number belongs to the unit's own name ("Avd 12"), not to a room.
_NAMED_BY_NUMBER = {"avd", "avdelning", "vardavdelning", "ward", "mottagning", "enhet", "team", "plan",
                    "hus", "kliniken", "klinik", "sektion", "grupp"}


def without_room_number(unit: str) -> tuple[str, str | None]:
    """``"HC Torsås 8"`` -> ``("HC Torsås", "8")``: the bot numbers rooms itself.

    As the routine's example names a room: the unit followed by a number. A number that is part of
    a unit's name (``"Avd 12"``) is kept.
    """
    match = _TRAILING_NUMBER.match(unit)
    if match is None:
        return unit, None
    last_word = match["unit"].split()[-1]
    folded = unicodedata.normalize("NFKD", last_word.casefold()).encode("ascii", "ignore").decode()
    if folded in _NAMED_BY_NUMBER:
        return unit, None
    return match["unit"], match["number"]


def room_name(unit: str, number: int) -> str:
    return f"{unit} {number}"


def room_uri(unit: str, number: int) -> str:
    return f"{uri_slug(unit)}.{number}"


def new_call_id() -> str:
    """Nine random digits, never starting with 0.

    Nine digits can never be mistaken for a personnummer (10 or 12), and no leading zero
    means a phone keypad, a spreadsheet or a person copying it cannot drop a digit.
    """
    return str(10 ** (CALL_ID_DIGITS - 1) + secrets.randbelow(9 * 10 ** (CALL_ID_DIGITS - 1)))
