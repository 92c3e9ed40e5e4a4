"""Dates in the branch's time zone: the database keeps UTC, people think in local days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"


def branch_tz(name: str | None = None) -> ZoneInfo:
    return ZoneInfo(name or DEFAULT_TZ)


def start_of_day(day: date, tz: str | None = None) -> datetime:
    """Return the aware datetime at which ``day`` begins in the branch's time zone."""
    return datetime.combine(day, time.min, tzinfo=branch_tz(tz))


def end_of_day(day: date, tz: str | None = None) -> datetime:
    """Return the aware datetime at which the day after ``day`` begins (exclusive bound)."""
    return start_of_day(day + timedelta(days=1), tz)


def local_date(moment: datetime, tz: str | None = None) -> date:
    """Return the branch-local calendar date of an aware datetime."""
    return moment.astimezone(branch_tz(tz)).date()


def local_text(moment: datetime | None, tz: str | None = None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Return an aware time as the branch's clock shows it ('' for None)."""
    return "" if moment is None else moment.astimezone(branch_tz(tz)).strftime(fmt)
