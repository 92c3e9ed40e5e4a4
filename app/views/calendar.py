"""The branch's calendar on screen: every time the window shows is in the branch's time zone,
whatever zone the computer is set to (a supervisor in Chengdu on a laptop left on UTC sees
Chengdu times). The zone is chosen once, at sign-in, from the user's branch."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from PySide6.QtCore import QDate

from app.models.base import utcnow
from app.services import clock
from app.services.clock import DEFAULT_TZ, local_date

_zone = DEFAULT_TZ


def use_zone(name: str | None) -> None:
    """Show times in the time zone ``name`` (the branch's) from now on."""
    global _zone
    _zone = name or DEFAULT_TZ


def zone() -> str:
    """Return the time zone times are shown in."""
    return _zone


def py_date(day: QDate) -> date:
    """Return ``day`` as a ``datetime.date``. ``QDate.toPython()`` returns one, but PySide6's
    stub declares ``object``, hence the cast."""
    return cast(date, day.toPython())


def today() -> date:
    """Return today's date in the branch's calendar."""
    return local_date(utcnow(), _zone)


def local_text(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Return an aware time as the branch's clock shows it ('' for None)."""
    return clock.local_text(moment, _zone, fmt)
