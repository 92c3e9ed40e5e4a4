"""Rebalancing: propose moves that even out the specialists' workloads, see them as a chart, a
table and on the map, drop or redirect moves, save or load the plan, and apply it in one
transaction (undone with Edit ▸ Undo)."""

from __future__ import annotations

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.services.changes import Changes
from app.services.mapping.moves import GridShape, grid_shapes
from app.services.people import org
from app.services.rebalance.apply import sms_preview
from app.services.rebalance.editing import describe_counts, workload_changes
from app.services.rebalance.plan import Plan, PlanError
from app.services.rebalance.problem import SAFETY_LIMIT_S
from app.services.rebalance.scenarios import keep_scenario
from app.services.rebalance.scheduled import branch_today
from app.services.render.fonts import configure_matplotlib
from app.settings import Preferences
from app.views import labels
from app.views.context import AppContext, call
from app.views.errors import error_text
from app.views.frontier_chart import FrontierChart
from app.views.i18n import arg
from app.views.labels import counted, listed
from app.views.layout import refit_side_by_side, share_by_content
from app.views.map_editing import MapEditor
from app.views.messages import ask, inform, sms_outcome
from app.views.pages import PageWidget
from app.views.rebalance_models import (
    MOVE_ROLE,
    TO,
    MovesModel,
    TargetDelegate,
    fit_moves_table,
    workload_columns,
)
from app.views.rebalance_plot import PlanMap, draw_plan_chart
from app.views.rebalance_proposal import (
    ProposalRequest,
    plan_summary,
    point_label,
    run_proposal,
)
from app.views.scenarios import ScenariosDialog
from app.views.scheduled_plans import (
    EffectiveDate,
    ScheduledDialog,
    schedule_job,
    scheduled_button,
)
from app.views.step_lock import StepLock
from app.views.table_export import install_table_export
from app.views.table_models import SORT_ROLE, RowTableModel
from app.views.undo import Applied, apply_job

_C = "RebalancePage"


class RebalancePage(PageWidget):
    """Signals:
    changed(object): after a plan was applied (the ApplyResult).
    applied(object): the same moment, with the plan, for the window's undo history (Applied).
    proposed(): a plan is on screen (proposed or loaded).

    Follows the window's selected grid: outlined on the plan's map, its move (if the plan moves
    it) selected. It filters nothing: a plan is applied whole.
    """

    proposed = Signal()

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        # A safety net only: the search is limited by work (the same data, the same plan).
        self.time_limit_s = SAFETY_LIMIT_S
        self._applied_batch: int | None = None
        # Supervisors change assignments inside their team, senior supervisors anywhere.
        self.may_apply = ctx.user.may_reassign_tasks and not ctx.read_only
        configure_matplotlib()
        with ctx.Session() as s:
            teams = org.teams(s, branch_id=ctx.user.branch_id, team_ids=ctx.user.team_scope())

        self.scope = QComboBox()
        self.scope.setObjectName("scope")
        if ctx.user.may_move_across_teams:
            self.scope.addItem(self.tr("Whole branch"), None)
        for t in teams:
            self.scope.addItem(t.name, t.id)
        self.max_moves = QSpinBox()
        self.max_moves.setObjectName("max_moves")
        self.max_moves.setRange(0, 999)
        self.max_moves.setSpecialValueText(self.tr("No limit"))
        self.max_moves.setValue(20)
        self.max_distance = QDoubleSpinBox()
        self.max_distance.setObjectName("max_distance")
        self.max_distance.setRange(0, 50)
        self.max_distance.setSingleStep(0.5)
        self.max_distance.setSuffix(" km")
        self.max_distance.setSpecialValueText(self.tr("Neighbouring grids only"))
        self.max_distance.setToolTip(
            self.tr(
                "Grids go to the owner of a neighbouring grid, or also to anyone owning a grid "
                "within this distance"
            )
        )
        self.grids_only = QCheckBox(self.tr("Whole grids only"))
        self.grids_only.setObjectName("grids_only")
        self.step_lock = StepLock(ctx, self)
        self.scope.currentIndexChanged.connect(lambda _i: self.step_lock.set_scope(self._teams()))
        self.step_lock.set_scope(self._teams())
        self.propose_button = QPushButton(self.tr("Propose"))
        self.propose_button.setObjectName("propose")
        self.propose_button.setDefault(True)
        self.propose_button.clicked.connect(self.propose)
        self.load_button = QPushButton(self.tr("Load plan…"))
        self.load_button.setObjectName("load_plan")
        self.load_button.clicked.connect(lambda: self.load_plan())
        self.save_button = QPushButton(self.tr("Save plan…"))
        self.save_button.setObjectName("save_plan")
        self.save_button.clicked.connect(lambda: self.save_plan())
        params = QHBoxLayout()
        for text, w in (
            (self.tr("Scope"), self.scope),
            (self.tr("At most"), self.max_moves),
            (self.tr("moves; distance"), self.max_distance),
        ):
            params.addWidget(QLabel(text))
            params.addWidget(w)
        params.addWidget(self.grids_only)
        params.addWidget(self.step_lock)
        params.addWidget(self.propose_button)
        params.addStretch(1)
        self.keep_button = QPushButton(self.tr("Keep…"))
        self.keep_button.setObjectName("keep_scenario")
        self.keep_button.setToolTip(
            self.tr("Keep the plan in the database under a name, to compare and apply later")
        )
        self.keep_button.clicked.connect(lambda: self.keep_plan())
        self.scenarios_button = QPushButton(self.tr("Scenarios…"))
        self.scenarios_button.setObjectName("scenarios")
        self.scenarios_button.clicked.connect(self.open_scenarios)
        self.scenarios_dialog: ScenariosDialog | None = None
        self.scheduled_button = scheduled_button(self)
        self.scheduled_button.clicked.connect(lambda: self.open_scheduled())
        # What is done with a plan, beside the chooser of plans rather than after the limits:
        # on one row with them the page was wider than a 1366-pixel laptop.
        plans = QGridLayout()
        for i, button in enumerate(
            (
                self.load_button,
                self.save_button,
                self.keep_button,
                self.scenarios_button,
                self.scheduled_button,
            )
        ):
            plans.addWidget(button, i // 2, i % 2)

        self.tradeoff = QComboBox()
        self.tradeoff.setObjectName("tradeoff")
        self.tradeoff.setToolTip(
            self.tr(
                "The plans between the best balance and the fewest customers moved; the "
                "recommended one is where moving more customers stops buying much balance"
            )
        )
        self.tradeoff.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.tradeoff.activated.connect(self._point_chosen)
        self._proposal: Plan | None = None
        self.frontier = FrontierChart(self)
        self.frontier.setFixedSize(340, 130)
        self.frontier.point_clicked.connect(self.choose_point)
        choice = QHBoxLayout()
        choice.addWidget(QLabel(self.tr("Trade-off")))
        choice.addWidget(self.tradeoff)
        choice.addWidget(self.frontier)
        choice.addStretch(1)
        choice.addLayout(plans)
        choice.setAlignment(plans, Qt.AlignmentFlag.AlignTop)

        self.summary = QLabel(
            self.tr("Choose the scope and the limits, then Propose: it takes a few seconds.")
        )
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)

        self.figure = Figure(figsize=(6, 4))
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setObjectName("workload_chart")
        team_names = {t.code: t.name for t in call(ctx, org.teams, branch_id=ctx.user.branch_id)}
        self.workloads = RowTableModel(workload_columns(team_names), self)
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(self.workloads)
        proxy.setSortRole(SORT_ROLE)
        self.workload_table = _table("workload_table", proxy, sortable=True)
        install_table_export(self.workload_table, name=self.tr("Workloads"), runner=ctx.runner)

        self.moves = MovesModel(self)
        self.moves.edited.connect(self._edited)
        self.moves_table = _table("moves_table", self.moves)
        install_table_export(self.moves_table, name=self.tr("Moves"), runner=ctx.runner)
        self.moves_table.setItemDelegateForColumn(TO, TargetDelegate(self.moves_table))
        self.moves_table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.moves_table.selectionModel().currentRowChanged.connect(self._move_selected)
        self.map = PlanMap(self)
        # Picking grids on the map and giving them to someone: an edit like one in the table.
        self.map_editor = MapEditor(ctx, self.map, self.moves, team_names, self)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.canvas)
        left.addWidget(self.workload_table)
        left.setSizes([420, 280])
        right = QSplitter(Qt.Orientation.Vertical)
        moves_box = QGroupBox(self.tr("Moves (untick to drop one, double-click “To” to change)"))
        QVBoxLayout(moves_box).addWidget(self.moves_table)
        right.addWidget(moves_box)
        right.addWidget(self.map_editor)
        right.setSizes([330, 370])
        for table in (self.moves_table, self.workload_table):
            # Sized to their columns (share_by_content): a stretched last column would only
            # take room the other side needs.
            table.horizontalHeader().setStretchLastSection(False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setSizes([560, 640])

        self.apply_button = QPushButton(self.tr("Apply plan…"))
        self.apply_button.setObjectName("apply")
        self.apply_button.clicked.connect(self.apply)
        if ctx.read_only:
            self.apply_button.setToolTip(self.tr("An offline snapshot is read-only"))
        elif not self.may_apply:
            self.apply_button.setToolTip(self.tr("Your role may not change assignments"))
        self.undo_button = QToolButton()
        self.undo_button.setObjectName("undo_button")
        self.undo_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.effective = EffectiveDate(call(ctx, branch_today, ctx.user.branch_id))
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.undo_button)
        bottom.addWidget(QLabel(self.tr("Takes effect")))
        bottom.addWidget(self.effective)
        bottom.addWidget(self.apply_button)

        layout = QVBoxLayout(self)
        layout.addLayout(params)
        layout.addLayout(choice)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(bottom)
        self._loaded = False
        self._show_empty()
        ctx.selection.changed.connect(lambda picked: self.follow_grid(picked.grid))
        self.follow_grid(ctx.selection.current().grid)

    # --- showing a plan ------------------------------------------------------------------

    def activate(self) -> None:
        if not self._loaded:
            self._loaded = True
            branch_id = self.ctx.user.branch_id
            self.ctx.runner.start(
                "rebalance.shapes",
                self.ctx.read(lambda s: grid_shapes(s, branch_id=branch_id)),
                on_done=self._shapes_loaded,
                on_error=lambda exc: inform(
                    self, self.tr("Rebalance"), error_text(exc), warning=True
                ),
            )

    def _shapes_loaded(self, shapes: list[GridShape]) -> None:
        self.map.shapes = shapes
        self.map.redraw()

    def set_undo_action(self, action) -> None:
        """Show the window's Undo action as a button beside Apply."""
        self.undo_button.setDefaultAction(action)

    def plan(self) -> Plan | None:
        """Return the plan on screen as edited, or None."""
        return self.moves.plan()

    def _show_empty(self) -> None:
        self.figure.clear()
        ax = self.figure.add_subplot()
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            self.tr("No proposal yet"),
            ha="center",
            va="center",
            color="#8c959f",
            transform=ax.transAxes,
        )
        self.canvas.draw_idle()
        self._update_buttons()

    def show_plan(self, plan: Plan) -> None:
        """Put a proposed or loaded plan on screen, every move kept; a proposal's other plans
        (its frontier) go into the trade-off chooser."""
        self._proposal = plan if plan.frontier and plan.point is not None else None
        self._fill_tradeoff()
        self._show(plan)

    def _fill_tradeoff(self) -> None:
        self.tradeoff.clear()
        proposal = self._proposal
        self.tradeoff.setEnabled(proposal is not None)
        if proposal is None:
            self.frontier.show_proposal(None, None)
            self.tradeoff.addItem(self.tr("One plan"))
            return
        for i in range(len(proposal.frontier)):
            self.tradeoff.addItem(point_label(proposal, i, recommended=i == proposal.point), i)
        self.tradeoff.setCurrentIndex(proposal.point or 0)
        self.frontier.show_proposal(proposal, proposal.point)

    def _point_chosen(self, row: int) -> None:
        """Show the plan of the point chosen in the trade-off list."""
        if row >= 0:
            self.choose_point(self.tradeoff.itemData(row))

    def choose_point(self, index: int) -> None:
        """Show the plan of point ``index`` of the proposal's frontier (from the list or the
        chart), and mark it in both."""
        if self._proposal is None or not 0 <= index < len(self._proposal.frontier):
            return
        self.tradeoff.setCurrentIndex(self.tradeoff.findData(index))
        self.frontier.show_proposal(self._proposal, index)
        self._show(self._proposal.at_point(index))

    def _show(self, plan: Plan) -> None:
        self._applied_batch = None
        self.map_editor.plan_shown(plan)
        self.moves.set_plan(plan, may_cross_teams=self.ctx.user.may_move_across_teams)
        fit_moves_table(self.moves_table, self.moves.plan())
        self._edited()
        # A new plan: the workload table (left) and the moves (right) share the width again.
        share_by_content(self.splitter, [self.workload_table, self.moves_table])
        self.follow_grid(self.ctx.selection.current().grid)
        self.proposed.emit()

    def _edited(self) -> None:
        plan = self.moves.plan()
        if plan is None:
            return
        self.workloads.set_rows(workload_changes(plan))
        # A redirected move shows another name, and its mark: both tables fit it, once the
        # editor that made the edit has closed (Qt sizes a column to an open editor).
        QTimer.singleShot(0, self, self._refit)
        self.summary.setText(plan_summary(plan))
        draw_plan_chart(self.figure, plan)
        self.canvas.draw_idle()
        self.map.show_plan(plan, {s.employee_no: s.name for s in plan.specialists})
        # An edited plan is no point of the trade-off: the chart marks it apart.
        self.frontier.show_edited(plan if self._proposal and plan.point is None else None)
        self._update_buttons()

    def _refit(self) -> None:
        refit_side_by_side(self.splitter, [self.workload_table, self.moves_table])

    def _move_selected(self, current, _previous) -> None:
        move = current.data(MOVE_ROLE) if current.isValid() else None
        self.map.selected = move.grid_code if move else None
        self.map.redraw()

    def follow_grid(self, code: str) -> None:
        """Outline grid ``code`` on the plan's map and select its move, if any ('' for none)."""
        for row in range(self.moves.rowCount()):
            move = self.moves.index(row, 0).data(MOVE_ROLE)
            if code and move is not None and move.grid_code == code:
                self.moves_table.selectRow(row)  # outlines it, through _move_selected
                return
        if code or self.map.selected:
            self.moves_table.clearSelection()
            self.map.selected = code or None
            self.map.redraw()

    def _update_buttons(self) -> None:
        plan = self.moves.plan()
        has_moves = plan is not None and bool(plan.moves)
        self.apply_button.setEnabled(self.may_apply and has_moves and self._applied_batch is None)
        self.save_button.setEnabled(plan is not None)
        self.keep_button.setEnabled(
            plan is not None and self.ctx.user.may_reassign_tasks and not self.ctx.read_only
        )
        self.moves.editable = self._applied_batch is None
        self.map_editor.refresh()

    # --- proposing -----------------------------------------------------------------------

    def _teams(self) -> tuple[int, ...] | None:
        """Return the teams the scope chooses (None: the whole branch)."""
        team = self.scope.currentData()
        return None if team is None else (team,)

    def request(self) -> ProposalRequest:
        """Return what the parameters ask for."""
        return ProposalRequest(
            branch_id=self.ctx.user.branch_id,
            as_of=self.ctx.as_of,
            team_ids=self._teams(),
            max_moves=self.max_moves.value() or None,
            max_distance_km=self.max_distance.value() or None,
            allow_customer_moves=not self.grids_only.isChecked(),
            time_limit_s=self.time_limit_s,
            weights=Preferences().workload_weights,
            move_costs=Preferences().move_costs,
            keep_from_step=self.step_lock.value(),
        )

    def propose(self) -> None:
        """Ask the optimiser for a plan in the background."""
        request = self.request()
        Session = self.ctx.Session  # noqa: N806
        self.summary.setText(self.tr("Looking for the best moves…"))
        self.ctx.runner.start(
            "rebalance.propose",
            lambda state: run_proposal(Session, request, state),
            on_done=self.show_plan,
            on_error=lambda exc: inform(self, self.tr("Propose"), error_text(exc), warning=True),
            progress_parent=self,
            progress_title=self.tr("Looking for the best moves…"),
        )

    # --- files ---------------------------------------------------------------------------

    def save_plan(self, path: str | None = None) -> None:
        """Write the plan as edited to a JSON file (asked for when ``path`` is None)."""
        from app.services.rebalance.plan_file import write_plan

        plan = self.moves.plan()
        if plan is None:
            return
        if path is None:
            from PySide6.QtWidgets import QFileDialog

            path, _ = QFileDialog.getSaveFileName(
                self,
                self.tr("Save plan"),
                f"rebalance-plan-{self.ctx.as_of:%Y%m%d}.json",
                self.tr("Rebalancing plans (*.json)"),
            )
            if not path:
                return
        try:
            written = write_plan(path, plan)
        except OSError as exc:
            inform(self, self.tr("Save plan"), error_text(exc), warning=True)
            return
        self.summary.setText(arg(self.tr("Plan saved to %1."), str(written)))

    def load_plan(self, path: str | None = None) -> None:
        """Show a plan read from a JSON file (asked for when ``path`` is None)."""
        from app.services.rebalance.plan_file import read_plan

        if path is None:
            from PySide6.QtWidgets import QFileDialog

            path, _ = QFileDialog.getOpenFileName(
                self, self.tr("Load plan"), "", self.tr("Rebalancing plans (*.json)")
            )
            if not path:
                return
        try:
            plan = read_plan(path)
        except PlanError as exc:
            inform(self, self.tr("Load plan"), error_text(exc), warning=True)
            return
        if plan.branch_id != self.ctx.user.branch_id:
            inform(
                self,
                self.tr("Load plan"),
                arg(self.tr("This plan was made for branch %1, not for yours."), plan.branch_code),
                warning=True,
            )
            return
        self.show_plan(plan)

    # --- scenarios -----------------------------------------------------------------------

    def keep_plan(self, name: str | None = None) -> None:
        """Keep the plan as edited in the database as a scenario (its name asked for when
        ``name`` is None)."""
        plan = self.moves.plan()
        if plan is None or not self.keep_button.isEnabled():
            return
        if name is None:
            from PySide6.QtWidgets import QInputDialog

            name, ok = QInputDialog.getText(
                self, self.tr("Keep scenario"), self.tr("Name of the scenario:")
            )
            if not ok:
                return
        user = self.ctx.user
        self.ctx.runner.start(
            "rebalance.keep",
            self.ctx.write(
                lambda s: keep_scenario(
                    s,
                    plan,
                    name=name,
                    author=user.login,
                    team_scope=user.team_scope(),
                    branch_scope=user.branch_id,
                )
            ),
            on_done=self._kept,
            on_error=lambda exc: inform(
                self, self.tr("Keep scenario"), error_text(exc), warning=True
            ),
        )

    def _kept(self, info) -> None:
        self.summary.setText(arg(self.tr("Kept as scenario “%1”."), info.name))
        if self.scenarios_dialog is not None:
            self.scenarios_dialog.refresh()

    def open_scenarios(self) -> ScenariosDialog:
        """Show the kept scenarios (to show one here, compare or delete); return the dialog."""
        if self.scenarios_dialog is None:
            zone = call(self.ctx, org.branch, self.ctx.user.branch_id).timezone
            self.scenarios_dialog = ScenariosDialog(self.ctx, zone, self.map.shapes, self)
            self.scenarios_dialog.plan_chosen.connect(self.show_plan)
        else:
            self.scenarios_dialog.shapes = self.map.shapes
            self.scenarios_dialog.refresh()
        self.scenarios_dialog.show()
        return self.scenarios_dialog

    # --- applying ------------------------------------------------------------------------

    def apply(self) -> None:
        """Ask for confirmation, then apply the plan as edited in one transaction."""
        plan = self.moves.plan()
        if plan is None or not plan.moves or not self.apply_button.isEnabled():
            return
        grids, singles, customers = describe_counts(plan)
        text = arg(
            self.tr(
                "Apply this plan in one transaction?\n\n%1 and %2 change hands: %3; %4. Their "
                "open tasks go with them; done tasks stay with who did them."
            ),
            labels.grids(grids),
            counted(singles, self.tr("%1 single customer"), self.tr("%1 single customers")),
            counted(
                customers,
                self.tr("%1 customer gets a new specialist"),
                self.tr("%1 customers get a new specialist"),
            ),
            sms_outcome(call(self.ctx, sms_preview, plan)),
        )
        over = [w.name for w in workload_changes(plan) if w.over_capacity]
        if over:
            text += "\n\n" + arg(self.tr("Above capacity afterwards: %1."), listed(over))
        if self.effective.later():
            day = self.effective.day()
            text += "\n\n" + arg(
                self.tr(
                    "It takes effect on %1: until then nobody moves and no SMS goes out, and "
                    "Scheduled… can cancel it."
                ),
                day.isoformat(),
            )
            ask(
                self,
                self.tr("Apply plan"),
                text,
                lambda: self._schedule_now(day),
                yes_text=self.tr("Schedule"),
            )
            return
        text += "\n\n" + self.tr("Edit ▸ Undo (Ctrl+Z) puts everything back.")
        ask(self, self.tr("Apply plan"), text, self._apply_now, yes_text=self.tr("Apply"))

    def _schedule_now(self, day) -> None:
        plan = self.moves.plan()
        if plan is None:
            return
        self.apply_button.setEnabled(False)
        self.ctx.runner.start(
            "rebalance.schedule",
            schedule_job(self.ctx, plan, day),
            on_done=self._scheduled,
            on_error=self._apply_refused,
        )

    def _scheduled(self, info) -> None:
        self._update_buttons()
        self.summary.setText(
            arg(
                self.tr(
                    "Scheduled as plan %1, to take effect on %2: nobody moves and no SMS goes out "
                    "before. Scheduled… lists it and can cancel it."
                ),
                str(info.id),
                info.effective_on.isoformat(),
            )
        )

    def open_scheduled(self) -> QWidget:
        """Open the list of scheduled plans (window-modal) and return it."""
        dialog = ScheduledDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.changed.connect(self.changed)  # a plan cancelled: every page hears it
        dialog.open()
        return dialog

    def _apply_now(self) -> None:
        plan = self.moves.plan()
        if plan is None:
            return
        self.apply_button.setEnabled(False)
        self.ctx.runner.start(
            "rebalance.apply",
            apply_job(self.ctx, plan),
            on_done=lambda result: self._applied(plan, result),
            on_error=self._apply_refused,
            progress_parent=self,
            progress_title=self.tr("Applying the plan…"),
        )

    def _applied(self, plan: Plan, result) -> None:
        self._applied_batch = result.batch_id
        self._update_buttons()
        self.summary.setText(
            arg(
                self.tr(
                    "Applied: %1, %2 and %3 moved; %4. Edit ▸ Undo (Ctrl+Z) puts everything back."
                ),
                labels.grids(result.grids_moved),
                labels.customers(result.customers_moved),
                labels.open_tasks(result.tasks_moved),
                sms_outcome(result.sms),
            )
        )
        what = arg(self.tr("rebalance (%1)"), labels.moves(len(plan.moves)))
        self.applied.emit(Applied(plan, result, what))
        self.changed.emit(result.changes)

    def _apply_refused(self, exc: BaseException) -> None:
        self._update_buttons()
        inform(
            self,
            self.tr("Apply plan"),
            self.tr("The plan was not applied; nothing was written.") + "\n\n" + error_text(exc),
            warning=True,
        )

    def on_changes(self, changes: Changes) -> None:
        if changes.touches("customers", "grids", "tasks", "specialists"):
            # Counted and offered again only when what they rest on changed (the step count
            # is a query on this thread).
            self.step_lock.refresh()
            self.map_editor.data_changed()
        if self.moves.plan() is None:
            return
        if self._applied_batch is not None and changes.batch_id == self._applied_batch:
            return  # this page's own apply
        if self._applied_batch is not None and changes.undone_batch_id == self._applied_batch:
            self._applied_batch = None
            self._update_buttons()
            self.summary.setText(
                self.tr("The plan was undone. You may edit it and apply it again.")
            )
        elif self._applied_batch is None and changes.touches(
            "customers", "grids", "tasks", "specialists"
        ):
            self.summary.setText(
                self.tr(
                    "The data changed since this plan was made. Propose again to see the new "
                    "workloads; applying refuses anything changed in between."
                )
            )

    def save_state(self, ws, key: str) -> None:
        ws.save(f"{key}/splitter", self.splitter.saveState())

    def restore_state(self, ws, key: str) -> None:
        state = ws.restore(f"{key}/splitter")
        if state is not None:
            self.splitter.restoreState(state)


def _table(name: str, model, *, sortable: bool = False) -> QTableView:
    table = QTableView()
    table.setObjectName(name)
    table.setModel(model)
    if sortable:  # in the plan's order until a header is clicked
        table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    table.setSortingEnabled(sortable)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    return table
