"""The rebalance page's pictures of a plan: workloads now and after as bars, and the moves
on the map (matplotlib, on the GUI thread: a few dozen bars and a few hundred grids)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from matplotlib.axes import Axes
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QToolTip, QVBoxLayout, QWidget

from app.services.mapping.fallback import geometry_path
from app.services.mapping.moves import GridShape, MapMove, draw_moves_map, tooltip_text
from app.services.rebalance.editing import workload_changes
from app.services.rebalance.plan import Plan
from app.services.render.charts import WorkloadBar, draw_workload_comparison
from app.views.i18n import arg, translate

if TYPE_CHECKING:
    from app.services.mapping.picking import GridPicker

PICKED = "#0b5cd5"
# Past this many specialists the chart shows only those whose workload changes.
MAX_BARS = 30


def draw_plan_chart(figure: Figure, plan: Plan) -> None:
    """Draw the plan's workloads now and after, and customers against capacity."""
    changes = workload_changes(plan)
    if len(changes) > MAX_BARS:
        changes = [c for c in changes if abs(c.change) > 1e-6] or changes[:MAX_BARS]
    draw_workload_comparison(
        figure,
        [
            WorkloadBar(
                f"{c.name} {c.employee_no}",
                c.load_before,
                c.load_after,
                c.customers_before,
                c.customers_after,
                c.capacity,
            )
            for c in changes
        ],
        title=translate("RebalancePage", "Workload per specialist: now and after the plan"),
        before_label=translate("RebalancePage", "now"),
        after_label=translate("RebalancePage", "after the plan"),
        workload_label=translate("RebalancePage", "weighted workload"),
        customers_label=translate("RebalancePage", "customers"),
        capacity_label=translate("RebalancePage", "capacity"),
        bound=min(plan.lower_bound, plan.before_max) or None,
        bound_label=translate("RebalancePage", "best possible largest workload"),
    )


def map_moves(plan: Plan, names: dict[str, str]) -> list[MapMove]:
    """Return what the map shows of the plan: one entry per moved grid, and one per grid,
    source and target for customers moved on their own."""
    out = []
    singles: dict[tuple[str, str, str], int] = {}
    for m in plan.moves:
        if m.kind == "grid":
            text = f"{names.get(m.from_no, m.from_no)} → {names.get(m.to_no, m.to_no)}"
            out.append(MapMove(m.grid_code, True, text))
        else:
            key = (m.grid_code, m.from_no, m.to_no)
            singles[key] = singles.get(key, 0) + 1
    for (code, a, b), n in singles.items():
        text = arg(
            translate("RebalancePage", "%1 customers: %2 → %3"),
            str(n),
            names.get(a, a),
            names.get(b, b),
        )
        out.append(MapMove(code, False, text))
    return out


class PlanMap(QWidget):
    """The plan's moves on a matplotlib map; hovering a highlighted grid says who gives it
    to whom, hovering one that ``reason`` refuses says why. Grids picked on the map
    (:mod:`app.views.map_selection`) are drawn hatched over it, with the lasso that took them."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.figure = Figure(figsize=(5, 4))
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setObjectName("plan_map")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self._shapes: list[GridShape] | None = None
        self.picker: GridPicker | None = None
        self._paths: dict[str, Path] = {}
        self._moves: list[MapMove] = []
        self._scope: tuple[str, ...] = ()
        self._legend: dict[str, str] | None = None
        self.selected: str | None = None
        # Picked on the map (hatched), the lasso outline that picked them, and why a grid may
        # not be picked (None: it may).
        self.picked: tuple[str, ...] = ()
        self.lasso: list[tuple[float, float]] | None = None
        self.reason: Callable[[str], str | None] | None = None
        self.axes: Axes | None = None
        self._overlay: list = []
        self.canvas.mpl_connect("motion_notify_event", self._hover)

    @property
    def shapes(self) -> list[GridShape] | None:
        return self._shapes

    @shapes.setter
    def shapes(self, shapes: list[GridShape] | None) -> None:
        from app.services.mapping.picking import GridPicker

        self._shapes = shapes
        self.picker = GridPicker(shapes) if shapes else None
        paths = ((g.code, geometry_path(g.geometry)) for g in shapes or ())
        self._paths = {code: path for code, path in paths if path is not None}

    def show_plan(self, plan: Plan | None, names: dict[str, str]) -> None:
        self._moves = map_moves(plan, names) if plan else []
        self._scope = plan.scope if plan else ()
        self._legend = None
        self.redraw()

    def show_grids(self, grids: list[MapMove], legend: str) -> None:
        """Highlight the given grids (each with its tooltip text) under one legend entry: the
        grids whose owner differs between two scenarios, say."""
        self._moves = grids
        self._scope = ()
        self._legend = {"grid": legend, "unchanged": translate("RebalancePage", "unchanged")}
        self.redraw()

    def redraw(self) -> None:
        self.figure.clear()
        ax = self.figure.add_axes((0, 0, 1, 1))
        if self.shapes is None:
            ax.set_axis_off()
            ax.text(
                0.5,
                0.5,
                translate("RebalancePage", "Loading the map…"),
                ha="center",
                transform=ax.transAxes,
            )
        else:
            draw_moves_map(
                ax,
                self.shapes,
                self._moves,
                scope_teams=self._scope,
                labels=self._legend
                or {
                    "grid": translate("RebalancePage", "grid changes owner"),
                    "customers": translate("RebalancePage", "some customers move"),
                    "unchanged": translate("RebalancePage", "unchanged"),
                },
                selected=self.selected,
            )
        self.axes = ax
        self._overlay = []
        self.draw_picked()

    def draw_picked(self) -> None:
        """Draw the picked grids and the lasso over the map (the map itself is not redrawn)."""
        for artist in self._overlay:
            artist.remove()
        self._overlay = []
        ax = self.axes
        if ax is None or self.shapes is None:
            self.canvas.draw_idle()
            return
        paths = [self._paths[c] for c in self.picked if c in self._paths]
        if paths:
            self._overlay.append(
                ax.add_collection(
                    PatchCollection(
                        [PathPatch(p) for p in paths],
                        facecolor=(0.04, 0.36, 0.84, 0.18),
                        edgecolor=PICKED,
                        hatch="///",
                        linewidth=2.0,
                        zorder=5,
                    )
                )
            )
        if self.lasso:
            xs, ys = zip(*[*self.lasso, self.lasso[0]], strict=True)
            self._overlay += ax.plot(xs, ys, color=PICKED, linewidth=1.2, linestyle="--", zorder=6)
        self.canvas.draw_idle()

    def _hover(self, event) -> None:
        if self.picker is None or event.inaxes is None or event.xdata is None:
            QToolTip.hideText()
            return
        code = self.picker.at(event.xdata, event.ydata)
        shapes = {g.code: g for g in self.shapes or ()}
        text = None
        if code is not None and any(m.grid_code == code for m in self._moves):
            text = tooltip_text(code, shapes, self._moves)
        elif code is not None and self.reason is not None:
            why = self.reason(code)
            if why:
                text = tooltip_text(code, shapes, ()) + "\n" + why
        if text:
            QToolTip.showText(QCursor.pos(), text, self.canvas)
        else:
            QToolTip.hideText()
