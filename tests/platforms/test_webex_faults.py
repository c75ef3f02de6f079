"""Faults on the Webex path, on PostgreSQL: the bot's database connections dropped (before a
webhook, while its job runs, at every step of the routine), the database away for a while, and a
Webex API that answers 429, 502 or 503 or whose people lookup fails. Each time: the webhook is
answered 200 only once its job is stored, a transient failure never marks the job done, and the
person gets each answer once."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.config import Settings
from bot.db import InboundJob
from bot.services.inbound_jobs import BACKOFF_SECONDS
from bot.simulators.webex import Delivery, SentMessage, WebexFake
from cards import texts
from tests.conftest import RunningCms, make_settings
from tests.database_faults import PostgresFaults, eventually
from tests.harness import submission
from tests.platforms.test_webex import (  # noqa: F401 - fixtures
    REGION_DOMAIN, SECRET, TOKEN, Harness, fake_webex, nina, services, webex,
)

HELP = "/distansmöte hjälp"
RETRY_DUE = timedelta(seconds=BACKOFF_SECONDS + 1)


@pytest.fixture
def settings(fake_webex: tuple[WebexFake, str], cms: RunningCms, postgres_url: str) -> Settings:
    fake, url = fake_webex
    return make_settings(
        cms, postgres_url, webex_token=TOKEN, webex_webhook_secret=SECRET, webex_api_url=url,
        allowed_webex_org_ids=(fake.org_id,), allowed_email_domains=(REGION_DOMAIN,),
    )


@pytest.fixture
def database(settings: Settings) -> PostgresFaults:
    return PostgresFaults(settings.database_url)


async def _jobs(webex: Harness) -> dict[str, str]:
    async with webex.services.engine.connect() as connection:
        return dict((await connection.execute(select(InboundJob.key, InboundJob.state))).all())


async def _state(webex: Harness, delivery: Delivery) -> str:
    return (await _jobs(webex))[f"{delivery.envelope['resource']}:{delivery.data_id}"]


def _answers(webex: Harness, person: dict[str, Any]) -> list[SentMessage]:
    return webex.fake.sent_to(person_id=person["id"])


@pytest.fixture
async def answered(webex: Harness, nina: dict[str, Any]) -> None:
    """One command answered first, so the pool and the kept connections are open when the fault comes."""
    await webex.deliver(webex.fake.user_message(nina, HELP))


# -- the database drops the bot's connections --------------------------------------------------

async def test_the_first_webhook_after_the_connections_were_dropped_is_stored_and_answered(
        webex: Harness, nina: dict[str, Any], database: PostgresFaults, answered: None) -> None:
    assert await database.kill_connections() >= 2

    delivery = webex.fake.user_message(nina, HELP)
    assert await webex.post(delivery) == 200
    await webex.adapter.drain()
    assert len(_answers(webex, nina)) == 2
    assert await _state(webex, delivery) == "done"


async def test_connections_dropped_while_a_job_runs_do_not_lose_its_answer(
        webex: Harness, nina: dict[str, Any], database: PostgresFaults, answered: None) -> None:
    delivery = webex.fake.user_message(nina, HELP)
    webex.fake.pause()  # the job waits for its message while the database drops everything
    assert await webex.post(delivery) == 200
    await database.kill_connections()
    webex.fake.resume()
    await webex.adapter.drain()
    assert len(_answers(webex, nina)) == 2
    assert await _state(webex, delivery) == "done"


async def test_a_job_whose_dedupe_insert_fails_is_handed_back_and_answered_later(
        webex: Harness, nina: dict[str, Any], database: PostgresFaults, answered: None, clock: ManualClock,
        caplog: pytest.LogCaptureFixture) -> None:
    delivery = webex.fake.user_message(nina, HELP)
    webex.fake.pause()
    assert await webex.post(delivery) == 200  # stored: from here on it must not be lost
    await database.go_down()
    try:
        webex.fake.resume()  # the job reaches the bot's dedupe insert, which cannot be written
        await eventually(lambda: "an inbound job failed (database" in caplog.text)
        assert len(_answers(webex, nina)) == 1
    finally:
        await database.come_back()

    await webex.adapter.drain()  # the hand-back is recorded: pending, not before its backoff
    assert await _state(webex, delivery) == "pending"
    assert len(_answers(webex, nina)) == 1
    clock.advance(RETRY_DUE)
    await webex.adapter.drain()
    assert len(_answers(webex, nina)) == 2
    assert await _state(webex, delivery) == "done"


async def test_a_command_whose_handler_meets_the_database_away_is_answered_once_it_is_back(
        webex: Harness, nina: dict[str, Any], database: PostgresFaults, clock: ManualClock,
        caplog: pytest.LogCaptureFixture, answered: None) -> None:
    # The kept insert connections live on: the webhook is stored and the event recorded as seen,
    # then the handler finds no connection, and the record cannot be undone either.
    await database.go_down(sparing="INSERT INTO inbound_%")
    try:
        delivery = webex.fake.user_message(nina, "/distansmöte ny")
        assert await webex.post(delivery) == 200
        await eventually(lambda: "an inbound job failed (database" in caplog.text)
        assert "a failed event could not be unrecorded" in caplog.text
    finally:
        await database.come_back()
    await webex.adapter.drain()
    assert len(_answers(webex, nina)) == 1
    clock.advance(RETRY_DUE)
    await webex.adapter.drain()
    form = _answers(webex, nina)[-1]
    assert len(_answers(webex, nina)) == 2 and form.card is not None  # the new-meeting card, once
    assert await _state(webex, delivery) == "done"


async def test_a_webhook_that_cannot_be_stored_is_not_answered_200(
        webex: Harness, nina: dict[str, Any], database: PostgresFaults, answered: None) -> None:
    delivery = webex.fake.user_message(nina, HELP)
    await database.go_down()
    try:
        assert await webex.post(delivery) == 503  # Webex delivers it again
    finally:
        await database.come_back()
    await webex.deliver(delivery)  # the redelivery
    assert len(_answers(webex, nina)) == 2


# -- a PostgreSQL connection killed at each step of the routine ---------------------------------

async def test_the_routine_survives_its_connections_killed_before_and_during_every_step(
        webex: Harness, nina: dict[str, Any], database: PostgresFaults, cms: RunningCms) -> None:
    fake = webex.fake
    steps = 0

    async def step(delivery: Delivery) -> SentMessage:
        """Kill the connections before the webhook and again while its job runs; one answer."""
        nonlocal steps
        steps += 1
        before = len(_answers(webex, nina))
        await database.kill_connections()
        fake.pause()
        assert await webex.post(delivery) == 200
        await database.kill_connections()
        fake.resume()
        await webex.adapter.drain()
        assert await _state(webex, delivery) == "done"
        answers = _answers(webex, nina)[before:]
        assert answers, f"step {steps}: no answer"
        return [m for m in answers if m.card is not None][-1] if any(m.card for m in answers) else answers[-1]

    def click(card: SentMessage, button: str, **inputs: str) -> Delivery:
        assert card.card is not None
        return fake.submit_card(nina, card.id, submission(card.card, button, **inputs))

    form = await step(fake.user_message(nina, "/distansmöte ny"))
    room_card = await step(click(form, texts.CREATE_ROOM, unit="HC Torsås", date="2026-11-26", start="13:30",
                                 length="60"))
    room_card = await step(click(room_card, texts.ADD_RECIPIENT, label="Kommunen – hemtjänsten",
                                 channel="messenger"))
    room_card = await step(click(room_card, texts.MARK_SENT))
    room_card = await step(click(room_card, texts.MARK_CONFIRMED))
    question = await step(click(room_card, texts.DELETE_ROOM))
    await step(click(question, texts.DELETE_YES))

    # Nothing lost, nothing doubled: one room made and deleted, each answer once.
    assert cms.simulator.snapshot() == []
    created = [r for r in cms.simulator.requests if r == "POST /api/v1/coSpaces"]
    assert len(created) == 1
    invitations = [m for m in fake.sent if m.card is None and "Samtals-ID" in (m.markdown or "")]
    assert len(invitations) == 1
    assert fake.sent[-1].markdown == texts.DELETED_TEXT.format(room="HC Torsås 1")
    assert set((await _jobs(webex)).values()) == {"done"}


# -- Webex faults ---------------------------------------------------------------------------------

async def test_a_people_lookup_that_fails_for_15_seconds_is_tried_again_and_answered(
        webex: Harness, clock: ManualClock) -> None:
    # Allowed by organisation only, so the sender must be looked up.
    olle = webex.fake.add_person("Olle Regionsson", "olle@elsewhere.example")
    webex.fake.fail_next(503, count=6, method="GET", path="people/")  # every try of the first attempt
    delivery = webex.fake.user_message(olle, HELP)
    await webex.deliver(delivery)
    assert sum(webex.sleeps.seconds) == pytest.approx(15.5)  # the client's own retries
    assert _answers(webex, olle) == []
    assert await _state(webex, delivery) == "pending"

    clock.advance(RETRY_DUE)
    await webex.adapter.drain()
    [answer] = _answers(webex, olle)
    assert answer.card is not None
    assert await _state(webex, delivery) == "done"


async def test_a_message_that_cannot_be_fetched_for_a_while_is_answered_later(
        webex: Harness, nina: dict[str, Any], clock: ManualClock) -> None:
    webex.fake.fail_next(502, count=6, method="GET", path="messages/")
    delivery = webex.fake.user_message(nina, HELP)
    await webex.deliver(delivery)
    assert _answers(webex, nina) == []  # not "something went wrong": it is only late
    clock.advance(RETRY_DUE)
    await webex.adapter.drain()
    [answer] = _answers(webex, nina)
    assert answer.markdown != texts.INTERNAL_ERROR
    assert await _state(webex, delivery) == "done"


async def test_a_reply_refused_with_429_and_5xx_for_a_while_goes_out_once(
        webex: Harness, nina: dict[str, Any]) -> None:
    webex.fake.fail_next(429, count=4, retry_after=30, method="POST", path="messages")
    webex.fake.fail_next(502, count=2, method="POST", path="messages")
    webex.fake.fail_next(503, count=3, method="POST", path="messages")
    delivery = webex.fake.user_message(nina, HELP)
    await webex.deliver(delivery)
    [answer] = _answers(webex, nina)
    assert answer.card is not None
    assert 30.0 in webex.sleeps.seconds  # Retry-After honoured
    assert await _state(webex, delivery) == "done"


async def test_a_reply_webex_never_takes_fails_the_job_and_is_not_marked_done(
        webex: Harness, nina: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    webex.fake.fail_next(503, count=1000, method="POST", path="messages")
    delivery = webex.fake.user_message(nina, HELP)
    with caplog.at_level(logging.WARNING):
        await webex.deliver(delivery)
    assert webex.fake.sent == []
    assert await _state(webex, delivery) == "failed"
    assert "the event failed" in caplog.text
