"""Business-day calendar of the secretariat (JST): weekends, national holidays, 年末年始, closures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jpholiday

JST = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class BusinessCalendar:
    # (month, day) pairs closed every year; the default is 年末年始 12/29–1/3.
    year_end_closure: tuple[tuple[int, int], ...] = (
        (12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3),
    )
    closure_days: frozenset[date] = field(default_factory=frozenset)
    open_at: time = time(9, 30)
    close_at: time = time(17, 30)

    def is_business_day(self, day: date) -> bool:
        if day.weekday() >= 5 or jpholiday.is_holiday(day):  # includes 振替休日
            return False
        if (day.month, day.day) in self.year_end_closure:
            return False
        return day not in self.closure_days

    def next_business_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def reply_due(self, received: datetime) -> datetime:
        """End of the next business day (JST) after the mail was received."""
        received_day = received.astimezone(JST).date()
        due_day = self.next_business_day(received_day)
        return datetime.combine(due_day, self.close_at, tzinfo=JST)

    def in_business_hours(self, moment: datetime) -> bool:
        local = moment.astimezone(JST)
        return self.is_business_day(local.date()) and self.open_at <= local.time() < self.close_at


def parse_days(values: Iterable[str]) -> frozenset[date]:
    return frozenset(date.fromisoformat(v) for v in values)
