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
