"""The claims find open jobs and reminders through their partial indexes, never by reading the whole table."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.runtime import Services
from bot.services.inbound_jobs import InboundJobs


async def test_claims_read_open_rows_by_their_partial_index(services: Services, clock: ManualClock) -> None:
    seen: list[str] = []  # as SQLite ran them, values in place (SQLite has one connection: all of them)
    async with services.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    await driver.set_trace_callback(lambda sql: seen.append(sql) if "state IN" in sql else None)
    jobs = InboundJobs(services.engine, clock, "webex")
    try:
        await jobs.add("a", {"n": 1})
        assert [job.key for job in await jobs.claim(5)] == ["a"]
        await services.reminders.next_due()
        await services.reminders.run_due()
    finally:
        await driver.set_trace_callback(None)
        await jobs.close()
    assert {table for sql in seen for table in ("inbound_job", "reminder") if f"FROM {table}" in sql} == {
        "inbound_job", "reminder"}
    async with services.engine.connect() as connection:
        for sql in seen:
            plan = [row[-1] for row in await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
            assert not [step for step in plan if step.startswith(("SCAN inbound_job", "SCAN reminder"))], (sql, plan)
