"""The migrations make the schema that the models describe, on both stores, the latest one can be
undone, and 0011 carries the state the audit trail held into its own tables, with data in them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.engine import create_engine, sessionmaker
from bot.store.migrations import MIGRATIONS, downgrade, upgrade
from bot.store.queues import DailyRun, OperationChange
from bot.store.schema import AUTO_DELETE_RULE, AuditRecord, Base, Meeting, RoomDeletion


async def test_the_migrations_make_the_schema_the_models_describe(engine: AsyncEngine) -> None:
    def differences(connection: Any) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_the_latest_migration_goes_down_and_up_again(engine: AsyncEngine) -> None:
    def down_and_up(connection: Any) -> list[Any]:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
        command.upgrade(config, "head")
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    async with engine.begin() as connection:
        assert await connection.run_sync(down_and_up) == []


async def test_0011_moves_the_deletion_operation_and_daily_marks_out_of_the_audit_trail_and_back(
        database_url: str) -> None:
    engine = create_engine(database_url)
    at = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    sessions = sessionmaker(engine)

    def room(n: int, state: str) -> Meeting:
        return Meeting(id=f"00000000-0000-4000-8000-00000000000{n}", request_key=f"k{n}", platform="webex",
                       creator_id="webex:nina", creator_name="Nina", unit="HC Torsås", starts_at=at, ends_at=at,
                       room_name=f"HC Torsås {n}", uri=f"hc.torsas.{n}", call_id=f"{n}", space_id=f"s{n}",
                       state=state, created_at=at)

    def mark(minutes: int, meeting: str | None, action: str, operation: str | None = None, *,
             actor: str = "webex:nina", detail: str | None = None) -> AuditRecord:
        return AuditRecord(at=at + timedelta(minutes=minutes), meeting_id=meeting, actor=actor, action=action,
                           operation=operation, detail=detail)

    open_, withdrawn, deleted = room(1, "created"), room(2, "invited"), room(3, "deleted")
    trail = [
        mark(0, open_.id, "created", "webex:e0"),
        mark(1, deleted.id, "deleting", "webex:e1"), mark(2, deleted.id, "deleted", "webex:e1"),
        mark(3, withdrawn.id, "deleting", "webex:e2"), mark(4, withdrawn.id, "delete_withdrawn", "webex:e2"),
        mark(5, open_.id, "deleting", actor="system", detail=AUTO_DELETE_RULE),
        mark(6, "00000000-0000-4000-8000-000000000009", "deleted", actor="sweep", detail="orphan"),
        mark(7, None, "daily:sweep", actor="system", detail="2026-11-24"),
        mark(8, None, "daily:sweep", actor="system", detail="2026-11-25"),
        mark(9, None, "daily:purge", actor="system", detail="2026-11-25"),
    ]
    try:
        await upgrade(engine, "0010")
        # The columns 0010 has: later migrations add more to the model.
        columns = ("id", "request_key", "platform", "creator_id", "creator_name", "unit", "starts_at", "ends_at",
                   "room_name", "uri", "call_id", "space_id", "state", "created_at")
        async with sessions() as session, session.begin():
            await session.execute(insert(Meeting.__table__), [{c: getattr(m, c) for c in columns}
                                                               for m in (open_, withdrawn, deleted)])
            session.add_all(trail)
        await upgrade(engine, "0011")
        async with sessions() as session:
            deletions = {d.meeting_id: (d.state, d.actor, d.detail, d.operation, d.lease_until, d.finished_at)
                         for d in await session.scalars(select(RoomDeletion))}
            changes = set((await session.execute(select(OperationChange.operation, OperationChange.change))).all())
            runs = set((await session.execute(select(DailyRun.job, DailyRun.day))).all())
            audit_rows = await session.scalar(select(func.count()).select_from(AuditRecord))
        assert deletions == {
            open_.id: ("deleting", "system", AUTO_DELETE_RULE, None, at + timedelta(minutes=7), None),
            withdrawn.id: ("withdrawn", "webex:nina", None, "webex:e2", None, at + timedelta(minutes=4)),
            deleted.id: ("deleted", "webex:nina", None, "webex:e1", None, at + timedelta(minutes=2)),
        }
        assert changes == {("webex:e0", "created"), ("webex:e1", "deleting"), ("webex:e1", "deleted"),
                           ("webex:e2", "deleting"), ("webex:e2", "delete_withdrawn")}
        assert runs == {("sweep", "2026-11-24"), ("sweep", "2026-11-25"), ("purge", "2026-11-25")}
        assert audit_rows == len(trail)  # the history stays as it was

        await downgrade(engine, "0010")
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            kept = (await connection.execute(text("SELECT count(*) FROM audit"))).scalar()
        assert not tables & {"room_deletion", "operation_change", "daily_run"}
        assert kept == len(trail)  # what 0010's code reads its state from
        await upgrade(engine, "head")
        async with sessions() as session:
            assert len(list(await session.scalars(select(RoomDeletion)))) == 3
    finally:
        await engine.dispose()
