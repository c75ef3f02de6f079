"""Faults on the Webex path, on PostgreSQL: the bot's database connections dropped (before a
webhook, while its job runs, at every step of the routine), the database away for a while, and a
Webex API that answers 429, 502 or 503 or whose people lookup fails. Each time: the webhook is
answered 200 only once its job is stored, a transient failure never marks the job done, and the
person gets each answer once."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from random import Random
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.platforms.webex.route import WebexAdapter
from bot.runtime import open_services
from bot.services.job_workers import BACKOFF_SECONDS
from bot.store.queues import InboundJob
from cards import texts
from tests.conftest import RunningCms, make_settings
from tests.database_faults import PostgresFaults
from tests.fakes.webex import Delivery, SentMessage, WebexFake
from tests.harness import submission
from tests.platforms.webex_harness import REGION_DOMAIN, SECRET, TOKEN, Harness
from tests.sleeps import Sleeps
from tests.waiting import eventually

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


async def test_a_command_answered_while_the_database_is_away_is_recorded_done_once_it_is_back(
        webex: Harness, nina: dict[str, Any], database: PostgresFaults, answered: None) -> None:
    delivery = webex.fake.user_message(nina, HELP)
    webex.fake.pause()
    assert await webex.post(delivery) == 200  # stored: from here on it must not be lost
    await database.go_down()
    try:
        # A job's first run reads nothing, and help writes nothing before its answer: answered now,
        # its completion waits for the database.
        webex.fake.resume()
        await eventually(lambda: len(_answers(webex, nina)) == 2, within=10)
    finally:
        await database.come_back()
    await webex.adapter.drain()  # the completion, written once the database is back
    assert await _state(webex, delivery) == "done"
    assert len(_answers(webex, nina)) == 2  # once: the job did not run again


@pytest.mark.parametrize("runs_again", ["here", "in-another-instance"])
async def test_a_command_whose_handler_meets_the_database_away_is_answered_once_it_is_back(
        webex: Harness, nina: dict[str, Any], database: PostgresFaults, clock: ManualClock, settings: Settings,
        sleeps: Sleeps, aiohttp_client: Any, caplog: pytest.LogCaptureFixture, answered: None,
        runs_again: str) -> None:
    # The kept insert connection lives on: the webhook is stored, then the handler finds no
    # connection, and the event cannot be recorded handled either.
    await database.go_down(sparing="INSERT INTO inbound_%")
    try:
        delivery = webex.fake.user_message(nina, "/distansmöte ny")
        assert await webex.post(delivery) == 200
        await eventually(lambda: "an inbound job failed (database" in caplog.text, within=10)
    finally:
        await database.come_back()
    await webex.adapter.drain()
    assert len(_answers(webex, nina)) == 1
    if runs_again == "here":
        clock.advance(RETRY_DUE)
        await webex.adapter.drain()
    else:  # the double fault: this instance stops, and the one that runs the job answers
        await webex.client.close()
        other = WebexAdapter(settings, sleep=sleeps, workers=4)
        services = await open_services(settings, clock=clock, adapters=[other])
        try:
            await aiohttp_client(create_app(services))
            clock.advance(RETRY_DUE)
            await other.drain()
        finally:
            await services.close()
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


# -- the routine under faults ---------------------------------------------------------------------

Deliver = Callable[[Delivery], Awaitable[None]]


async def _routine(webex: Harness, person: dict[str, Any], deliver: Deliver) -> list[int]:
    """The whole routine, from ``ny`` to the deleted room, each webhook delivered by ``deliver``
    (under some fault, until it is handled); returns the number of answers to each step."""
    fake, counts = webex.fake, []

    async def step(delivery: Delivery) -> SentMessage:
        before = len(_answers(webex, person))
        await deliver(delivery)
        assert await _state(webex, delivery) == "done"
        answers = _answers(webex, person)[before:]
        counts.append(len(answers))
        assert answers, f"step {len(counts)}: no answer"
        return ([m for m in answers if m.card is not None] or answers)[-1]

    def click(card: SentMessage, button: str, **inputs: str) -> Delivery:
        assert card.card is not None
        return fake.submit_card(person, card.id, submission(card.card, button, **inputs))

    form = await step(fake.user_message(person, "/distansmöte ny"))
    room_card = await step(click(form, texts.CREATE_ROOM, unit="HC Torsås", date="2026-11-26", start="13:30",
                                 length="60"))
    room_card = await step(click(room_card, texts.ADD_RECIPIENT, label="Kommunen – hemtjänsten",
                                 channel="messenger"))
    room_card = await step(click(room_card, texts.MARK_SENT))
    room_card = await step(click(room_card, texts.MARK_CONFIRMED))
    question = await step(click(room_card, texts.DELETE_ROOM))
    await step(click(question, texts.DELETE_YES))
    before, after = texts.DELETED_TEXT.split("{room}")
    deleted = fake.sent[-1].markdown or ""
    assert deleted.startswith(before + "HC Torsås ") and deleted.endswith(after)
    return counts


async def _nothing_lost_or_doubled(webex: Harness, cms: RunningCms, *, routines: int) -> None:
    assert cms.simulator.snapshot() == []  # every room deleted
    assert cms.simulator.requests.count("POST /api/v1/coSpaces") == routines  # none made twice
    invitations = [m for m in webex.fake.sent if m.card is None and "Samtals-ID" in (m.markdown or "")]
    assert len(invitations) == routines
    assert set((await _jobs(webex)).values()) == {"done"}


async def test_the_routine_survives_its_connections_killed_before_and_during_every_step(
        webex: Harness, nina: dict[str, Any], database: PostgresFaults, cms: RunningCms) -> None:
    async def killed_before_and_during(delivery: Delivery) -> None:
        await database.kill_connections()
        webex.fake.pause()  # the job waits for Webex while the connections are killed again
        assert await webex.post(delivery) == 200
        await database.kill_connections()
        webex.fake.resume()
        await webex.adapter.drain()

    assert await _routine(webex, nina, killed_before_and_during) == [1, 2, 1, 1, 1, 1, 1]
    await _nothing_lost_or_doubled(webex, cms, routines=1)


ROUND_ROUTINES = 8
ROUND_SEED = 20261129


async def test_a_round_of_routines_under_random_database_and_webex_faults_loses_and_doubles_nothing(
        webex: Harness, nina: dict[str, Any], database: PostgresFaults, cms: RunningCms, clock: ManualClock,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    """Each step of each routine meets one fault, chosen at random (seeded): the invariants hold
    after every routine, and the round's figures are printed for docs/reliability.md."""
    random = Random(ROUND_SEED)
    fake = webex.fake
    tally: Counter[str] = Counter()

    def failures() -> int:
        return sum("an inbound job failed (" in r.getMessage() for r in caplog.records)

    async def run_again_later() -> None:
        clock.advance(RETRY_DUE)
        await webex.adapter.drain()

    async def clean(delivery: Delivery) -> None:
        await webex.deliver(delivery)

    async def kill_before(delivery: Delivery) -> None:
        tally["connections killed"] += await database.kill_connections()
        await webex.deliver(delivery)

    async def kill_during(delivery: Delivery) -> None:
        fake.pause()
        assert await webex.post(delivery) == 200
        tally["connections killed"] += await database.kill_connections()
        fake.resume()
        await webex.adapter.drain()

    async def outage_during(delivery: Delivery) -> None:
        fake.pause()
        assert await webex.post(delivery) == 200
        failed = failures()
        await database.go_down()
        try:
            fake.resume()
            await eventually(lambda: failures() > failed, within=10)
        finally:
            await database.come_back()
        await webex.adapter.drain()
        await run_again_later()

    async def outage_before(delivery: Delivery) -> None:
        await database.go_down()
        try:
            assert await webex.post(delivery) == 503
            tally["webhooks refused 503"] += 1
        finally:
            await database.come_back()
        await webex.deliver(delivery)  # Webex delivers it again

    async def webex_fetch_5xx(delivery: Delivery) -> None:
        fetched = "messages/" if delivery.envelope["resource"] == "messages" else "attachment/"
        fake.fail_next(random.choice((502, 503)), count=6, method="GET", path=fetched)
        await webex.deliver(delivery)
        await run_again_later()

    async def webex_send_429_5xx(delivery: Delivery) -> None:
        fake.fail_next(429, count=3, retry_after=random.choice(("2", "rand(30)")), method="POST", path="messages")
        fake.fail_next(random.choice((502, 503)), count=4, method="POST", path="messages")
        await webex.deliver(delivery)

    faults: dict[str, Deliver] = {f.__name__: f for f in (
        clean, kill_before, kill_during, outage_during, outage_before, webex_fetch_5xx, webex_send_429_5xx)}

    async def under_a_random_fault(delivery: Delivery) -> None:
        name = random.choice(list(faults))
        tally[name] += 1
        await faults[name](delivery)

    for routine in range(1, ROUND_ROUTINES + 1):
        assert await _routine(webex, nina, under_a_random_fault) == [1, 2, 1, 1, 1, 1, 1]
        await _nothing_lost_or_doubled(webex, cms, routines=routine)

    injected = sum(1 for _, _, status in fake.requests if status in (429, 502, 503))
    steps = ", ".join(f"{name} {tally[name]}" for name in faults)
    with capsys.disabled():
        print(f"\nfault round (seed {ROUND_SEED}): {ROUND_ROUTINES} routines, {ROUND_ROUTINES * 7} webhooks; "
              f"steps under each fault: {steps}; {tally['connections killed']} connections killed; "
              f"{tally['webhooks refused 503']} webhooks answered 503 and delivered again; "
              f"{injected} Webex errors answered; {failures()} jobs handed back; {len(fake.sent)} answers "
              f"(as without faults); 0 lost, 0 doubled")


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
