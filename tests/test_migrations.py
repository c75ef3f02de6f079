"""The migrations make the schema that the models describe, on both stores, and the latest one
can be undone."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import MIGRATIONS, Base


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
