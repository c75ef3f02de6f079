"""Find Swedish personal identity numbers (personnummer, samordningsnummer) in anything a person typed.

The bot never asks for one; this guard catches one typed by mistake or on purpose, so that it is neither stored,
logged, sent on nor echoed. How it reads a number, and what of the bot's own it lets pass: docs/reliability.md,
"Personnummer in any spelling".
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from urllib.parse import unquote

MAX_GAP = 5
STAMP_DAYS = 31

_TAG = re.compile(r"<[^<>]{0,200}>")
_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
# Unicode calls these letters, but they show as blank space.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
# Markdown emphasis around digits (``**85**07…``) shows as nothing.
_MARKUP = frozenset("*_~`")
_ZERO_WIDTH = frozenset({"Mn", "Mc", "Me", "Cf"})
_ISSUED_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DIGIT = re.compile(r"\d")
_STAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2})")
# A report's period as typed: two or more dates of this or the last century, only spaces between.
_DATE = r"(?:19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}"
_DATES = re.compile(rf"{_DATE}(?:\s+{_DATE})+")


def _percent_decoded(text: str) -> str:
    """Percent-encoding decoded where it spells UTF-8; anything else (``%98``) left as it is."""

    def decode(escapes: re.Match[str]) -> str:
        try:
            return unquote(escapes.group(), errors="strict")
        except UnicodeDecodeError:
            return escapes.group()

    return _PERCENT.sub(decode, text)


def decoded(text: str) -> str:
    """``text`` with tags dropped and entities and percent-encoding decoded (also twice encoded)."""
    for _ in range(3):
        before = text
        text = _percent_decoded(html.unescape(_TAG.sub("", text)))
        if text == before:
            break
    return text


def readings(text: str) -> set[str]:
    """The ways the guard reads ``text``: as typed, decoded, and decoded in NFKC (``⑧`` is 8, but
    so is ``¹``, which as typed is a separator). Decoding can eat digits (``%29805``) as well as
    reveal them."""
    plain = decoded(text)
    return {text, plain, unicodedata.normalize("NFKC", plain)}


def _kind(char: str) -> str:
    """``d`` a digit, ``l`` a letter (ends a number), ``s`` a separator, ``w`` whitespace, ``z`` nothing."""
    if unicodedata.decimal(char, None) is not None:
        return "d"
    if char in _MARKUP:
        return "z"
    category = unicodedata.category(char)
    if category[0] == "L" and char not in _FILLERS:
        return "l"
    if category in _ZERO_WIDTH:
        return "z"
    return "w" if char.isspace() else "s"


def digit_runs(text: str) -> Iterator[tuple[str, str]]:
    """The numbers in ``text``: each as ASCII digits, separators dropped, and as written."""
    digits: list[str] = []
    first = last = 0
    gap = 0
    previous = ""
    for index, char in enumerate(text):
        kind = _kind(char)
        if kind == "d":
            if gap > MAX_GAP and digits:
                yield "".join(digits), text[first:last + 1]
                digits = []
            if not digits:
                first = index
            digits.append(str(unicodedata.decimal(char)))
            last = index
            gap = 0
        elif kind == "l":
            if digits:
                yield "".join(digits), text[first:last + 1]
                digits = []
            gap = 0
        elif kind == "s" or (kind == "w" and previous != "w"):
            gap += 1
        if kind != "z":
            previous = kind
    if digits:
        yield "".join(digits), text[first:last + 1]


def _birth_date(year: int, month: int, day: int, today: date) -> bool:
    if day > 60:  # samordningsnummer
        day -= 60
    try:
        return date(year, month, day) < today
    except ValueError:
        return False


def _is_personal_number(window: str, today: date) -> bool:
    if len(window) == 12:
        century, rest = window[:2], window[2:]
        if century not in ("18", "19", "20"):
            return False
        years = [int(century + rest[:2])]
    else:
        rest = window
        years = [1900 + int(rest[:2]), 2000 + int(rest[:2])]
    month, day = int(rest[2:4]), int(rest[4:6])
    return any(_birth_date(year, month, day, today) for year in years)


def _with_digits(text: str) -> list[str]:
    """The readings of ``text`` that hold a digit: only those can hold a number."""
    return [reading for reading in readings(text) if _DIGIT.search(reading)]


class PersonalNumberGuard:
    """The guard: ``guard(texts)`` is true if any of the texts holds a personal identity number."""

    def __init__(self, today: Callable[[], date], *, own_numbers: Iterable[str | None] = ()) -> None:
        self._today = today
        # Windows inside the bot's own numbers (the dial-in number) are passed over.
        self._own = tuple(digits for number in own_numbers for digits, _ in digit_runs(decoded(number or "")))

    def __call__(self, texts: Iterable[str]) -> bool:
        # Today's date (a clock read and a time zone conversion) only when some reading has a digit.
        read = [reading for text in texts if not _ISSUED_ID.fullmatch(text) for reading in _with_digits(text)]
        return bool(read) and self._in_readings(read, self._today())

    def holds_number(self, text: str, today: date) -> bool:
        return self._in_readings(_with_digits(text), today)

    def _in_readings(self, read: Iterable[str], today: date) -> bool:
        return any(self._in_run(digits, today)
                   for reading in read for digits, written in digit_runs(reading) if not _own_shape(written, today))

    def _in_run(self, run: str, today: date) -> bool:
        for size in (10, 12):
            for start in range(len(run) - size + 1):
                window = run[start:start + size]
                if _is_personal_number(window, today) and not any(window in own for own in self._own):
                    return True
        return False


def _own_shape(written: str, today: date) -> bool:
    """A number as the bot itself writes dates, standing alone: a ``YYYY-MM-DD HH:MM`` stamp of a real
    time on a day of the last weeks or later (read as 10 digits, ``2612071000``, it would start with
    a birth date), or a period of real dates (``rapport 2026-11-01 2026-11-30``)."""
    if _DATES.fullmatch(written):
        return all(_real(*map(int, day.split("-"))) for day in written.split())
    stamp = _STAMP.fullmatch(written)
    if stamp is None:
        return False
    year, month, day, hour, minute = (int(part) for part in stamp.groups())
    return _real(year, month, day, hour, minute) and date(year, month, day) >= today - timedelta(days=STAMP_DAYS)


def _real(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> bool:
    try:
        datetime(year, month, day, hour, minute)
    except ValueError:
        return False
    return True
