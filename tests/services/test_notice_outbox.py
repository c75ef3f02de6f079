"""What the bot says on its own outside the reminders is stored and tried again until delivered,
once per recipient and cause: admin alerts, and a person's notices."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import notices
from bot.core import PersonKey, delivery
from bot.services import notice_outbox
from bot.services import reminder_plan as kinds
from bot.store.queues import Notice
from tests.conftest import run_pass
from tests.services.test_reminders import START, Rig


async def _states(rig: Rig) -> list[str]:
    async with rig.services.sessions() as session:
        return list(await session.scalars(select(Notice.state).order_by(Notice.created_at)))


async def test_an_admin_alert_that_met_a_5xx_is_delivered_by_the_pass_and_only_once(rig: Rig):
    meeting = await rig.meeting()
    rig.outbox.failures["nurse-1"] = [delivery.DeliveryGone("Person Not Found!")]
    rig.outbox.failures["admin-1"] = [delivery.DeliveryFailed("http_503")]
    rig.clock.set(START - timedelta(minutes=60))
    await rig.reminders.run_due()  # the person is gone: an admin is told, and Webex answers 503
    assert rig.outbox.texts("admin-1") == []
    assert await _states(rig) == [notice_outbox.PENDING]

    await run_pass(rig.services, "notices")  # not due yet: the backoff
    assert rig.outbox.texts("admin-1") == []
    rig.clock.set(rig.clock.now() + timedelta(minutes=1))
    await run_pass(rig.services, "notices")
    [alert] = rig.outbox.texts("admin-1")
    assert "HC Torsås 1" in alert
    assert await _states(rig) == [notice_outbox.SENT]

    rig.clock.set(rig.clock.now() + timedelta(hours=1))
    await run_pass(rig.services, "notices")
    gone = notices.RecipientGone(kinds.room(meeting, rig.services.settings), deadline=None)
    await rig.services.alerts.send(gone)
    await rig.services.alerts.send(gone)  # the same cause again: said once
    assert len(rig.outbox.texts("admin-1")) == 2


async def test_a_persons_notice_is_tried_until_delivered_and_given_up_when_the_person_is_gone(rig: Rig):
    outbox = notice_outbox.NoticeOutbox(rig.services.sessions, rig.clock, _sends(rig), _render)
    rig.outbox.failures["nurse-1"] = [delivery.DeliveryFailed("http_502"), delivery.DeliveryFailed("http_503")]
    told = await outbox.tell(PersonKey.parse("memory:nurse-1"), notices.DeletionFinished("HC Torsås 1"))
    assert not told and rig.outbox.texts() == []
    for _ in range(3):
        rig.clock.set(rig.clock.now() + timedelta(minutes=2))
        await outbox.retry_due()
    assert len(rig.outbox.texts()) == 1  # delivered on the third try, and once
    assert await outbox.tell(PersonKey.parse("memory:nurse-1"), notices.DeletionFinished("HC Torsås 1"))
    assert len(rig.outbox.texts()) == 1  # the same notice again: already said

    rig.outbox.failures["nurse-2"] = [delivery.DeliveryGone("Person Not Found!")]
    await outbox.tell(PersonKey.parse("memory:nurse-2"), notices.DeletionFinished("HC Torsås 2"))
    rig.clock.set(rig.clock.now() + timedelta(hours=2))
    await outbox.retry_due()
    assert rig.outbox.texts("nurse-2") == []
    assert sorted(await _states(rig)) == [notice_outbox.FAILED, notice_outbox.SENT]


def _sends(rig: Rig) -> kinds.ProactiveSends:
    return kinds.ProactiveSends(rig.services.engine, rig.clock, rig.services.settings,
                                delivery.Outbox(rig.services.adapters))


def _render(notice: notices.Notice):
    from cards.reminders import render

    return render(notice)
