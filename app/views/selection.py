"""What the supervisor is looking at, shared by every page of a window: a grid, and a
specialist or a team.

One ``Selection`` lives in each window's AppContext. A page that sets part of it (the map's
click, the roster's "Show tasks", the Tasks page's scope) calls a setter; every page follows
``changed`` and, when it is built later, reads ``current()`` once. Each part a page filters by
shows there as a removable chip (app/views/chips.py); removing it clears that part for every
page, since there is one state and not a copy per page.

A grid is a place and is independent of the people: a grid and a specialist may both be set.
A specialist and a team are one choice of people (the Tasks page's scope): setting one clears
the other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from PySide6.QtCore import QObject, Signal

Kind = Literal["grid", "specialist", "team"]


@dataclass(frozen=True)
class Picked:
    """A value of the selection: '' / None where nothing is chosen."""

    grid: str = ""
    specialist_id: int | None = None
    team_id: int | None = None

    def __bool__(self) -> bool:
        return bool(self.grid) or self.specialist_id is not None or self.team_id is not None


class Selection(QObject):
    """The window's selection.

    Signals:
        changed(Picked): emitted once after any part changed, with the whole new value.
    """

    changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._value = Picked()

    def current(self) -> Picked:
        """Return the selection as it is now."""
        return self._value

    def set_grid(self, code: str) -> None:
        """Select grid ``code`` ('' clears the grid)."""
        self._set(replace(self._value, grid=code or ""))

    def set_specialist(self, specialist_id: int | None) -> None:
        """Select a specialist (None clears it); a team chosen before is dropped."""
        if specialist_id is None:
            self._set(replace(self._value, specialist_id=None))
        else:
            self._set(replace(self._value, specialist_id=specialist_id, team_id=None))

    def set_team(self, team_id: int | None) -> None:
        """Select a team (None clears it); a specialist chosen before is dropped."""
        if team_id is None:
            self._set(replace(self._value, team_id=None))
        else:
            self._set(replace(self._value, team_id=team_id, specialist_id=None))

    def set_people(self, specialist_id: int | None, team_id: int | None) -> None:
        """Select a specialist or a team, or neither (both None), in one change."""
        if specialist_id is not None:
            team_id = None
        self._set(replace(self._value, specialist_id=specialist_id, team_id=team_id))

    def clear(self, kind: Kind | None = None) -> None:
        """Clear one part of the selection (``kind``) or all of it (None)."""
        if kind is None:
            self._set(Picked())
        elif kind == "grid":
            self.set_grid("")
        elif kind == "specialist":
            self.set_specialist(None)
        elif kind == "team":
            self.set_team(None)
        else:
            raise ValueError(kind)

    def _set(self, value: Picked) -> None:
        if value != self._value:
            self._value = value
            self.changed.emit(value)
