"""The rules for what staff may type: unit names, recipient labels, meeting times.

Each rule raises :class:`InvalidInput` with a code (``bot.core.problems.Problem``);
``cards.texts`` holds the Swedish sentence for each, so services stay free of wording.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.problems import Problem, Refused
from bot.services.naming import uri_slug, without_room_number

UNIT_MAX = 40
LABEL_MAX = 40
# Rule 1 by construction: no free-text field can hold a personal identity number (10 or 12 digits)
# or a telephone number; a unit's or a role's name needs a few digits at most ("Avd 12", "HC 2").
DIGITS_MAX = 4
LENGTH_MIN_MINUTES = 5
LENGTH_MAX_MINUTES = 8 * 60

# Bidi embeddings/overrides/isolates and marks (CVE-2021-42574 class), zero-width characters.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
# Letters and digits, and the few marks a unit's or a role's name has; no "_", which markdown hides.
_UNIT_ALLOWED = re.compile(r"^[^\W_](?:[^\W_]|[ .\-'])*$")
_LABEL_ALLOWED = re.compile(r"^[^\W_](?:[^\W_]|[ .,\-–'()/])*$")
_EMAIL = re.compile(r"\S+@\S+")


class InvalidInput(Refused):
    """What staff typed breaks a rule."""


def _clean(text: str) -> str:
    if _INVISIBLE.search(text):
        raise InvalidInput(Problem.INVISIBLE_CHARACTERS)
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _digits(text: str) -> int:
    return sum(char.isdigit() for char in text)


def clean_unit(text: str) -> str:
    unit = _clean(text)
    if not unit:
        raise InvalidInput(Problem.UNIT_MISSING)
    if len(unit) > UNIT_MAX:
        raise InvalidInput(Problem.UNIT_TOO_LONG)
    if _digits(unit) > DIGITS_MAX:
        raise InvalidInput(Problem.UNIT_DIGITS)
    if not _UNIT_ALLOWED.match(unit) or not uri_slug(unit):
        raise InvalidInput(Problem.UNIT_CHARACTERS)
    return unit


@dataclass(frozen=True)
class ChosenUnit:
    unit: str
    typed: str  # as it came
    number: str | None  # a room number typed after the unit, which the bot drops


def chosen_unit(text: str, listed: tuple[str, ...]) -> ChosenUnit:
    """The unit of a new meeting: one of the region's ``listed`` units as written there, or, with no
    list, a typed one under the rules of :func:`clean_unit`, without a room number typed after it."""
    if listed:
        if text not in listed:
            raise InvalidInput(Problem.UNIT_NOT_LISTED)
        return ChosenUnit(text, text, None)
    typed = clean_unit(text)
    unit, number = without_room_number(typed)
    return ChosenUnit(unit, typed, number)


def clean_label(text: str) -> str:
    label = _clean(text)
    if not label:
        raise InvalidInput(Problem.LABEL_MISSING)
    if _EMAIL.search(label):
        raise InvalidInput(Problem.LABEL_EMAIL)
    if len(label) > LABEL_MAX:
        raise InvalidInput(Problem.LABEL_TOO_LONG)
    if _digits(label) > DIGITS_MAX:
        raise InvalidInput(Problem.LABEL_DIGITS)
    if not _LABEL_ALLOWED.match(label):
        raise InvalidInput(Problem.LABEL_CHARACTERS)
    return label


@dataclass(frozen=True)
class MeetingTimes:
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC


def _local(day: date, start: time, zone: ZoneInfo) -> datetime:
    """The local start as UTC; a time that does not exist that day (spring forward) is refused.

    An ambiguous time (the repeated hour in October) means the first one, as a person reading
    a clock that has not yet been turned back would mean.
    """
    local = datetime.combine(day, start, tzinfo=zone).replace(fold=0)
    round_trip = local.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise InvalidInput(Problem.TIME_DOES_NOT_EXIST)
    return local.astimezone(UTC)


def meeting_times(
    day_text: str, start_text: str, length_text: str, *, zone: ZoneInfo, now: datetime
) -> MeetingTimes:
    try:
        day = date.fromisoformat(day_text.strip())
    except ValueError:
        raise InvalidInput(Problem.DATE_INVALID) from None
    try:
        start = time.fromisoformat(start_text.strip())
    except ValueError:
        raise InvalidInput(Problem.TIME_INVALID) from None
    try:
        minutes = int(length_text.strip())
    except ValueError:
        raise InvalidInput(Problem.LENGTH_INVALID) from None
    if not LENGTH_MIN_MINUTES <= minutes <= LENGTH_MAX_MINUTES:
        raise InvalidInput(Problem.LENGTH_OUT_OF_RANGE)
    starts_at = _local(day, start.replace(second=0, microsecond=0), zone)
    if day < now.astimezone(zone).date() or starts_at < now - timedelta(minutes=5):
        raise InvalidInput(Problem.IN_THE_PAST)
    if starts_at > now + timedelta(days=366):
        raise InvalidInput(Problem.TOO_FAR_AHEAD)
    return MeetingTimes(starts_at, starts_at + timedelta(minutes=minutes))
