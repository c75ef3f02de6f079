"""The webhook answer under load: it never waits for Webex or for other work, the backlog waits in the
store, and what the store holds is processed once, also after a restart. And what one command costs
the store: the statements a signed ``hjälp`` runs, counted with SQLAlchemy's engine events."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.app import create_app
from bot.clock import ManualClock
from bot.platforms.webex.route import WebexAdapter
from bot.platforms.webex.translate import job_key, parse_envelope
from bot.runtime import Services
from bot.services.inbound_jobs import LEASE, InboundJobs
from bot.store.queues import InboundJob
from tests.fakes.webex import Delivery, WebexFake
from tests.platforms.webex_harness import REGION_DOMAIN, Harness

ANSWER_WITHIN = 0.5  # seconds; an upper bound with a wide margin (answers take milliseconds)


def _people(fake: WebexFake, count: int) -> list[dict[str, Any]]:
    # Half allowed by e-mail domain (no lookup), half by organisation only (looked up).
    return [fake.add_person(f"Person {n}", f"p{n}@{REGION_DOMAIN if n % 2 else 'elsewhere.example'}")
            for n in range(count)]


async def _timed_post(webex: Harness, delivery: Delivery) -> tuple[int, float]:
    started = time.monotonic()
    status = await webex.post(delivery)
    return status, time.monotonic() - started


async def _job_states(services: Services) -> dict[str, int]:
    async with services.engine.connect() as connection:
        rows = await connection.execute(select(InboundJob.state, func.count()).group_by(InboundJob.state))
        return {state: count for state, count in rows}


async def test_the_webhook_answer_does_not_wait_for_a_slow_webex_api(webex: Harness) -> None:
    people = _people(webex.fake, 10)  # more than the four workers: the rest wait in the store
    deliveries = [webex.fake.user_message(person, "/distansmöte hjälp") for person in people]
    webex.fake.pause()  # Webex answers nothing until resumed: the slowest it can be
    try:
        async with asyncio.timeout(10 * ANSWER_WITHIN):  # fail, not hang, if an answer waits for Webex
            answers = await asyncio.gather(*(_timed_post(webex, delivery) for delivery in deliveries))
        assert [status for status, _ in answers] == [200] * len(deliveries)
        assert max(seconds for _, seconds in answers) < ANSWER_WITHIN
        assert webex.fake.sent == []
    finally:
        webex.fake.resume()
    await webex.adapter.drain()
    assert sorted(m.to_person_id for m in webex.fake.sent) == sorted(p["id"] for p in people)


async def test_a_burst_larger_than_the_pool_is_answered_and_processed_exactly_once(
        webex: Harness, services: Services) -> None:
    people = _people(webex.fake, 30)
    deliveries = [webex.fake.user_message(person, "/distansmöte hjälp") for person in people]
    redelivered = deliveries[::5]  # Webex may deliver an event again, even at the same moment

    statuses = await asyncio.gather(*(webex.post(d) for d in deliveries + redelivered))
    await webex.adapter.drain()

    assert statuses == [200] * (len(deliveries) + len(redelivered))
    assert sorted(m.to_person_id for m in webex.fake.sent) == sorted(p["id"] for p in people)
    assert await _job_states(services) == {"done": len(deliveries)}
    fetched = [path for method, path, _ in webex.fake.requests if method == "GET" and "/messages/" in path]
    assert len(fetched) == len(deliveries)  # each message read once




async def test_jobs_left_in_the_store_are_processed_after_a_restart(
        fake_webex: tuple[WebexFake, str], adapter: WebexAdapter, services: Services, clock: ManualClock,
        aiohttp_client: Any) -> None:
    fake, _ = fake_webex
    nina, olle = _people(fake, 2)
    waiting, interrupted = (fake.user_message(person, "/distansmöte hjälp") for person in (nina, olle))
    # What the store holds when the bot stopped: one delivery accepted but not yet begun, and one
    # a worker was processing when the process died (its lease still runs).
    jobs = InboundJobs(services.engine, clock, "webex")
    for delivery, leased in ((waiting, False), (interrupted, True)):
        inbound = parse_envelope(delivery.envelope)
        assert inbound is not None
        assert await jobs.add(job_key(inbound), vars(inbound), leased=leased)
    await jobs.close()

    client = await aiohttp_client(create_app(services))
    await adapter.drain()
    assert [m.to_person_id for m in fake.sent] == [nina["id"]]

    clock.advance(LEASE + timedelta(seconds=1))  # the dead process's lease runs out
    await adapter.drain()
    assert [m.to_person_id for m in fake.sent] == [nina["id"], olle["id"]]
    assert await _job_states(services) == {"done": 2}

    # Delivered again after the restart: already in the store, so nothing happens.
    response = await client.post("/webex/events", data=waiting.body, headers=waiting.headers)
    await adapter.drain()
    assert response.status == 200 and len(fake.sent) == 2


# -- statements per command ----------------------------------------------------------------------

_VERB = re.compile(r"^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM)\s+(?:.*?\bFROM\s+)?\"?(\w+)", re.S)


def _name(statement: str) -> str:
    """"VERB table", the job table's updates told apart: a worker claiming jobs, or finished jobs recorded."""
    match = _VERB.match(statement)
    if match is None:
        return statement.split()[0].upper()  # BEGIN, COMMIT, ROLLBACK
    name = f"{match[1]} {match[2]}"
    if name == "UPDATE inbound_job":
        name += " (claim)" if "attempts" in statement else " (done)" if "finished_at" in statement else ""
    return name


def hot_path(seen: list[str]) -> list[str]:
    """Without the workers' looks for more jobs (``drain`` asks for one): those serve no command."""
    kept: list[str] = []
    for statement in seen:
        if statement.endswith("(claim)"):
            continue
        if statement == "COMMIT" and kept and kept[-1] == "BEGIN":
            kept.pop()  # a transaction that held only a claim
            continue
        kept.append(statement)
    return kept


@asynccontextmanager
async def statements(opened: Services) -> AsyncIterator[list[str]]:
    """Every statement that reaches SQLite, BEGIN and COMMIT included, in order: traced on the
    driver's connection, so that statements sent past SQLAlchemy's execution count too."""
    seen: list[str] = []
    async with opened.engine.connect() as connection:  # SQLite: the one connection there is
        driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    await driver.set_trace_callback(lambda statement: seen.append(_name(statement)))
    try:
        yield seen
    finally:
        await driver.set_trace_callback(None)


async def test_a_help_command_costs_one_commit_before_the_answer_and_one_after(webex: Harness) -> None:
    first, second = (webex.fake.add_person(f"Person {n}", f"p{n}@{REGION_DOMAIN}") for n in (1, 2))
    await webex.deliver(webex.fake.user_message(first, "/distansmöte hjälp"))  # pools and caches warm
    async with statements(webex.services) as seen:
        await webex.deliver(webex.fake.user_message(second, "/distansmöte hjälp"))
    assert len(webex.fake.sent) == 2
    assert hot_path(seen) == [
        "BEGIN", "INSERT INTO inbound_job", "COMMIT",  # the webhook's job, before the 200
        # After the reply, one commit: the event recorded handled, the job done.
        "BEGIN", "INSERT INTO inbound_event", "UPDATE inbound_job (done)", "COMMIT",
    ], seen
