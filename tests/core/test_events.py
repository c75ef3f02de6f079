"""The person key: one type in memory, the same ``"<platform>:<id>"`` string in the store and the logs."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import Actor, Conversation, Event, PersonKey, Platform
from bot.demo.adapter import NAME as DEMO
from bot.platforms.registry import PLATFORMS
from bot.platforms.teams import NAME as TEAMS
from bot.platforms.webex import NAME as WEBEX


def test_the_stored_form_is_the_one_the_store_already_holds():
    assert str(PersonKey(WEBEX, "Y2lzY29zcGFyazovL3VzL1BF")) == "webex:Y2lzY29zcGFyazovL3VzL1BF"
    assert str(PersonKey(TEAMS, "upn:ada@region.example")) == "teams:upn:ada@region.example"
    assert PersonKey.parse("teams:upn:ada@region.example") == PersonKey("teams", "upn:ada@region.example")


@given(platform=st.sampled_from([entry.name for entry in PLATFORMS] + [Platform("intranet")]), platform_id=st.text())
def test_parse_reads_back_what_str_writes(platform, platform_id):
    key = PersonKey(platform, platform_id)
    assert PersonKey.parse(str(key)) == key


def test_an_events_person_key_is_its_platform_and_actor():
    event = Event(DEMO, "e-1", Actor("erik", "Erik"), Conversation("c-1", is_direct=True), text="hjälp")
    assert event.person_key == PersonKey("demo", "erik")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.person_key.id = "someone-else"
