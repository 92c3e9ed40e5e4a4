"""Editing a rebalancing plan on the map: pick grids (:mod:`app.views.map_selection`), then give
them to a specialist from a menu (the "Give selected grids to…" button, or a right-click on the
map). The edit goes through the moves table's model, so the workloads, chart, map, summary and
trade-off follow exactly as they do for an edit in the table."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from PySide6.QtGui import QCursor, QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QVBoxLayout, QWidget

from app.services.mapping.moves import GridShape
from app.services.rebalance.editing import allowed_takers, grid_sources
from app.services.rebalance.offers import GridOffer, read_grid_offers
from app.services.rebalance.plan import Plan, PlanError
from app.views.context import AppContext
from app.views.errors import error_text
from app.views.i18n import arg, translate
from app.views.map_selection import GridSelector
from app.views.messages import inform
from app.views.rebalance_models import MovesModel
from app.views.rebalance_plot import PlanMap


def _offers_key(plan: Plan) -> tuple:
    """What the grids' offers depend on: read again only when it changes."""
    return (
        plan.branch_id,
        plan.as_of,
        plan.weights,
        plan.keep_from_step,
        plan.move_costs,
        tuple(sorted(s.id for s in plan.specialists)),
    )


class MapEditor(QWidget):
    """The plan's map with a line above it: what is picked, and the button that gives it."""

    def __init__(
        self,
        ctx: AppContext,
        plan_map: PlanMap,
        moves: MovesModel,
        team_names: Mapping[str, str],
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.map = plan_map
        self.moves = moves
        self.team_names = dict(team_names)
        self._offers: dict[str, GridOffer] | None = None
        self._key: tuple | None = None
        self._shapes_of: tuple[int, dict[str, GridShape]] = (0, {})
        self.selector = GridSelector(plan_map, self.reason)
        plan_map.reason = self.reason
        self.label = QLabel()
        self.label.setObjectName("map_selection")
        # On two lines if need be: on one it held the page's right side wider than the moves
        # need, and the workloads beside them lost the room on a laptop.
        self.label.setWordWrap(True)
        self.give_button = QPushButton(translate("MapEditing", "Give selected grids to…"))
        self.give_button.setObjectName("give_grids")
        self.menu = QMenu(self)
        self.menu.setObjectName("give_menu")
        self.menu.aboutToShow.connect(self.target_menu)
        self.give_button.setMenu(self.menu)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.label, 1)
        bar.addWidget(self.give_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(plan_map, 1)
        self.selector.selection_changed.connect(self.refresh)
        self.selector.menu_requested.connect(self._popup)
        self.refresh()

    # --- the plan and the grids' offers ----------------------------------------------------

    def plan_shown(self, plan: Plan) -> None:
        """A new plan is on screen: nothing picked; the grids' offers read under its rules in
        the background, unless read already under the same ones."""
        self.selector.clear()
        if _offers_key(plan) != self._key:
            self._read(plan)

    def data_changed(self) -> None:
        """The database changed: read the offers again (versions and owners moved on)."""
        plan = self.moves.plan()
        self._key, self._offers = None, None
        if plan is not None:
            self._read(plan)
        self.refresh()

    def offers(self) -> dict[str, GridOffer] | None:
        """What each grid of the plan's scope would take to a new owner (None: being read)."""
        return self._offers

    def _read(self, plan: Plan) -> None:
        key = _offers_key(plan)
        self._key, self._offers = key, None
        self.ctx.runner.start(
            "rebalance.offers",
            self.ctx.read(lambda s: read_grid_offers(s, plan)),
            on_done=lambda offers: self._offers_read(key, offers),
            on_error=lambda exc: inform(
                self, translate("MapEditing", "Give grids"), error_text(exc), warning=True
            ),
        )

    def _offers_read(self, key: tuple, offers: dict[str, GridOffer]) -> None:
        if key == self._key:
            self._offers = offers
            self.refresh()

    # --- which grids may be picked ---------------------------------------------------------

    def _shape(self, code: str) -> GridShape | None:
        shapes = self.map.shapes or []
        if self._shapes_of[0] != id(shapes):
            self._shapes_of = (id(shapes), {g.code: g for g in shapes})
        return self._shapes_of[1].get(code)

    def reason(self, code: str) -> str | None:
        """Return why grid ``code`` may not be picked, or None if it may."""
        plan = self.moves.plan()
        if plan is None:
            return None
        offer = (self._offers or {}).get(code)
        if offer is not None:
            return (
                translate("MapEditing", "Locked: it stays with its owner") if offer.locked else None
            )
        if any(m.grid_code == code and m.kind == "grid" for m in plan.moves):
            return None
        shape = self._shape(code)
        if shape is None or shape.owner_no is None:
            return translate("MapEditing", "Nobody owns this grid: there is nothing to give")
        if plan.scope and shape.team_code not in plan.scope:
            return translate("MapEditing", "Outside this plan's teams")
        if shape.owner_no not in {s.employee_no for s in plan.specialists}:
            return translate("MapEditing", "Its owner is not in this plan (not active)")
        return (
            None if self._offers is None else translate("MapEditing", "Outside this plan's scope")
        )

    # --- the menu and the gift -------------------------------------------------------------

    def _editable(self) -> bool:
        return self.moves.plan() is not None and self.moves.editable

    def refresh(self) -> None:
        """Bring the line above the map up to date (what is picked, whether it can be given)."""
        plan = self.moves.plan()
        self.selector.enabled = plan is not None
        codes = self.selector.selected
        if plan is None:
            text = translate("MapEditing", "Propose a plan to give grids on the map.")
        elif not codes:
            text = translate(
                "MapEditing",
                "Click a grid to select it, Shift-click to add one, drag to draw a lasso.",
            )
        else:
            customers = sum(o.customers for c in codes if (o := (self._offers or {}).get(c)))
            text = (
                translate("MapEditing", "%1 grid selected · %2 customers")
                if len(codes) == 1
                else translate("MapEditing", "%1 grids selected · %2 customers")
            )
            text = arg(text, str(len(codes)), f"{customers:,}")
        self.label.setText(text)
        ready = self._editable() and bool(codes) and self._offers is not None
        self.give_button.setEnabled(ready)
        if self._offers is None and plan is not None:
            self.give_button.setToolTip(translate("MapEditing", "Reading the grids' workloads…"))
        elif not self.moves.editable:
            self.give_button.setToolTip(
                translate("MapEditing", "The plan was applied: undo it to edit it again")
            )
        else:
            self.give_button.setToolTip(
                translate(
                    "MapEditing", "Give the selected grids to a specialist (or right-click the map)"
                )
            )

    def target_menu(self) -> QMenu:
        """Fill the menu of who may take the picked grids (by team, with each one's workload
        after the plan against capacity) and return it."""
        menu = self.menu
        menu.clear()
        plan, offers, codes = self.moves.plan(), self._offers, self.selector.selected
        if plan is None or offers is None or not codes or not self._editable():
            menu.addAction(
                translate("MapEditing", "Select grids in the plan's scope first")
            ).setEnabled(False)
            return menu
        sources = grid_sources(plan, codes, offers)
        takers = allowed_takers(
            plan,
            set(sources.values()),
            may_cross_teams=self.ctx.user.may_move_across_teams,
            excluded=self.moves.excluded(),
        )
        after, customers = plan.loads_after(), plan.customers_after()
        team = None
        bold = QFont(menu.font())
        bold.setBold(True)
        for s in takers:
            if s.team_code != team:
                if team is not None:
                    menu.addSeparator()
                team = s.team_code
                header = menu.addAction(self.team_names.get(team, team))
                header.setFont(bold)
                header.setEnabled(False)
            text = arg(
                translate("MapEditing", "%1 (%2) · workload %3 after · %4 / %5 customers"),
                s.name,
                s.employee_no,
                f"{after[s.employee_no]:,.1f}",
                f"{customers[s.employee_no]:,}",
                f"{s.capacity:,}",
            )
            if s.employee_no in sources.values():
                text += " · " + translate("MapEditing", "gives them now")
            action = menu.addAction(text)
            action.setObjectName(f"give_to_{s.employee_no}")
            action.setData(s.employee_no)
            action.triggered.connect(partial(self.give_to, s.employee_no))
        return menu

    def _popup(self) -> None:
        self.target_menu().popup(QCursor.pos())

    def give_to(self, employee_no: str, *_args) -> None:
        """Give every picked grid to ``employee_no``; say why when that cannot be done."""
        codes = self.selector.selected
        if not codes or self._offers is None or not self._editable():
            return
        try:
            self.moves.give_grids(codes, employee_no, self._offers)
        except PlanError as exc:
            inform(self, translate("MapEditing", "Give grids"), error_text(exc), warning=True)
            return
        self.selector.select(codes)  # the same grids, without the lasso that picked them
