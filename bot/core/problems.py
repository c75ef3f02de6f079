"""Why the bot refused a step: one code per reason, worded for staff in ``cards/texts.py``.

Services and handlers raise :class:`Refused` (or a subclass); the dispatcher turns it into the
Swedish answer, so no handler repeats a ``try/except``.
"""

from __future__ import annotations

import enum


class Problem(enum.StrEnum):
    # what staff typed or chose
    INVISIBLE_CHARACTERS = "invisible_characters"
    UNIT_MISSING = "unit_missing"
    UNIT_TOO_LONG = "unit_too_long"
    UNIT_CHARACTERS = "unit_characters"
    UNIT_DIGITS = "unit_digits"
    UNIT_NOT_LISTED = "unit_not_listed"
    ROLE_NOT_LISTED = "role_not_listed"
    PERSONAL_NUMBER = "personal_number"
    LABEL_MISSING = "label_missing"
    LABEL_EMAIL = "label_email"
    LABEL_TOO_LONG = "label_too_long"
    LABEL_CHARACTERS = "label_characters"
    LABEL_DIGITS = "label_digits"
    CHANNEL_MISSING = "channel_missing"
    RECIPIENT_MISSING = "recipient_missing"
    DATE_INVALID = "date_invalid"
    TIME_INVALID = "time_invalid"
    LENGTH_INVALID = "length_invalid"
    LENGTH_OUT_OF_RANGE = "length_out_of_range"
    IN_THE_PAST = "in_the_past"
    TOO_FAR_AHEAD = "too_far_ahead"
    TIME_DOES_NOT_EXIST = "time_does_not_exist"
    # meetings
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    ROOM_SERVICE_UNAVAILABLE = "room_service_unavailable"
    ROOM_SERVICE_DOWN = "room_service_down"
    ROOM_PENDING = "room_pending"
    NO_UNIQUE_ROOM = "no_unique_room"
    RECIPIENT_EXISTS = "recipient_exists"
    TOO_MANY_RECIPIENTS = "too_many_recipients"
    RECIPIENT_NOT_FOUND = "recipient_not_found"
    NOT_SENT_YET = "not_sent_yet"
    CALL_ACTIVE = "call_active"
    SAME_TIME = "same_time"
    CARD_OUT_OF_DATE = "card_out_of_date"
    DELETION_UNDER_WAY = "deletion_under_way"
    COLLEAGUE_MISSING = "colleague_missing"
    NO_COLLEAGUE_FOUND = "no_colleague_found"
    PEOPLE_SEARCH_UNAVAILABLE = "people_search_unavailable"
    # a step already done: answered calmly
    ALREADY_CREATED = "already_created"
    CREATION_IN_PROGRESS = "creation_in_progress"
    ALREADY_SENT = "already_sent"
    ALREADY_CONFIRMED = "already_confirmed"
    ALREADY_PHONED = "already_phoned"
    ALREADY_DELETED = "already_deleted"
    ALREADY_THEIRS = "already_theirs"
    # a card submission the router cannot take
    UNKNOWN_ACTION = "unknown_action"
    STALE_CARD = "stale_card"
    INVALID_FORM = "invalid_form"
    INPUT_NOT_TEXT = "input_not_text"


class Refused(Exception):
    """A refusal of a step, for a reason staff are told."""

    def __init__(self, problem: Problem) -> None:
        if not isinstance(problem, Problem):  # a string code would skip the one list of reasons
            raise TypeError(f"a refusal is a Problem member, not {problem!r}")
        self.problem = problem
        super().__init__(problem.value)

    @property
    def code(self) -> str:
        return self.problem.value
