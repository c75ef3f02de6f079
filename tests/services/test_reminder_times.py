"""When reminders fall: working hours, Swedish holidays, and the two nights of 2026 when clocks change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services import reminder_plan as kinds
from bot.services.working_hours import WorkingHours
from tests.services.test_reminders import Rig, open_rig

STOCKHOLM = ZoneInfo("Europe/Stockholm")
HOURS = WorkingHours(STOCKHOLM, time(7, 30), time(17, 0))


def local(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=STOCKHOLM, fold=fold).astimezone(UTC)  # type: ignore[misc]


@pytest.mark.parametrize(("at", "expected"), [
    (local(2026, 11, 25, 12, 0), local(2026, 11, 25, 12, 0)),  # Wednesday noon: now
    (local(2026, 11, 25, 6, 0), local(2026, 11, 25, 7, 30)),  # before opening
    (local(2026, 11, 27, 17, 0), local(2026, 11, 30, 7, 30)),  # Friday closing -> Monday
    (local(2026, 12, 23, 18, 0), local(2026, 12, 28, 7, 30)),  # julafton, juldagen, annandagen, weekend
    (local(2026, 12, 30, 17, 30), local(2027, 1, 4, 7, 30)),  # nyårsafton, nyårsdagen, weekend
    (local(2027, 1, 5, 17, 30), local(2027, 1, 7, 7, 30)),  # trettondedag jul
    (local(2026, 6, 18, 16, 59), local(2026, 6, 18, 16, 59)),
    (local(2026, 6, 18, 17, 0), local(2026, 6, 22, 7, 30)),  # midsommarafton, midsommardagen
    (local(2026, 4, 2, 18, 0), local(2026, 4, 7, 7, 30)),  # långfredagen .. annandag påsk
    (local(2026, 5, 13, 18, 0), local(2026, 5, 15, 7, 30)),  # Kristi himmelsfärd
    # Spring forward: Friday 27 March after hours -> Monday 30 March 07:30 CEST (05:30 UTC).
    (local(2026, 3, 27, 17, 30), datetime(2026, 3, 30, 5, 30, tzinfo=UTC)),
    (local(2026, 3, 29, 1, 59), datetime(2026, 3, 30, 5, 30, tzinfo=UTC)),
    # Fall back: Friday 23 October -> Monday 26 October 07:30 CET (06:30 UTC), not an hour off.
    (local(2026, 10, 23, 17, 30), datetime(2026, 10, 26, 6, 30, tzinfo=UTC)),
    (local(2026, 10, 25, 2, 30, fold=1), datetime(2026, 10, 26, 6, 30, tzinfo=UTC)),
])
def test_next_working_moment(at, expected):
    assert HOURS.next_moment(at) == expected


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
                    timezones=st.just(UTC)))
def test_a_follow_up_is_never_on_a_weekend_or_holiday_and_never_early(at):
    moment = HOURS.next_moment(at)
    wall = moment.astimezone(STOCKHOLM)
    assert moment >= at
    assert wall.weekday() < 5 and HOURS.is_working_day(wall.date())
    assert time(7, 30) <= wall.time() < time(17, 0)
    if moment > at:  # it waited: the start of a working day, and no working time was skipped
        assert wall.time() == time(7, 30)
        step = at
        while step < moment - timedelta(minutes=30):
            step += timedelta(minutes=30)
            local_step = step.astimezone(STOCKHOLM)
            assert not (HOURS.is_working_day(local_step.date())
                        and time(7, 30) <= local_step.time() < time(17, 0)) or step >= moment


def test_swedish_public_holidays_are_not_working_days():
    for day in (date(2026, 1, 1), date(2026, 1, 6), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 1),
                date(2026, 5, 14), date(2026, 6, 19), date(2026, 12, 24), date(2026, 12, 25),
                date(2026, 12, 31)):
        assert not HOURS.is_working_day(day), day
    assert HOURS.is_working_day(date(2026, 6, 8))  # an ordinary Monday


# -- the nights when clocks change --------------------------------------------------------------


async def _night(rig: Rig, starts: datetime, hours: int = 40) -> tuple[dict[str, datetime], list]:
    rig.clock.set(starts - timedelta(hours=6))
    meeting = await rig.meeting(starts=starts)
    planned = {row.kind: row.due_at for row in await rig.rows(meeting.id)}
    await rig.run_until(starts + timedelta(hours=hours))
    return planned, await rig.rows(meeting.id)


def _assert_each_sent_once_on_time(rows: list) -> None:
    for row in rows:
        if row.kind == kinds.AUTO_DELETE:
            continue
        assert row.state == kinds.SENT, row.kind
        assert row.sent_at == row.planned_at == row.due_at, row.kind  # not shifted by an hour
        assert row.attempts == 1


async def test_spring_forward_night_loses_shifts_and_doubles_nothing(rig):
    # 03:30 CEST on 29 March 2026 is 01:30 UTC; 02:00–03:00 local does not exist that night.
    starts = local(2026, 3, 29, 3, 30)
    assert starts == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    planned, rows = await _night(rig, starts)
    assert planned[kinds.UNCONFIRMED] == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 CET, an hour of real time
    assert planned[kinds.START] == datetime(2026, 3, 29, 1, 25, tzinfo=UTC)  # five real minutes before
    assert planned[kinds.CLEANUP] == datetime(2026, 3, 29, 2, 40, tzinfo=UTC)
    assert planned[kinds.AUTO_DELETE] == datetime(2026, 3, 30, 2, 30, tzinfo=UTC)
    _assert_each_sent_once_on_time(rows)
    assert len(rig.outbox.texts()) == 4  # unconfirmed, start, cleanup, auto-deleted; the Sunday has no follow-up
    followups = [row for row in rows if row.kind == kinds.FOLLOWUP]
    assert followups == []  # Monday 07:30 CEST is after the deadline (Monday 04:30 CEST)


async def test_fall_back_night_loses_shifts_and_doubles_nothing(rig):
    # 02:30 happens twice on 25 October 2026; the second time (fold=1) is 01:30 UTC.
    starts = local(2026, 10, 25, 2, 30, fold=1)
    assert starts == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    planned, rows = await _night(rig, starts)
    assert planned[kinds.UNCONFIRMED] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30 (CEST)
    assert planned[kinds.START] == datetime(2026, 10, 25, 1, 25, tzinfo=UTC)
    _assert_each_sent_once_on_time(rows)
    texts = rig.outbox.texts()
    assert len(texts) == len(set(texts)) == 4


async def test_follow_ups_across_the_autumn_change_land_at_0730_local(cms, database_url, clock):
    rig = await open_rig(cms, database_url, clock, auto_delete_after_hours=96)
    try:
        # Friday 23 October 2026, 15:00–16:00; the prompt at 16:10, the follow-up on Monday.
        planned, rows = await _night(rig, local(2026, 10, 23, 15, 0), hours=100)
        [first, *_] = [row for row in rows if row.kind == kinds.FOLLOWUP]
        assert first.due_at == datetime(2026, 10, 26, 6, 30, tzinfo=UTC)  # 07:30 CET
        assert first.due_at.astimezone(STOCKHOLM).time() == time(7, 30)
        for row in rows:
            if row.kind == kinds.FOLLOWUP and row.state == kinds.SENT:
                wall = row.sent_at.astimezone(STOCKHOLM)
                assert HOURS.is_working_day(wall.date()) and time(7, 30) <= wall.time() < time(17, 0)
    finally:
        await rig.services.close()
