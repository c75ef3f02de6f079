from sqlalchemy import select

from bot.store.engine import sessionmaker
from bot.store.schema import UnitCounter


async def test_schema_is_applied(engine):
    async with sessionmaker(engine)() as session:
        assert (await session.execute(select(UnitCounter))).all() == []


async def test_old_event_ids_are_forgotten_after_a_month(engine, clock):
    from datetime import timedelta

    from bot.services.handled_events import InboundEvents

    events = InboundEvents(engine, clock)
    try:
        assert await events.begin("webex:old") == (True, None)
        await events.finish("webex:old", None)
        clock.advance(timedelta(days=31))
        assert await events.begin("webex:new") == (True, None)
        await events.finish("webex:new", None)
        assert await events.purge() == 1
        assert await events.begin("webex:new") == (False, None)
        assert await events.begin("webex:old") == (True, None)
    finally:
        await events.close()


async def test_an_event_noted_posted_is_handled_at_once_and_written_at_close(engine, clock):
    from bot.services.handled_events import InboundEvents

    events = InboundEvents(engine, clock)
    events.posted("webex:noted")
    assert await events.begin("webex:noted") == (False, None)  # before any write: this process knows
    await events.close()  # writes what no job record took
    again = InboundEvents(engine, clock)  # another process
    try:
        assert await again.begin("webex:noted") == (False, None)
        assert await again.begin("webex:other") == (True, None)  # nothing recorded before it is handled
    finally:
        await again.close()
