"""The inbound job store and its workers, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.core.adapter import GiveUp, HoldsPersonalNumber, RetryLater
from bot.services.inbound_jobs import DONE, FAILED, KEEP_FINISHED, LEASE, InboundJobs, Job
from bot.services.job_workers import MAX_ATTEMPTS, MAX_BACKOFF_SECONDS, JobWorkers, backoff
from bot.services.privacy import PersonalNumberGuard
from bot.services.stored_queue import StoredQueue
from bot.store.queues import InboundJob


@pytest.fixture
async def jobs(engine: AsyncEngine, clock: ManualClock) -> AsyncIterator[InboundJobs]:
    store = InboundJobs(engine, clock, "webex")
    yield store
    await store.close()


async def _states(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as connection:
        return dict((await connection.execute(select(InboundJob.key, InboundJob.state))).all())


async def test_a_key_is_stored_once_also_when_it_arrives_twice_at_the_same_moment(jobs: InboundJobs) -> None:
    added = await asyncio.gather(jobs.add("a", {"n": 1}), jobs.add("a", {"n": 2}), jobs.add("b", {"n": 3}))
    assert sorted(added) == [False, True, True]
    assert not await jobs.add("a", {"n": 4})


async def test_a_claim_is_a_lease_that_ends(jobs: InboundJobs, clock: ManualClock) -> None:
    for key in ("first", "second", "third"):
        await jobs.add(key, {"key": key})
        clock.advance(timedelta(seconds=1))
    claimed = await jobs.claim(2)
    assert [(job.key, job.payload, job.attempts) for job in claimed] == [
        ("first", {"key": "first"}, 1), ("second", {"key": "second"}, 1)]
    assert [job.key for job in await jobs.claim(5)] == ["third"]
    assert await jobs.claim(5) == []  # all leased

    clock.advance(LEASE + timedelta(seconds=1))  # their process died: claimable again
    again = await jobs.claim(5, finished=[("first", DONE)])
    assert [(job.key, job.attempts) for job in again] == [("second", 2), ("third", 2)]


async def test_finished_jobs_are_never_claimed_and_handed_back_ones_at_once(
        jobs: InboundJobs, engine: AsyncEngine, clock: ManualClock) -> None:
    await jobs.add("done", {})
    await jobs.add("failed", {})
    await jobs.add("back", {}, leased=True)
    assert {job.key for job in await jobs.claim(5)} == {"done", "failed"}
    await jobs.claim(0, finished=[("done", DONE), ("failed", FAILED)])
    await jobs.hand_back(["back"])
    assert await _states(engine) == {"done": DONE, "failed": FAILED, "back": "pending"}
    assert [job.key for job in await jobs.claim(5)] == ["back"]
    assert [key for key, state in (await _states(engine)).items() if state in ("pending", "running")] == ["back"]

    clock.advance(KEEP_FINISHED + timedelta(days=1))
    assert await jobs.purge() == 2
    assert set(await _states(engine)) == {"back"}


async def test_workers_run_at_most_their_number_at_once_and_each_job_once(
        jobs: InboundJobs, engine: AsyncEngine) -> None:
    running, most, seen = 0, 0, []
    full, release = asyncio.Event(), asyncio.Event()

    async def process(job: Job) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        seen.append(job.key)
        if running == 3:
            full.set()
        await release.wait()
        running -= 1

    workers = JobWorkers(jobs, process, size=3)
    workers.start()
    for n in range(10):
        await jobs.add(f"job-{n}", {})
        workers.notify()
    async with asyncio.timeout(10):
        await full.wait()  # every place taken, seven jobs waiting in the store
    release.set()
    await workers.drain()
    await workers.stop(grace=1)

    assert sorted(seen) == sorted(f"job-{n}" for n in range(10))
    assert most == 3
    assert set((await _states(engine)).values()) == {DONE}


async def test_a_job_that_keeps_killing_its_process_is_given_up(
        jobs: InboundJobs, engine: AsyncEngine, clock: ManualClock) -> None:
    await jobs.add("poison", {})
    for _ in range(MAX_ATTEMPTS):  # each time leased, then the process died
        assert await jobs.claim(1)
        clock.advance(LEASE + timedelta(seconds=1))
    processed = []

    async def process(job: Job) -> None:
        processed.append(job.key)

    workers = JobWorkers(jobs, process, size=1)
    workers.start()
    await workers.drain()
    await workers.stop(grace=1)
    assert processed == []
    assert await _states(engine) == {"poison": FAILED}


async def test_stopping_hands_unfinished_jobs_back(jobs: InboundJobs, engine: AsyncEngine) -> None:
    started = asyncio.Event()

    async def process(job: Job) -> None:
        started.set()
        await asyncio.Event().wait()  # never ends by itself

    workers = JobWorkers(jobs, process, size=2)
    workers.start()
    await jobs.add("stuck", {})
    workers.notify()
    await started.wait()
    await workers.stop(grace=0)
    assert await _states(engine) == {"stuck": "pending"}


async def _payloads(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as connection:
        return dict((await connection.execute(select(InboundJob.key, InboundJob.payload))).all())


async def test_the_queue_stores_no_personal_number_and_keeps_nothing_of_a_finished_job(
        engine: AsyncEngine, clock: ManualClock) -> None:
    processed: list[dict[str, object]] = []

    async def process(payload: dict[str, object]) -> None:
        processed.append(payload)

    guard = PersonalNumberGuard(lambda: clock.now().date())
    queue = StoredQueue(engine, clock, "teams", process, workers=2, guard=guard)
    queue.start()
    try:
        with pytest.raises(HoldsPersonalNumber):
            await queue.accept("activity-1", {"text": "ny 19121212-1212", "from": {"id": "29:nina"}},
                               content=["ny 19121212-1212"])
        with pytest.raises(HoldsPersonalNumber):
            await queue.accept("activity-2", {"value": {"unit": "HC 191212121212"}}, content=["HC 191212121212"])
        assert await _payloads(engine) == {}

        assert await queue.accept("activity-3", {"text": "ny", "from": {"id": "29:nina"}})
        await queue.drain()
        assert processed == [{"text": "ny", "from": {"id": "29:nina"}}]
        assert await _payloads(engine) == {"activity-3": "{}"}  # the key stays, to recognise a redelivery
        assert await _states(engine) == {"activity-3": DONE}

        # The platform's ids are not what a person wrote: any run of digits may occur in them.
        assert await queue.accept("activity-4", {"text": "ny", "from": {"id": "29:a8507099805b"}}, content=["ny"])
        await queue.drain()
        assert await _states(engine) == {"activity-3": DONE, "activity-4": DONE}
    finally:
        await queue.stop(1.0)


async def _run(jobs: InboundJobs, process: Callable[[Job], Awaitable[None]], key: str = "job") -> JobWorkers:
    workers = JobWorkers(jobs, process, size=1)
    workers.start()
    await jobs.add(key, {})
    workers.notify()
    await workers.drain()
    return workers


async def test_a_transient_failure_hands_the_job_back_after_a_growing_backoff(
        jobs: InboundJobs, engine: AsyncEngine, clock: ManualClock) -> None:
    attempts: list[int] = []

    async def process(job: Job) -> None:
        attempts.append(job.attempts)
        if len(attempts) < 3:
            raise RetryLater("the platform answered 503")

    workers = await _run(jobs, process)
    assert attempts == [1] and await _states(engine) == {"job": "pending"}
    for attempt in (1, 2):
        clock.advance(timedelta(seconds=backoff(attempt) - 1))
        await workers.drain()
        assert len(attempts) == attempt  # not before its time
        clock.advance(timedelta(seconds=1.5))
        await workers.drain()
        assert len(attempts) == attempt + 1
    await workers.stop(grace=1)
    assert attempts == [1, 2, 3] and await _states(engine) == {"job": DONE}
    assert [backoff(n) for n in (1, 2, 3, 9, 20)] == [2.0, 4.0, 8.0, 300.0, 300.0]


async def test_a_platforms_retry_after_is_honoured_and_a_database_outage_is_transient(
        jobs: InboundJobs, engine: AsyncEngine, clock: ManualClock) -> None:
    failures: list[Exception] = [RetryLater("429", after=60.0), ConnectionRefusedError("the database is away")]

    async def process(job: Job) -> None:
        if failures:
            raise failures.pop(0)

    workers = await _run(jobs, process)
    clock.advance(timedelta(seconds=59))
    await workers.drain()
    assert failures and await _states(engine) == {"job": "pending"}  # Retry-After, not 2 s
    clock.advance(timedelta(seconds=2))
    await workers.drain()
    assert not failures and await _states(engine) == {"job": "pending"}  # the refused connection: again later
    clock.advance(timedelta(seconds=backoff(2) + 1))
    await workers.drain()
    await workers.stop(grace=1)
    assert await _states(engine) == {"job": DONE}


async def test_a_job_that_fails_every_time_ends_failed_never_done(
        jobs: InboundJobs, engine: AsyncEngine, clock: ManualClock) -> None:
    attempts: list[int] = []

    async def process(job: Job) -> None:
        attempts.append(job.attempts)
        raise RetryLater("the platform answered 503")

    workers = await _run(jobs, process)
    while len(attempts) < MAX_ATTEMPTS:
        clock.advance(timedelta(seconds=MAX_BACKOFF_SECONDS + 1))
        await workers.drain()
    await workers.stop(grace=1)
    assert attempts == list(range(1, MAX_ATTEMPTS + 1))
    assert await _states(engine) == {"job": FAILED}


async def test_giving_up_ends_the_job_failed(jobs: InboundJobs, engine: AsyncEngine) -> None:
    async def process(job: Job) -> None:
        raise GiveUp

    workers = await _run(jobs, process)
    await workers.stop(grace=1)
    assert await _states(engine) == {"job": FAILED}


async def test_the_lease_is_short_and_renewed_while_the_job_runs(
        jobs: InboundJobs, engine: AsyncEngine, clock: ManualClock) -> None:
    assert LEASE <= timedelta(seconds=30)  # a job of a process that died runs again within 30 s
    started, release = asyncio.Event(), asyncio.Event()

    async def process(job: Job) -> None:
        started.set()
        await release.wait()

    workers = JobWorkers(jobs, process, size=1, renew_every=0.02)
    workers.start()
    await jobs.add("slow", {})
    workers.notify()
    await started.wait()
    clock.advance(LEASE + timedelta(seconds=1))  # longer than one lease, and still running
    async with asyncio.timeout(5):
        while await _lease_until(engine, "slow") <= clock.now():
            await asyncio.sleep(0.01)
    other_instance = InboundJobs(engine, clock, "webex")
    try:
        assert await other_instance.claim(5) == []  # not run twice
    finally:
        await other_instance.close()
    release.set()
    await workers.drain()
    await workers.stop(grace=1)
    assert await _states(engine) == {"slow": DONE}


async def _lease_until(engine: AsyncEngine, key: str) -> datetime:
    async with engine.connect() as connection:
        lease = await connection.scalar(select(InboundJob.lease_until).where(InboundJob.key == key))
    assert lease is not None
    return lease
