"""Working hours: when a follow-up may reach staff (Mon–Fri, not on Swedish holidays)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from bot.config import Settings


class WorkingHours:
    """Mon–Fri between two wall-clock times, not on Swedish public (or de facto) holidays.

    Day stepping and the opening/closing times are wall time in ``zone``; every comparison is in
    UTC, so the nights when clocks change neither lose nor shift a moment.
    """

    def __init__(self, zone: ZoneInfo, opens: time, closes: time) -> None:
        self.zone = zone
        self.opens = opens
        self.closes = closes
        # De facto: midsommarafton, julafton and nyårsafton are days off for office hours too.
        self._holidays = holidays.country_holidays("SE", categories=("public", "de_facto"))

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkingHours:
        return cls(settings.zone, settings.working_hours_start, settings.working_hours_end)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def next_moment(self, at: datetime) -> datetime:
        """``at`` if it is within working hours, else the next opening; UTC."""
        day = at.astimezone(self.zone).date()
        for _ in range(60):  # the longest Swedish run of days off is far shorter
            if self.is_working_day(day):
                opens, closes = self._wall(day, self.opens), self._wall(day, self.closes)
                if at < opens:
                    return opens
                if at < closes:
                    return at
            day += timedelta(days=1)
        raise RuntimeError("no working day within 60 days")

    def _wall(self, day: date, moment: time) -> datetime:
        # A wall time inside the spring gap maps past it (fold=0), one in the autumn fold to its
        # first occurrence: either is a real instant, never a skipped or doubled one.
        return datetime.combine(day, moment, tzinfo=self.zone).astimezone(UTC)
