"""The trade-off of a rebalancing proposal as a small chart: one point per plan, its largest
workload against the disruption it causes (what its moved customers lose); the point on screen
ringed, the recommended one starred. Clicking a point shows that plan."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from PySide6.QtCore import Signal

from app.services.rebalance.plan import Plan
from app.views.i18n import translate

PICK_RADIUS_PT = 7


class FrontierChart(FigureCanvasQTAgg):
    """The proposal's plans, balance against disruption, and the plan as edited when it is no
    longer one of them.

    Signals:
        point_clicked(int): the index of the frontier point the user clicked.
    """

    point_clicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(Figure(figsize=(3.4, 1.7), dpi=90))
        self.setParent(parent)
        self.setObjectName("frontier_chart")
        self.setToolTip(
            translate(
                "RebalancePage",
                "Each point is a plan: further left disrupts fewer customers, lower balances "
                "better. Click one to see it.",
            )
            + " "
            + translate(
                "RebalancePage",
                "A white diamond marks the plan as edited, once it is none of them.",
            )
        )
        self.figure.subplots_adjust(left=0.2, right=0.97, top=0.93, bottom=0.3)
        self.axes = self.figure.add_subplot()
        self._points: PathCollection | None = None  # the frontier's plans, to pick from
        self._edited: PathCollection | None = None  # the plan as edited, when off the frontier
        self.mpl_connect("pick_event", self._picked)
        self.show_proposal(None, None)

    def show_proposal(self, proposal: Plan | None, current: int | None) -> None:
        """Draw the frontier of ``proposal`` (nothing for a plan without one), ``current``
        ringed."""
        ax = self.axes
        ax.clear()
        self._points = None
        self._edited = None
        ax.tick_params(labelsize=7)
        if proposal is None or not proposal.frontier:
            ax.set_axis_off()
            self.draw_idle()
            return
        ax.set_axis_on()
        xs = [p.disruption for p in proposal.frontier]
        ys = [p.after_max for p in proposal.frontier]
        ax.plot(xs, ys, color="#8c959f", linewidth=1, zorder=1)
        self._points = ax.scatter(xs, ys, s=28, color="#1f6feb", zorder=2, picker=PICK_RADIUS_PT)
        knee = proposal.point  # the recommended plan: the one the proposal opened on
        if knee is not None:
            ax.scatter([xs[knee]], [ys[knee]], s=90, marker="*", color="#bf8700", zorder=3)
        if current is not None and 0 <= current < len(xs):
            ax.scatter(
                [xs[current]],
                [ys[current]],
                s=130,
                facecolors="none",
                edgecolors="#cf222e",
                linewidths=1.6,
                zorder=4,
            )
        ax.margins(0.15)  # no point sits on the frame, where it would be cut
        ax.set_xlabel(translate("RebalancePage", "Disruption"), fontsize=7)
        ax.set_ylabel(translate("RebalancePage", "Largest workload"), fontsize=7)
        self.draw_idle()

    def show_edited(self, plan: Plan | None) -> None:
        """Mark where the plan as edited (in the table or on the map) stands: an edit is no
        point of the frontier, so it gets its own marker; None takes the marker away."""
        if self._edited is not None:
            self._edited.remove()
            self._edited = None
        if plan is not None and self._points is not None:
            self._edited = self.axes.scatter(
                [plan.disruption],
                [plan.after_max],
                s=60,
                marker="D",
                facecolors="white",
                edgecolors="#1b1f23",
                linewidths=1.4,
                zorder=5,
            )
        self.draw_idle()

    def edited_position(self) -> tuple[float, float] | None:
        """Return where the edited plan's marker is drawn, in data coordinates (or None)."""
        if self._edited is None:
            return None
        # get_offsets() is an (n, 2) array; matplotlib's stub says only "ArrayLike".
        x, y = np.asarray(self._edited.get_offsets())[0]
        return float(x), float(y)

    def point_positions(self) -> list[tuple[float, float]]:
        """Return where each point is drawn, in the canvas's pixels (for tests and tooltips)."""
        if self._points is None:
            return []
        offsets = np.asarray(self._points.get_offsets())
        return [tuple(self.axes.transData.transform(xy)) for xy in offsets]

    def _picked(self, event) -> None:
        if event.artist is self._points and len(event.ind):
            self.point_clicked.emit(int(event.ind[0]))
