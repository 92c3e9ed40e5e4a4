"""Picking grids on the rebalance page's map with the mouse: a click picks one grid, a click
with Shift (or Ctrl) adds or removes one, a drag draws a lasso that picks every grid whose
centroid it encloses (with Shift or Ctrl: adds them), Esc or a click on empty space clears.
Grids the ``reason`` callback refuses are never picked. A right-click asks for the menu."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal

from app.views.rebalance_plot import PICKED, PlanMap

if TYPE_CHECKING:
    from matplotlib.lines import Line2D

# A press that moves further than this (pixels) before it is released draws a lasso.
DRAG_PX = 6
_ADDING = ("shift", "control", "ctrl", "cmd", "super")


def _adding(event) -> bool:
    """Whether Shift or Ctrl (⌘) was held: the click or lasso adds to the picked grids."""
    held = {str(m).lower() for m in getattr(event, "modifiers", None) or ()}
    key = (event.key or "").lower()
    return any(k in held or k in key for k in _ADDING)


class GridSelector(QObject):
    """The grids picked on a :class:`PlanMap`, and the mouse and keyboard that pick them.

    Signals:
        selection_changed(): the picked grids changed.
        menu_requested(): the user right-clicked the map (on a refused grid too).
    """

    selection_changed = Signal()
    menu_requested = Signal()

    def __init__(self, plan_map: PlanMap, reason: Callable[[str], str | None]) -> None:
        super().__init__(plan_map)
        self.map = plan_map
        self.reason = reason
        self.enabled = False
        self._picked: list[str] = []
        self._press: tuple[float, float] | None = None  # pixels
        self._path: list[tuple[float, float]] = []
        self._dragging = False
        self._line: Line2D | None = None  # the lasso as drawn so far
        canvas = plan_map.canvas
        canvas.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        canvas.mpl_connect("button_press_event", self._pressed)
        canvas.mpl_connect("motion_notify_event", self._moved)
        canvas.mpl_connect("button_release_event", self._released)
        canvas.mpl_connect("key_press_event", self._key)

    # --- what is picked --------------------------------------------------------------------

    @property
    def selected(self) -> tuple[str, ...]:
        """The picked grid codes, in the order they were picked."""
        return tuple(self._picked)

    def select(
        self,
        codes: Iterable[str],
        *,
        add: bool = False,
        lasso: Sequence[tuple[float, float]] | None = None,
    ) -> None:
        """Pick ``codes`` (those allowed), instead of the picked ones unless ``add``."""
        picked = list(self._picked) if add else []
        picked += [c for c in codes if c not in picked and self.reason(c) is None]
        self._set(picked, lasso)

    def toggle(self, code: str) -> None:
        """Add the grid to the picked ones, or take it out if it is in."""
        if code in self._picked:
            self._set([c for c in self._picked if c != code], None)
        else:
            self.select([code], add=True)

    def clear(self) -> None:
        self._set([], None)

    def click_at(self, x: float, y: float, *, add: bool = False) -> None:
        """What a click at the map point (lon, lat) does: pick the grid there (toggle it with
        ``add``); on empty space (or a refused grid, without ``add``) clear."""
        picker = self.map.picker
        code = picker.at(x, y) if picker is not None else None
        if code is not None and add:
            if code in self._picked or self.reason(code) is None:
                self.toggle(code)
        elif code is not None and self.reason(code) is None:
            self.select([code])
        elif not add:
            self.clear()

    def lasso(self, points: Sequence[tuple[float, float]], *, add: bool = False) -> None:
        """Pick every allowed grid whose centroid the outline ``points`` (map points)
        encloses, in addition to the picked ones with ``add``."""
        picker = self.map.picker
        codes = picker.enclosed(points) if picker is not None else []
        self.select(codes, add=add, lasso=list(points))

    def _set(self, picked: list[str], lasso: Sequence[tuple[float, float]] | None) -> None:
        lasso_now = list(lasso) if lasso else None
        if picked == self._picked and lasso_now == self.map.lasso:
            return
        self._picked = picked
        self.map.picked = tuple(picked)
        self.map.lasso = lasso_now
        self.map.draw_picked()
        self.selection_changed.emit()

    # --- the mouse -------------------------------------------------------------------------

    def _pressed(self, event) -> None:
        if not self.enabled or event.inaxes is None or event.xdata is None:
            return
        if event.button == 3:
            picker = self.map.picker
            code = picker.at(event.xdata, event.ydata) if picker is not None else None
            if code is not None and code not in self._picked and self.reason(code) is None:
                self.select([code], add=_adding(event))
            self.menu_requested.emit()
            return
        if event.button == 1:
            self._press = (event.x, event.y)
            self._path = [(event.xdata, event.ydata)]
            self._dragging = False

    def _moved(self, event) -> None:
        if self._press is None or event.xdata is None or event.inaxes is None:
            return
        if not self._dragging:
            far = math.hypot(event.x - self._press[0], event.y - self._press[1])
            if far < DRAG_PX:
                return
            self._dragging = True
        self._path.append((event.xdata, event.ydata))
        ax = self.map.axes
        if ax is None:
            return
        if self._line is None or self._line.axes is not ax:
            (self._line,) = ax.plot([], [], color=PICKED, linewidth=1.2, zorder=6)
        xs, ys = zip(*self._path, strict=True)
        self._line.set_data(xs, ys)
        self.map.canvas.draw_idle()

    def _released(self, event) -> None:
        if self._press is None or event.button != 1:
            return
        path, dragging = self._path, self._dragging
        if event.xdata is not None and event.inaxes is not None and dragging:
            path = [*path, (event.xdata, event.ydata)]
        self._press, self._path, self._dragging = None, [], False
        if self._line is not None:
            if self._line.axes is not None:
                self._line.remove()
            self._line = None
        if dragging and len(path) >= 3:
            self.lasso(path, add=_adding(event))
        elif event.xdata is not None and event.inaxes is not None:
            self.click_at(event.xdata, event.ydata, add=_adding(event))
        else:
            self.map.canvas.draw_idle()

    def _key(self, event) -> None:
        if event.key == "escape":
            self.clear()
