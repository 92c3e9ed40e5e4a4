"""Review periods: a month (2024-03), a quarter (2024-Q1) or a year (2024)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from app.services.errors import DomainError

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(DomainError, ValueError):
    """A period written in a way that cannot be read."""


@dataclass(frozen=True, order=True)
class Period:
    """A closed range of calendar dates with the label it was written as."""

    start: date
    end: date  # inclusive
    label: str

    @classmethod
    def parse(cls, text: str) -> Period:
        """Return the period written as ``2024-03``, ``2024-Q1`` or ``2024``."""
        text = text.strip()
        if m := _MONTH.match(text):
            year, month = int(m[1]), int(m[2])
            if not 1 <= month <= 12:
                raise PeriodError("period.month", text=text)
            return cls.month(year, month)
        if m := _QUARTER.match(text):
            year, q = int(m[1]), int(m[2])
            start = date(year, 3 * q - 2, 1)
            return cls(start, _month_end(year, 3 * q), f"{year}-Q{q}")
        if m := _YEAR.match(text):
            year = int(m[1])
            return cls(date(year, 1, 1), date(year, 12, 31), str(year))
        raise PeriodError("period.unreadable", text=text)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), _month_end(year, month), f"{year}-{month:02d}")

    @property
    def kind(self) -> str:
        if "Q" in self.label:
            return "quarter"
        return "month" if "-" in self.label else "year"

    def shifted_years(self, years: int) -> Period:
        """Return the same period ``years`` later (negative for earlier)."""
        return Period.parse(_shift_label(self.label, years))

    def year_earlier(self) -> Period:
        return self.shifted_years(-1)

    def months(self) -> list[Period]:
        """Return the months this period covers, in order."""
        out, y, m = [], self.start.year, self.start.month
        while date(y, m, 1) <= self.end:
            out.append(Period.month(y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return self.label


def _month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


def _shift_label(label: str, years: int) -> str:
    return str(int(label[:4]) + years) + label[4:]


def add_months(day: date, months: int) -> date:
    """Return ``day`` moved by whole months, clamped to the month's last day (Jan 31 + 1 = Feb 28)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, _month_end(year, month).day))


def last_months(as_of: date, count: int) -> list[Period]:
    """Return the ``count`` months ending with the month of ``as_of``."""
    first = add_months(as_of.replace(day=1), -(count - 1))
    return Period(first, as_of, "").months()
