"""An adapter's inbound queue over the store: a verified webhook stored as a job and run by the workers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.core.adapter import FIRST_RUN, Guard, HoldsPersonalNumber
from bot.services.inbound_jobs import InboundJobs, Job, Notes
from bot.services.job_workers import JobWorkers

log = logging.getLogger(__name__)


class StoredQueue:
    """An adapter's inbound queue (``bot.core.adapter.InboundQueue``): the store and its workers.

    Nothing a person wrote that holds a personal identity number is stored: ``guard`` reads the
    payload's ``content`` first (``HoldsPersonalNumber``), and a finished job's payload is cleared.
    """

    def __init__(self, engine: AsyncEngine, clock: Clock, platform: str,
                 process: Callable[[dict[str, Any]], Awaitable[None]], *, workers: int, guard: Guard,
                 notes: Notes | None = None) -> None:
        self._jobs = InboundJobs(engine, clock, platform, notes=notes)
        self._process = process
        self._guard = guard
        self._workers = JobWorkers(self._jobs, self._run, size=workers)
        self._jobs.fold_into_inserts(self._workers, *([notes] if notes is not None else []))

    def start(self) -> None:
        self._workers.start()

    async def accept(self, key: str, payload: Mapping[str, Any], *, content: Sequence[str] = ()) -> bool:
        """Store the job (a redelivery adds none); to a free worker at once, else it waits in the store."""
        if self._guard(list(content)):
            raise HoldsPersonalNumber("an inbound event with a personal identity number was not stored")
        job = Job(key, dict(payload), attempts=1)
        leased = self._workers.reserve()
        try:
            added = await self._jobs.add(job.key, job.payload, leased=leased)
        except Exception as exc:  # noqa: BLE001 - not stored means not accepted: the platform delivers it again
            # The error's name only: a database error may quote the row.
            log.error("an inbound event could not be stored: %s", type(exc).__name__)
            added = None
        if leased:
            self._workers.run(job if added else None)
        elif added:
            self._workers.notify()
        return added is not None

    async def drain(self) -> None:
        await self._workers.drain()

    async def stop(self, grace: float) -> None:
        await self._workers.stop(grace)

    async def _run(self, job: Job) -> None:
        FIRST_RUN.set(job.attempts == 1)  # in the job's own task
        await self._process(job.payload)
