"""What every adapter shares on the way in: mentions, card inputs, the allowlist, dedupe keys."""

from __future__ import annotations

import pytest

from bot.core import Actor, Conversation, Event, Platform
from bot.core.inbound import Allowlist, card_inputs, event_key, strip_mention


@pytest.mark.parametrize(("text", "command"), [
    ("Distansmöte /distansmöte ny", "/distansmöte ny"),
    ("distansmöte, hjälp", "hjälp"),
    ("Distansmöte Bot lista", "lista"),
    ("Hej Distansmöte! Kan du /distansmöte ny", "/distansmöte ny"),
    ("/distansmöte ny", "/distansmöte ny"),
])
def test_the_mention_is_stripped(text: str, command: str) -> None:
    assert strip_mention(text, ("Distansmöte Bot", "Distansmöte")) == command


def test_card_inputs_are_strings_and_anything_else_is_dropped_or_spelled_out() -> None:
    assert card_inputs({"unit": "HC Torsås", "length": 60, "ok": True, "nested": {"a": 1}, "none": None}) == {
        "unit": "HC Torsås", "length": "60", "ok": "true"}
    assert card_inputs(["not", "a", "dict"]) == {}


def test_the_allowlist_takes_an_organisation_or_an_email_domain() -> None:
    allowlist = Allowlist.of(["org-region"], ["@Region.example"])
    assert allowlist.allows("org-region", None)
    assert allowlist.allows(None, "nina@REGION.example")
    assert allowlist.allows("org-elsewhere", "kim@region.example")
    assert not allowlist.allows("org-elsewhere", "sam@elsewhere.example")
    assert not allowlist.allows(None, None)
    assert Allowlist.of([], []).empty and not allowlist.empty


def test_an_event_and_its_refusal_share_one_dedupe_key() -> None:
    event = Event(Platform.WEBEX, "Y2lzY29zcGFyazovL3VzL01FU1NBR0U", Actor("p-1", "Nina"), Conversation("r-1", True))
    assert event.dedupe_key == event_key(Platform.WEBEX, "Y2lzY29zcGFyazovL3VzL01FU1NBR0U")
