"""The privacy round on Webex and Teams, on SQLite and PostgreSQL: a personal identity number in any
spelling (up to three characters that are not letters between any of its digits, digits or text on
either side) in every command and in every field of every card, sent as signed Webex webhooks and as
Teams activities into the real app (the real SDKs against the fakes, the CMS simulator behind).

Each case is refused with the Swedish answer and makes no CMS request; after the round nothing of any
number shows in the chat messages, the log lines (text and JSON), or the database dump (SQLite's own,
``pg_dump`` on PostgreSQL). The demo's round is tests/processes/test_property_round.py; the figures of the latest
run are in docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import create_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.platforms.teams.adapter import TeamsAdapter
from bot.platforms.webex.route import WebexAdapter
from bot.runtime import Services, open_services
from bot.simulators.cms import CmsSimulator
from cards import actions, texts
from tests.conftest import RunningCms, make_settings
from tests.fakes.teams import FakeConnector, Posted
from tests.fakes.webex import WebexFake
from tests.harness import submission
from tests.reading import log_lines_into, numbers_shown_anyhow, shows_number_anyhow, strings_in
from tests.sleeps import Sleeps
from tests.strategies import ACTIONS, embedded_identity_numbers

# Four rounds (two platforms, two databases) of 500; the demo's round adds 10,500.
CASES = 500
ROUND = settings(max_examples=CASES, derandomize=True, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
TENANT = "11111111-2222-3333-4444-555555555555"
TOKEN, SECRET = "bot-token-for-tests", "webhook-secret-for-tests"

KEYWORDS = ["/distansmöte ", "distansmote ", "DISTANSMÖTE ", ""]
COMMANDS = ["ny", "lista", "hjälp", "ta bort", "ta bort HC Torsås", "status", "rapport", "rapport från", "", "x"]


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str | tuple[str, str]]:
    """(the number's ten digits, a typed text or (action name, field) to put the number in)."""
    digits, typed = draw(embedded_identity_numbers())
    if draw(st.booleans()):
        return digits, f"{draw(st.sampled_from(KEYWORDS))}{draw(st.sampled_from(COMMANDS))} {typed}"
    action = draw(st.sampled_from(ACTIONS))
    # Every field the action has, its name, its version, and a field no card has.
    where = draw(st.sampled_from([*action.model_fields, "action", "v", "anteckning"]))
    return digits, (action.action, f"{where}\0{typed}")


@dataclass
class Platform:
    """One platform's round: how a case is sent, and what the bot sent in answer."""

    say: Callable[[str], Awaitable[list[Any]]]
    submit: Callable[[dict[str, str]], Awaitable[list[Any]]]
    forms: dict[str, dict[str, str]]  # a valid submission of each action, on a meeting that exists
    sent: Callable[[], list[Any]]
    services: Services
    simulator: CmsSimulator
    database_url: str
    log: list[str] = field(default_factory=list)


def _valid_forms(card: dict[str, Any], new_card: dict[str, Any]) -> dict[str, dict[str, str]]:
    forms = {actions.CreateMeeting.action: submission(new_card, texts.CREATE_ROOM, unit="HC Torsås", date="2026-11-26",
                                              start="13:30")}
    for action, title in [(actions.AddRecipient, texts.ADD_RECIPIENT), (actions.MarkSent, texts.MARK_SENT),
                          (actions.MarkConfirmed, texts.MARK_CONFIRMED),
                          (actions.ShowMore, texts.MORE), (actions.AskDelete, texts.DELETE_ROOM)]:
        forms[action.action] = submission(card, title)
    meeting_id = forms[actions.AskDelete.action]["meeting_id"]
    forms[actions.ConfirmDelete.action] = actions.ConfirmDelete.submit_data(meeting_id=meeting_id, end_calls="false")
    forms[actions.MoveMeeting.action] = actions.MoveMeeting.submit_data(meeting_id=meeting_id, date="2026-11-27",
                                                                        start="10:00", length="60")
    forms[actions.FindColleague.action] = actions.FindColleague.submit_data(meeting_id=meeting_id, colleague="Kalle")
    for action in (actions.ShowInvitation, actions.CancelDelete, actions.HandOver, actions.KeepOwner,
                   actions.AskCancel):
        forms[action.action] = action.submit_data(meeting_id=meeting_id)
    return forms


async def _cms(stack: AsyncExitStack) -> RunningCms:
    simulator = CmsSimulator(username="api", password="simulator")
    server = TestServer(simulator.app)
    await server.start_server()
    stack.push_async_callback(server.close)
    return RunningCms(simulator, str(server.make_url("/api/v1/")))


async def _serve(stack: AsyncExitStack, settings: Settings, adapter: Any) -> tuple[Services, TestClient]:
    services = await open_services(settings, clock=ManualClock(NOW), adapters=[adapter])
    stack.push_async_callback(services.close)
    client = TestClient(TestServer(create_app(services)))
    await client.start_server()
    stack.push_async_callback(client.close)
    return services, client


async def _webex(stack: AsyncExitStack, database_url: str) -> Platform:
    fake = WebexFake(token=TOKEN, webhook_secret=SECRET)
    fake_server = TestServer(fake.app)
    await fake_server.start_server()
    stack.push_async_callback(fake_server.close)
    cms = await _cms(stack)
    settings = make_settings(cms, database_url, webex_token=TOKEN, webex_webhook_secret=SECRET,
                             webex_api_url=str(fake_server.make_url("/v1/")), allowed_webex_org_ids=(fake.org_id,))
    adapter = WebexAdapter(settings, sleep=Sleeps(), workers=4)
    services, client = await _serve(stack, settings, adapter)
    nina = fake.add_person("Nina Sjuksköterska", "nina@region.example", org_id=fake.org_id)

    async def deliver(delivery: Any) -> list[Any]:
        before = len(fake.sent)
        response = await client.post("/webex/events", data=delivery.body, headers=delivery.headers)
        assert response.status == 200
        await adapter.drain()
        return [[m.markdown, m.card] for m in fake.sent[before:]]

    await deliver(fake.user_message(nina, "/distansmöte ny"))
    new = fake.sent[-1]
    await deliver(fake.submit_card(nina, new.id, submission(new.card or {}, texts.CREATE_ROOM, unit="HC Torsås",
                                                               date="2026-11-26", start="13:30")))
    room = next(m for m in reversed(fake.sent) if m.card is not None)
    await deliver(fake.submit_card(nina, room.id, submission(room.card or {}, texts.ADD_RECIPIENT,
                                                             role=texts.RECIPIENT_ROLES[0])))
    room = next(m for m in reversed(fake.sent) if m.card is not None)

    return Platform(say=lambda text: deliver(fake.user_message(nina, text)),
                    submit=lambda inputs: deliver(fake.submit_card(nina, room.id, inputs)),
                    forms=_valid_forms(room.card or {}, new.card or {}),
                    sent=lambda: [[m.markdown, m.card] for m in fake.sent], services=services,
                    simulator=cms.simulator, database_url=database_url)


async def _teams(stack: AsyncExitStack, database_url: str) -> Platform:
    fake = FakeConnector()
    fake_server = TestServer(fake.app)
    await fake_server.start_server()
    stack.push_async_callback(fake_server.close)
    fake.service_url = str(fake_server.make_url("/"))
    cms = await _cms(stack)
    settings = make_settings(cms, database_url, teams_allow_anonymous=True, allowed_teams_tenant_ids=(TENANT,))
    adapter = TeamsAdapter(settings, sleep=Sleeps(), workers=4)
    services, client = await _serve(stack, settings, adapter)
    nina = fake.user("Nina Sjuksköterska", TENANT)
    chat = fake.personal_chat(nina)

    async def deliver(activity: dict[str, Any]) -> list[Any]:
        before = {p.id: p.edits for p in fake.posted}
        response = await client.post("/api/messages", json=activity)
        assert response.status in (200, 201, 202)
        await adapter.drain()
        return [p.activity for p in fake.posted if before.get(p.id) != p.edits]

    def last_card() -> Posted:
        return next(p for p in reversed(fake.in_conversation(chat)) if p.card is not None)

    await deliver(fake.message(nina, chat, "/distansmöte ny"))
    new = last_card()
    new_card = new.card or {}
    await deliver(fake.submit(nina, new, submission(new_card, texts.CREATE_ROOM, unit="HC Torsås",
                                                    date="2026-11-26", start="13:30")))
    await deliver(fake.submit(nina, last_card(), submission(last_card().card or {}, texts.ADD_RECIPIENT,
                                                            role=texts.RECIPIENT_ROLES[0])))
    room = last_card()

    return Platform(say=lambda text: deliver(fake.message(nina, chat, text)),
                    submit=lambda inputs: deliver(fake.submit(nina, room, inputs)),
                    forms=_valid_forms(room.card or {}, new_card),
                    sent=lambda: [p.activity for p in fake.posted], services=services,
                    simulator=cms.simulator, database_url=database_url)


@pytest.fixture(params=["webex", "teams"])
def platform_round(request: pytest.FixtureRequest, database_url: str) -> Iterator[tuple[asyncio.Runner, Platform]]:
    start = _webex if request.param == "webex" else _teams
    with asyncio.Runner() as runner:
        stack = AsyncExitStack()
        platform = runner.run(start(stack, database_url))
        try:
            with log_lines_into(platform.log):
                yield runner, platform
        finally:
            runner.run(stack.aclose())


def _dump(database_url: str) -> str:
    """The database as its own dump tool writes it."""
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.split("///", 1)[1]) as connection:
            return "\n".join(connection.iterdump())
    url = urlsplit(database_url)
    return subprocess.run(["pg_dump", "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432),
                           "-U", url.username or "postgres", url.path.lstrip("/")],
                          check=True, capture_output=True, text=True).stdout


def test_a_personal_identity_number_is_refused_everywhere_and_shows_nowhere(
        platform_round: tuple[asyncio.Runner, Platform]) -> None:
    runner, platform = platform_round
    numbers: list[str] = []

    @ROUND
    @given(cases())
    def case(drawn: tuple[str, str | tuple[str, str]]) -> None:
        digits, where = drawn
        numbers.append(digits)

        async def run() -> None:
            requests = len(platform.simulator.requests)
            if isinstance(where, str):
                answers = await platform.say(where)
            else:
                action, spot = where
                name, typed = spot.split("\0", 1)
                answers = await platform.submit(platform.forms[action] | {name: typed})
            shown = list(strings_in(answers, keys=False))
            assert any(texts.PERSONAL_NUMBER_REFUSED in text for text in shown), shown
            assert not shows_number_anyhow(digits, answers), "the number was echoed"
            assert len(platform.simulator.requests) == requests, "the CMS was asked"

        runner.run(run())

    case()
    assert len(numbers) >= CASES
    sent, dump = platform.sent(), _dump(platform.database_url)
    assert platform.log and "CREATE TABLE" in dump
    assert not numbers_shown_anyhow(numbers, sent), "a number reached a chat message"
    assert not numbers_shown_anyhow(numbers, platform.log), "a number reached the log"
    assert not numbers_shown_anyhow(numbers, dump), "a number reached the database"
