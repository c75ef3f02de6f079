"""What every adapter shares on the way in: mentions, card inputs, the allowlist, dedupe keys, the sender cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core import Actor, Conversation, Event, Platform
from bot.core.inbound import NOT_TEXT, Allowlist, TtlCache, card_inputs, event_key, strip_mention


@pytest.mark.parametrize(("text", "command"), [
    ("Distansmöte /distansmöte ny", "/distansmöte ny"),
    ("distansmöte, hjälp", "hjälp"),
    ("Distansmöte Bot lista", "lista"),
    ("Hej Distansmöte! Kan du /distansmöte ny", "/distansmöte ny"),
    ("/distansmöte ny", "/distansmöte ny"),
])
def test_the_mention_is_stripped(text: str, command: str) -> None:
    assert strip_mention(text, ("Distansmöte Bot", "Distansmöte")) == command


def test_card_inputs_are_strings_and_anything_else_is_marked_not_text() -> None:
    assert card_inputs({"unit": "HC Torsås", "length": 60, "ok": True, "nested": {"a": 1}, "list": [1],
                        "none": None}) == {
        "unit": "HC Torsås", "length": NOT_TEXT, "ok": NOT_TEXT, "nested": NOT_TEXT, "list": NOT_TEXT}
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
    event = Event(Platform("webex"), "Y2lzY29zcGFyazovL3VzL01FU1NBR0U", Actor("p-1", "Nina"), Conversation("r-1", True))
    assert event.dedupe_key == event_key(Platform("webex"), "Y2lzY29zcGFyazovL3VzL01FU1NBR0U")


def test_the_sender_cache_keeps_an_answer_for_its_ttl_and_its_newest_keys() -> None:
    now = datetime(2026, 11, 26, 13, 30, tzinfo=UTC)
    cache: TtlCache[str, str] = TtlCache(timedelta(minutes=10), 2)
    cache.put("a", "A", now)
    assert cache.get("a", now + timedelta(minutes=9)) == "A"
    assert cache.get("a", now + timedelta(minutes=10)) is None
    assert cache.get("b", now) is None
    cache.put("b", "B", now)
    cache.put("a", "A2", now)  # put again: now the newest
    cache.put("c", "C", now)  # one too many: the oldest goes
    assert (cache.get("a", now), cache.get("b", now), cache.get("c", now)) == ("A2", None, "C")
