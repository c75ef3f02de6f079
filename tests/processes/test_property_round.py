"""The property round: over ten thousand generated commands and card submissions, sent as a page
would send them to the demo adapter's HTTP API, into the real app (router, handlers, store on
SQLite, CMS simulator over HTTP).

After every case: the answer is not an internal error; every reply is non-empty and Swedish (made
from ``cards.texts``, or a room's name); a personnummer in the input is refused and shown nowhere;
the CMS holds exactly the rooms of the live meetings, no more and no fewer (nothing half-done).
At the end, no generated number is anywhere in the store.

The figures of the latest run are in docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app import SERVICES
from bot.clock import ManualClock
from bot.core import CARD_VERSION
from bot.demo.runner import DemoParts, demo_parts
from bot.demo.users import DEMO_USERS
from bot.store.schema import Meeting, MeetingState, Recipient
from cards import texts
from tests.reading import log_lines_into, numbers_shown_anyhow, shows_number_anyhow, strings_in
from tests.store.rows import everything_stored
from tests.strategies import ACTIONS, embedded_identity_numbers

# A fixed profile: the same cases on every run and machine, no time limit per case (the machine
# may be busy), nothing kept between runs. Three rounds of 3,500: 10,500 cases in all.
CASES_PER_ROUND = 3_500
ROUND = settings(max_examples=CASES_PER_ROUND, derandomize=True, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # a Wednesday morning in Stockholm
USERS = [user.id for user in DEMO_USERS]


# -- what a Swedish answer is -------------------------------------------------------------------

def _pattern(sentence: str) -> str:
    parts = re.split(r"\{[^}]*\}", sentence)
    return ".+?".join(re.escape(part) for part in parts)


_TEXTS = [s for name, value in vars(texts).items() if not name.startswith("_")
          for s in strings_in(value, keys=False) if s.strip()]
_WHOLE = re.compile("|".join(f"(?:{_pattern(s)})" for s in _TEXTS), re.DOTALL)
_LINE = re.compile("|".join(f"(?:{_pattern(line)})" for s in _TEXTS for line in s.splitlines() if line.strip()))


def from_texts(text: str) -> bool:
    """Made from ``cards.texts``: whole, or line by line as the invitation is."""
    return bool(_WHOLE.fullmatch(text)) or all(not line or _LINE.fullmatch(line) for line in text.splitlines())


# -- the running app ------------------------------------------------------------------------------

@dataclass
class Round:
    """The demo app on its own event loop, driven case by case from a synchronous Hypothesis test."""

    parts: DemoParts
    client: TestClient
    numbers: set[str] = field(default_factory=set)  # every personnummer sent, as its 10 digits
    cases: int = 0
    cms_asked: int = 0  # requests the last case made to the CMS
    log: list[str] = field(default_factory=list)

    @property
    def services(self) -> Any:
        return self.parts.app[SERVICES]

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        requests = len(self.parts.simulator.requests)
        response = await self.client.post(path, json=body)
        assert response.status < 500, await response.text()
        self.cms_asked = len(self.parts.simulator.requests) - requests
        return response.status, await response.json()

    async def meeting_ids(self) -> list[str]:
        async with self.services.sessions() as session:
            return list(await session.scalars(select(Meeting.id).order_by(Meeting.id)))

    async def recipient_ids(self) -> list[str]:
        async with self.services.sessions() as session:
            return list(await session.scalars(select(Recipient.id).order_by(Recipient.id)))

    async def room_names(self) -> set[str]:
        async with self.services.sessions() as session:
            return set(await session.scalars(select(Meeting.room_name)))

    def refused_by_the_api(self, status: int, answer: dict[str, Any], sent: list[str], *,
                           blank: bool = False) -> bool:
        """Whether the API refused the request before the bot saw it, as it must refuse a blank
        text or one that is not Unicode (a lone surrogate): a 400 that echoes nothing."""
        not_unicode = any(0xD800 <= ord(c) <= 0xDFFF for value in sent for c in value)
        if status != 400:
            assert not not_unicode, "a lone surrogate reached the bot"
            return False
        assert (blank or not_unicode) and answer["error"] == "invalid request", answer
        self.cases += 1
        return True

    async def check(self, status: int, answer: dict[str, Any], *, number: str | None) -> None:
        """The invariants after one case."""
        self.cases += 1
        if number is not None:
            self.numbers.add(number)
        assert status == 200, answer
        replies = [m for m in answer["messages"] if m["from"] == "bot"]
        assert replies, "no answer"
        for reply in replies:
            assert reply["text"].strip(), "an empty answer"
            assert reply["text"] != texts.INTERNAL_ERROR
            # Swedish: from cards.texts, or the name of a room (the title of an updated room card).
            assert from_texts(reply["text"]) or reply["text"] in await self.room_names(), reply["text"]
            assert reply["card"] is None or reply["card"]["type"] == "AdaptiveCard"
        if number is not None:
            assert [r["text"] for r in replies] == [texts.PERSONAL_NUMBER_REFUSED]
            assert not shows_number_anyhow(number, answer["messages"]), "the number was echoed"
            assert self.cms_asked == 0, "the CMS was asked"
        await self.check_nothing_half_done()

    async def check_nothing_half_done(self) -> None:
        async with self.services.sessions() as session:
            live = dict((await session.execute(
                select(Meeting.space_id, Meeting.room_name).where(Meeting.state != MeetingState.DELETED))).all())
        on_cms = {space["id"]: space["name"] for space in self.parts.simulator.snapshot()}
        assert on_cms == live, "the CMS and the store disagree about which rooms exist"


@pytest.fixture
def app_round(tmp_path: Path) -> Iterator[tuple[asyncio.Runner, Round]]:
    with asyncio.Runner() as runner:
        stack = AsyncExitStack()

        async def start() -> Round:
            parts = await stack.enter_async_context(demo_parts(tmp_path / "round", clock=ManualClock(NOW)))
            client = TestClient(TestServer(parts.app))
            await client.start_server()
            stack.push_async_callback(client.close)
            return Round(parts, client)

        started = runner.run(start())
        try:
            with log_lines_into(started.log):
                yield runner, started
        finally:
            runner.run(stack.aclose())


# -- strategies ----------------------------------------------------------------------------------

KEYWORDS = ["/distansmöte ", "/distansmote ", "distansmöte ", "DISTANSMÖTE ", "/Distansmöte  ", ""]
WORDS = ["ny", "lista", "hjälp", "hjalp", "help", "ta bort", "Ta Bort", "status", "e-post", "mejl", "NY", "x"]
UNITS = ["HC Torsås", "Avd 12", "Kvinnokliniken Växjö", "HC Ljungby", "hc torsås", "Vårdcentralen Ö"]
LABELS = ["Kommunen – hemtjänsten", "Biståndshandläggare", "Hemsjukvården (Torsås)", "Anhörig"]
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
UNICODE_TEXT = st.text(st.characters(exclude_categories=["Cn"]), max_size=40)  # bidi, lone surrogates


@st.composite
def with_number(draw: st.DrawFn, text: st.SearchStrategy[str]) -> tuple[str, str | None]:
    """``text``, sometimes with a personnummer in it, digits or text right beside it: (what is sent,
    the number's 10 digits or None)."""
    plain = draw(text)
    if not draw(st.booleans()):
        return plain, None
    digits, typed = draw(embedded_identity_numbers())
    return f"{plain} {typed}".strip(), digits


def commands() -> st.SearchStrategy[tuple[str, str | None]]:
    rest = st.one_of(st.just(""), st.sampled_from([f"{u} {n}" for u in UNITS for n in (1, 2, 9)]), ANY_TEXT,
                     UNICODE_TEXT)
    typed = st.builds(lambda k, w, r: f"{k}{w} {r}", st.sampled_from(KEYWORDS), st.sampled_from(WORDS), rest)
    return with_number(st.one_of(typed, ANY_TEXT, UNICODE_TEXT))


def _dates() -> st.SearchStrategy[str]:
    days = st.dates(min_value=date(2026, 11, 20), max_value=date(2027, 12, 31)).map(date.isoformat)
    return st.one_of(days, days, st.sampled_from(["26/11", "i morgon", "2026-02-30", ""]), ANY_TEXT)


def _times() -> st.SearchStrategy[str]:
    clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
    return st.one_of(clock, clock, st.sampled_from(["25:00", "8", "13.30", ""]), ANY_TEXT)


# A reference to a meeting or recipient that exists when the case runs: ("known", index),
# else an id that exists nowhere, or junk.
REFERENCES = st.one_of(st.tuples(st.just("known"), st.integers(0, 10_000)), st.uuids().map(str),
                       st.text(max_size=40))
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "request_id": st.one_of(st.uuids().map(str), st.text(min_size=0, max_size=70)),
    "unit": st.one_of(st.sampled_from(UNITS), ANY_TEXT, UNICODE_TEXT),
    "date": _dates(),
    "start": _times(),
    "length": st.one_of(st.integers(-10, 600).map(str), ANY_TEXT),
    "label": st.one_of(st.sampled_from(LABELS), ANY_TEXT, UNICODE_TEXT),
    "role": st.one_of(st.sampled_from(texts.RECIPIENT_ROLES), ANY_TEXT),
    "channel": st.sampled_from(["link", "messenger", "phone", "email", "", "fax"]),
    "meeting_id": REFERENCES,
    "recipient_id": REFERENCES,
    "end_calls": st.sampled_from(["true", "false", "kanske"]),
}


@st.composite
def submissions(draw: st.DrawFn) -> tuple[dict[str, Any], str | None]:
    """A card submission: a known action (now and then an old or unknown one), its fields valid or
    not, sometimes a field left out or one too many, and now and then a personnummer in a field."""
    action = draw(st.sampled_from(ACTIONS))
    inputs: dict[str, Any] = {"action": action.action, "v": draw(st.sampled_from([CARD_VERSION] * 9 + ["0"]))}
    if draw(st.integers(0, 30)) == 0:
        inputs["action"] = draw(st.sampled_from(["launch_rockets", "", "create_meeting "]))
    for name in action.model_fields:
        if name in FIELDS and draw(st.integers(0, 9)) > 0:
            inputs[name] = draw(FIELDS[name])
    if draw(st.integers(0, 9)) == 0:
        inputs[draw(st.text(min_size=1, max_size=20))] = draw(ANY_TEXT)
    number = None
    if draw(st.integers(0, 5)) == 0:
        field_name = draw(st.sampled_from([*FIELDS, "action", "v", "anteckning"]))
        digits, typed = draw(embedded_identity_numbers())
        before = inputs.get(field_name, "")
        inputs[field_name] = f"{before if isinstance(before, str) else ''}{typed}"
        number = digits
    return inputs, number


@st.composite
def routine_steps(draw: st.DrawFn) -> tuple[dict[str, Any], str | None]:
    """Mostly well-formed steps of the routine on meetings that exist: create, add, mark, delete."""
    action = draw(st.sampled_from(ACTIONS[:1] * 3 + ACTIONS))
    inputs: dict[str, Any] = {"action": action.action, "v": CARD_VERSION}
    good = {
        "request_id": st.uuids().map(str),
        "unit": st.sampled_from(UNITS),
        "date": st.dates(min_value=date(2026, 11, 25), max_value=date(2027, 1, 31)).map(date.isoformat),
        "start": st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(7, 18), st.sampled_from([0, 30])),
        "length": st.sampled_from(["15", "30", "60", "90"]),
        "label": st.sampled_from(LABELS),
        "channel": st.sampled_from(["link", "messenger", "phone"]),
        "meeting_id": st.tuples(st.just("known"), st.integers(0, 10_000)),
        "recipient_id": st.tuples(st.just("known"), st.integers(0, 10_000)),
        "end_calls": st.sampled_from(["true", "false"]),
    }
    for name in action.model_fields:
        if name in good:
            inputs[name] = draw(good[name])
    return inputs, None


async def _resolve(app: Round, inputs: dict[str, Any]) -> dict[str, str]:
    """Known references become the id of a meeting or recipient that exists now."""
    resolved = {}
    for key, value in inputs.items():
        if isinstance(value, tuple):
            ids = await (app.meeting_ids() if key == "meeting_id" else app.recipient_ids())
            value = ids[value[1] % len(ids)] if ids else str(uuid.uuid4())
        resolved[key] = value
    return resolved


# -- the round ------------------------------------------------------------------------------------

def _finish(app: Round, runner: asyncio.Runner) -> None:
    assert app.cases >= CASES_PER_ROUND
    stored = runner.run(everything_stored(app.services))
    assert not numbers_shown_anyhow(app.numbers, stored), "a personnummer reached the store"
    leaked = numbers_shown_anyhow(app.numbers, app.log)
    assert not leaked, [line for line in app.log if numbers_shown_anyhow(leaked, line)][:5]


def test_commands(app_round: tuple[asyncio.Runner, Round]) -> None:
    runner, app = app_round

    @ROUND
    @given(st.sampled_from(USERS), commands())
    def case(user: str, command: tuple[str, str | None]) -> None:
        text, number = command

        async def run() -> None:
            status, answer = await app.post("/api/demo/message", {"user": user, "text": text})
            if app.refused_by_the_api(status, answer, [text], blank=all(c.isspace() for c in text)):
                return
            if number is not None:
                assert answer["messages"][0]["text"] == texts.DEMO_HIDDEN_TEXT
            await app.check(status, answer, number=number)

        runner.run(run())

    case()
    _finish(app, runner)


@pytest.mark.parametrize("steps", [submissions, routine_steps], ids=["any-submission", "routine-steps"])
def test_card_submissions(app_round: tuple[asyncio.Runner, Round], steps: Callable[[], Any]) -> None:
    runner, app = app_round

    @ROUND
    @given(st.sampled_from(USERS), steps())
    def case(user: str, submission: tuple[dict[str, Any], str | None]) -> None:
        inputs, number = submission

        async def run() -> None:
            sent = await _resolve(app, inputs)
            status, answer = await app.post("/api/demo/submit", {"user": user, "inputs": sent})
            if not app.refused_by_the_api(status, answer, [*sent, *sent.values()]):
                await app.check(status, answer, number=number)

        runner.run(run())

    case()
    _finish(app, runner)

