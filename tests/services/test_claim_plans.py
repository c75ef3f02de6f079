"""The claims find open jobs and reminders through their partial indexes, never by reading the whole table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from bot.clock import ManualClock
from bot.runtime import Services
from bot.services.inbound_jobs import InboundJobs


async def test_claims_read_open_rows_by_their_partial_index(services: Services, clock: ManualClock) -> None:
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "state IN" in statement and not executemany:
            seen.append((statement, parameters))

    event.listen(services.engine.sync_engine, "before_cursor_execute", keep)
    jobs = InboundJobs(services.engine, clock, "webex")
    try:
        await jobs.add("a", {"n": 1})
        assert [job.key for job in await jobs.claim(5)] == ["a"]
        await services.reminders.next_due()
        await services.reminders.run_due()
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", keep)
        await jobs.close()
    tables = {table for statement, _ in seen for table in ("inbound_job", "reminder") if f"FROM {table}" in statement}
    assert tables == {"inbound_job", "reminder"}
    async with services.engine.connect() as connection:
        for statement, parameters in seen:
            plan = [row[-1] for row in await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
            scans = [step for step in plan if step.startswith(("SCAN inbound_job", "SCAN reminder"))]
            assert not scans, (statement, plan)
