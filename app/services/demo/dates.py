"""Date helpers of the demo: month arithmetic and branch-local clock times stored as UTC."""

from __future__ import annotations

import calendar
import functools
from datetime import UTC, date, datetime, timedelta

# Asia/Shanghai has kept UTC+8 without daylight saving since 1991: a fixed offset is exact here
# and much faster than a zoneinfo conversion per row.
_UTC_OFFSET = timedelta(hours=8)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day: date, months: int) -> date:
    """Return the same day of the month ``months`` later, clipped to the month's last day."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    if day.day <= 28:
        return date(year, month0 + 1, day.day)
    last = 29 if month0 == 1 and calendar.isleap(year) else _MONTH_DAYS[month0]
    return date(year, month0 + 1, min(day.day, last))


@functools.lru_cache(maxsize=4096)
def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - _UTC_OFFSET


def at_local(day: date, minute: int) -> datetime:
    """Return the aware UTC datetime of ``minute`` minutes after midnight of a branch-local day."""
    return _midnight(day) + timedelta(minutes=minute)


def local_day(moment: datetime) -> date:
    """Return the branch-local calendar day of an aware datetime."""
    return (moment + _UTC_OFFSET).date()


def pilot_start_for(as_of: date) -> date:
    """Return the first day of the month 18 months before ``as_of``: when the pilot began."""
    return add_months(as_of.replace(day=1), -18)
