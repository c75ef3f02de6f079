from sqlalchemy import select

from bot.db import UnitCounter, sessionmaker


async def test_schema_is_applied(engine):
    async with sessionmaker(engine)() as session:
        assert (await session.execute(select(UnitCounter))).all() == []
