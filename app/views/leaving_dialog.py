"""A specialist leaves (or goes on leave): what they hold on the leaving date (grids, customers,
open tasks), the new owners the rebalancer proposes within their team (a senior supervisor may
widen it to the branch), and the handover applied in one transaction, undoable like a rebalance.

Applying records the leaver's status with the hand-over (left from the leaving date, or on
leave), so that rebalancing and matching pass them by; undo puts it back. The unlocked customers
the plan leaves behind (in locked grids, without a grid) may be given to one colleague in scope:
they join the plan as single-customer moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QDate, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session, sessionmaker

from app.models.enums import SpecialistStatus
from app.services.leaving.handover import make_handover_plan
from app.services.leaving.impact import LeavingImpact, leaving_impact
from app.services.leaving.left_behind import (
    Handover,
    left_behind_targets,
    with_left_behind,
)
from app.services.people import org
from app.services.progress import JobState
from app.services.rebalance.apply import Leaving, sms_preview
from app.services.rebalance.editing import describe_counts, workload_changes
from app.services.rebalance.problem import SAFETY_LIMIT_S
from app.settings import Preferences
from app.views import labels
from app.views.calendar import py_date
from app.views.context import AppContext, call
from app.views.errors import error_text
from app.views.i18n import arg
from app.views.labels import counted, listed, sentence_gap, yuan
from app.views.layout import refit_side_by_side, share_by_content
from app.views.leaving_texts import (
    customer_columns,
    grid_columns,
    handover_left_text,
    task_columns,
)
from app.views.messages import ask, inform, sms_outcome
from app.views.rebalance_models import (
    TO,
    MovesModel,
    TargetDelegate,
    fit_moves_table,
    workload_columns,
)
from app.views.rebalance_proposal import clock_note, solver_note
from app.views.table_export import install_table_export
from app.views.table_models import RowTableModel
from app.views.undo import Applied, apply_job


@dataclass(frozen=True)
class Leaver:
    """Who is leaving, as the roster knows them."""

    specialist_id: int
    employee_no: str
    name: str
    team_id: int
    team_name: str = ""


def run_handover(
    Session: sessionmaker[Session],  # noqa: N803
    leaver: Leaver,
    as_of: date,
    team_ids: tuple[int, ...] | None,
    time_limit_s: float,
    state: JobState,
) -> Handover:
    """Return the proposed handover (the background job)."""
    with Session() as s:
        return make_handover_plan(
            s,
            specialist_id=leaver.specialist_id,
            as_of=as_of,
            team_ids=team_ids,
            weights=Preferences().workload_weights,
            time_limit_s=time_limit_s,
        )


class LeavingDialog(QDialog):
    """Signals:
    applied(object): the handover was applied (Applied), for the window's undo history.
    changed(object): the same moment, with the ApplyResult.
    proposed(): a handover proposal is on screen.
    """

    applied = Signal(object)
    changed = Signal(object)
    proposed = Signal()

    def __init__(self, ctx: AppContext, leaver: Leaver, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.leaver = leaver
        # A safety net only: the search is limited by work (the same data, the same plan).
        self.time_limit_s = SAFETY_LIMIT_S
        self._handover: Handover | None = None
        self._applied = False
        self.may_apply = ctx.user.may_reassign_tasks and not ctx.read_only
        self.setWindowTitle(
            arg(self.tr("Specialist leaves: %1 (%2)"), leaver.name, leaver.employee_no)
        )
        screen = self.screen()
        self.resize(fitted_size(screen.availableGeometry()) if screen else QSize(1150, 760))

        self.leaving_on = QDateEdit()
        self.leaving_on.setObjectName("leaving_on")
        self.leaving_on.setCalendarPopup(True)
        self.leaving_on.setDisplayFormat("yyyy-MM-dd")
        as_of = ctx.as_of
        self.leaving_on.setDate(QDate(as_of.year, as_of.month, as_of.day))
        self.leaving_on.dateChanged.connect(self.load_impact)
        self.outcome = QComboBox()
        self.outcome.setObjectName("outcome")
        self.outcome.addItem(self.tr("leaves the company"), SpecialistStatus.LEFT)
        self.outcome.addItem(self.tr("goes on leave"), SpecialistStatus.LEAVE)
        self.outcome.setToolTip(
            self.tr(
                "Recorded with the hand-over: from then on rebalancing and address matching "
                "pass this specialist by. Undo puts the status back."
            )
        )
        self.widen = QCheckBox(self.tr("Whole branch (also other teams)"))
        self.widen.setObjectName("widen")
        self.widen.setVisible(ctx.user.may_move_across_teams)
        self.widen.toggled.connect(self.propose)
        heading = QLabel(
            " · ".join(p for p in (f"{leaver.name} ({leaver.employee_no})", leaver.team_name) if p)
        )
        heading.setObjectName("heading")
        heading.setStyleSheet("font-size: 16px; font-weight: bold;")
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addSpacing(24)
        top.addWidget(QLabel(self.tr("Leaving on")))
        top.addWidget(self.leaving_on)
        top.addWidget(self.outcome)
        top.addSpacing(24)
        top.addWidget(self.widen)
        top.addStretch(1)
        self.impact_text = QLabel(self.tr("Loading…"))
        self.impact_text.setObjectName("impact_text")
        self.impact_text.setWordWrap(True)

        self.grids = RowTableModel(grid_columns(), self)
        self.customers = RowTableModel(customer_columns(), self)
        self.tasks = RowTableModel(task_columns(), self)
        self.tabs = QTabWidget()
        for model, name, title in (
            (self.grids, "grids_table", self.tr("Grids")),
            (self.customers, "customers_table", self.tr("Customers")),
            (self.tasks, "tasks_table", self.tr("Open tasks")),
        ):
            table = _table(name, model)
            install_table_export(table, name=f"{leaver.name} {title}", runner=ctx.runner)
            table.horizontalHeader().setStretchLastSection(False)
            self.tabs.addTab(table, "")
        impact_box = QGroupBox(self.tr("What they hold"))
        ibox = QVBoxLayout(impact_box)
        ibox.addWidget(self.impact_text)
        ibox.addWidget(self.tabs, 1)

        self.moves = MovesModel(self)
        self.moves.edited.connect(self._edited)
        self.moves_table = _table("moves_table", self.moves)
        install_table_export(self.moves_table, name=self.tr("Handover"), runner=ctx.runner)
        self.moves_table.setItemDelegateForColumn(TO, TargetDelegate(self.moves_table))
        self.moves_table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        team_names = {t.code: t.name for t in call(ctx, org.teams, branch_id=ctx.user.branch_id)}
        self.workloads = RowTableModel(workload_columns(team_names), self)
        self.workload_table = _table("workload_table", self.workloads)
        install_table_export(self.workload_table, name=self.tr("Workloads"), runner=ctx.runner)
        self.proposal_text = QLabel()
        self.proposal_text.setObjectName("proposal_text")
        self.proposal_text.setWordWrap(True)
        self.left_behind = QLabel()
        self.left_behind.setObjectName("left_behind")
        self.left_behind.setWordWrap(True)
        self.left_behind.setStyleSheet("color: #b3261e;")
        self.give_to = QComboBox()
        self.give_to.setObjectName("give_to")
        self.give_to.setToolTip(
            self.tr(
                "The unlocked customers left behind (in locked grids or without a grid) go to "
                "this colleague, with their open tasks. Locked customers stay."
            )
        )
        self.give_button = QPushButton(self.tr("Add to the plan"))
        self.give_button.setObjectName("give")
        self.give_button.clicked.connect(self.give_left_behind)
        self.give_row = QWidget()
        give = QHBoxLayout(self.give_row)
        give.setContentsMargins(0, 0, 0, 0)
        give.addWidget(QLabel(self.tr("Give them to")))
        give.addWidget(self.give_to)
        give.addWidget(self.give_button)
        self.give_row.setVisible(False)
        for table in (self.moves_table, self.workload_table):
            # Side by side, each sized to its columns: a stretched last column would only
            # take room the other table needs.
            table.horizontalHeader().setStretchLastSection(False)
        self.tables_split = split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.moves_table)
        split.addWidget(self.workload_table)
        split.setSizes([620, 500])
        proposal_box = QGroupBox(self.tr("Proposed new owners"))
        pbox = QVBoxLayout(proposal_box)
        pbox.addWidget(self.proposal_text)
        pbox.addWidget(split, 1)
        left_row = QHBoxLayout()
        left_row.addWidget(self.left_behind, 1)
        left_row.addWidget(self.give_row, 0, Qt.AlignmentFlag.AlignTop)
        pbox.addLayout(left_row)

        self.propose_button = QPushButton(self.tr("Propose again"))
        self.propose_button.setObjectName("propose")
        self.propose_button.clicked.connect(self.propose)
        self.apply_button = QPushButton(self.tr("Apply handover…"))
        self.apply_button.setObjectName("apply")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        if ctx.read_only:
            self.apply_button.setToolTip(self.tr("An offline snapshot is read-only"))
        close = QPushButton(self.tr("Close"))
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.propose_button)
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(close)

        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(impact_box)
        body.addWidget(proposal_box)
        body.setSizes([330, 400])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(body, 1)
        layout.addLayout(buttons)

    def start(self) -> None:
        """Read what the specialist holds and propose new owners (both in the background)."""
        self.load_impact()
        self.propose()

    # --- what they hold ------------------------------------------------------------------

    def leaving_date(self) -> date:
        return py_date(self.leaving_on.date())

    def leaving(self) -> Leaving:
        """Return the status the hand-over records for the leaver."""
        return Leaving(self.leaver.specialist_id, self.outcome.currentData(), self.leaving_date())

    def load_impact(self) -> None:
        sid, on = self.leaver.specialist_id, self.leaving_date()
        self.ctx.runner.start(
            f"leaving.impact.{sid}",
            self.ctx.read(lambda s: leaving_impact(s, specialist_id=sid, leaving_on=on)),
            on_done=self._show_impact,
            on_error=lambda exc: inform(self, self.windowTitle(), error_text(exc), warning=True),
        )

    def _show_impact(self, impact: LeavingImpact) -> None:
        due_before = sum(1 for t in impact.open_tasks if t.due_before_leaving)
        self.impact_text.setText(
            arg(
                self.tr(
                    "%1, %2 and %3 (%4 due before the leaving date); %5 of premium falls due in "
                    "the 90 days from the leaving date."
                ),
                labels.grids(len(impact.grids)),
                labels.customers(len(impact.customers)),
                labels.open_tasks(len(impact.open_tasks)),
                str(due_before),
                yuan(impact.premium_due_90d_fen),
            )
        )
        self.grids.set_rows(impact.grids)
        self.customers.set_rows(impact.customers)
        self.tasks.set_rows(impact.open_tasks)
        titles = (
            arg(self.tr("Grids (%1)"), str(len(impact.grids))),
            arg(self.tr("Customers (%1)"), str(len(impact.customers))),
            arg(self.tr("Open tasks (%1)"), str(len(impact.open_tasks))),
        )
        for i, title in enumerate(titles):
            self.tabs.setTabText(i, title)
            table = self.tabs.widget(i)
            if isinstance(table, QTableView):  # every tab is one
                table.resizeColumnsToContents()

    # --- the proposal --------------------------------------------------------------------

    def team_ids(self) -> tuple[int, ...] | None:
        """The teams the new owners come from: the leaver's, or None for the whole branch."""
        if self.widen.isChecked() and self.ctx.user.may_move_across_teams:
            return None
        return (self.leaver.team_id,)

    def propose(self) -> None:
        Session, leaver, as_of = self.ctx.Session, self.leaver, self.ctx.as_of  # noqa: N806
        teams, limit = self.team_ids(), self.time_limit_s
        self.proposal_text.setText(self.tr("Looking for new owners…"))
        self.apply_button.setEnabled(False)
        self.give_row.setVisible(False)
        self.ctx.runner.start(
            f"leaving.propose.{leaver.specialist_id}",
            lambda state: run_handover(Session, leaver, as_of, teams, limit, state),
            on_done=self._show_handover,
            on_error=self._proposal_failed,
            progress_parent=self,
            progress_title=self.tr("Looking for new owners…"),
        )

    def _proposal_failed(self, exc: BaseException) -> None:
        self.proposal_text.setText(error_text(exc))
        self.moves.set_plan(None, may_cross_teams=False)
        self.workloads.set_rows([])
        self.left_behind.clear()
        self.give_row.setVisible(False)

    def _show_handover(self, handover: Handover) -> None:
        self._handover = handover
        self._applied = False
        self.moves.set_plan(
            handover.plan,
            may_cross_teams=self.ctx.user.may_move_across_teams,
            excluded={handover.leaver_no},
        )
        self._show_left_behind(handover)
        self._edited()
        fit_moves_table(self.moves_table, self.moves.plan(), one_giver=True)
        share_by_content(self.tables_split)  # a new proposal: the tables side by side fit again
        self.proposed.emit()

    # --- what the plan leaves behind -----------------------------------------------------

    def _show_left_behind(self, handover: Handover) -> None:
        names = {s.employee_no: s.name for s in handover.plan.specialists}
        notes = [n for n in (solver_note(handover.plan), clock_note(handover.plan)) if n]
        self.left_behind.setText(
            handover_left_text(handover, names) + "".join(sentence_gap() + n for n in notes)
        )
        self.give_to.clear()
        may_cross = self.ctx.user.may_move_across_teams
        for p in left_behind_targets(handover, may_cross_teams=may_cross):
            self.give_to.addItem(f"{p.name} ({p.employee_no})", p.employee_no)
        self.give_row.setVisible(
            bool(handover.left_behind.to_give and self.give_to.count()) and not self._applied
        )
        self.give_button.setEnabled(True)

    def give_left_behind(self) -> None:
        """Add the unlocked customers left behind to the plan, going to the chosen colleague
        (read in the background); the supervisor's edits of the other moves are kept."""
        handover, to_no = self._handover, self.give_to.currentData()
        if handover is None or to_no is None or self._applied:
            return
        may_cross = self.ctx.user.may_move_across_teams
        self.give_button.setEnabled(False)
        self.ctx.runner.start(
            f"leaving.give.{self.leaver.specialist_id}",
            self.ctx.read(
                lambda s: with_left_behind(
                    s, handover, to_employee_no=to_no, may_cross_teams=may_cross
                )
            ),
            on_done=lambda given: self._show_given(given, handover),
            on_error=self._give_failed,
        )

    def _show_given(self, handover: Handover, source: Handover) -> None:
        if self._handover is not source or self._applied:
            return  # proposed again or applied meanwhile: this addition is to an old plan
        base = self.moves.base_plan()
        # The plan gains moves at its end: the rows above keep their ticks and new targets.
        dropped = self.moves.dropped()
        targets = {
            row: self.moves.index(row, TO).data(Qt.ItemDataRole.EditRole)
            for row in range(self.moves.rowCount())
        }
        self._handover = handover
        self.moves.set_plan(
            handover.plan,
            may_cross_teams=self.ctx.user.may_move_across_teams,
            excluded={handover.leaver_no},
        )
        if base is not None:
            for row, to_no in targets.items():
                if to_no != base.moves[row].to_no:
                    self.moves.set_target(row, to_no)
        for row in dropped:
            self.moves.set_kept(row, False)
        self._show_left_behind(handover)
        self._edited()
        fit_moves_table(self.moves_table, self.moves.plan(), one_giver=True)
        share_by_content(self.tables_split)  # single customers now: two more columns

    def _give_failed(self, exc: BaseException) -> None:
        self.give_button.setEnabled(True)
        inform(self, self.windowTitle(), error_text(exc), warning=True)

    def _edited(self) -> None:
        plan = self.moves.plan()
        if plan is None:
            return
        changes = [w for w in workload_changes(plan) if w.employee_no != self.leaver.employee_no]
        self.workloads.set_rows(changes)
        # A redirected move shows another name, and its mark: both tables fit it, once the
        # editor that made the edit has closed (Qt sizes a column to an open editor).
        QTimer.singleShot(0, self, lambda: refit_side_by_side(self.tables_split))
        grids, singles, customers = describe_counts(plan)
        text = (
            self.tr("To %3: %1 and %2; %4 in all.") if singles else self.tr("To %3: %1; %4 in all.")
        )
        text = arg(
            text,
            labels.grids(grids),
            self._further(singles),
            counted(
                len({m.to_no for m in plan.moves}),
                self.tr("%1 colleague"),
                self.tr("%1 colleagues"),
            ),
            labels.customers(customers),
        )
        over = [w.name for w in changes if w.over_capacity]
        if over:
            text += sentence_gap() + arg(self.tr("Above capacity afterwards: %1."), listed(over))
        self.proposal_text.setText(text)
        self.apply_button.setEnabled(self.may_apply and bool(plan.moves) and not self._applied)

    def _further(self, n: int) -> str:
        """Customers moved on their own, besides those of the grids."""
        return counted(n, self.tr("%1 further customer"), self.tr("%1 further customers"))

    # --- applying ------------------------------------------------------------------------

    def plan(self):
        return self.moves.plan()

    def apply(self) -> None:
        plan = self.moves.plan()
        if plan is None or not plan.moves or not self.apply_button.isEnabled():
            return
        grids, singles, customers = describe_counts(plan)
        text = arg(
            self.tr(
                "Hand over %1's work in one transaction?\n\n%2 and %3 go to their new owners: "
                "%4; %5. Open tasks go with their customers."
            ),
            self.leaver.name,
            labels.grids(grids),
            self._further(singles),
            counted(
                customers,
                self.tr("%1 customer gets a new specialist"),
                self.tr("%1 customers get a new specialist"),
            ),
            sms_outcome(call(self.ctx, sms_preview, plan)),
        )
        text += "\n\n" + self.tr("Edit ▸ Undo (Ctrl+Z) in the main window puts everything back.")
        ask(self, self.tr("Apply handover"), text, self._apply_now, yes_text=self.tr("Apply"))

    def _apply_now(self) -> None:
        plan = self.moves.plan()
        if plan is None:
            return
        self.apply_button.setEnabled(False)
        self.ctx.runner.start(
            f"leaving.apply.{self.leaver.specialist_id}",
            apply_job(self.ctx, plan, self.leaving()),
            on_done=lambda result: self._done(plan, result),
            on_error=self._refused,
            progress_parent=self,
            progress_title=self.tr("Handing over…"),
        )

    def _done(self, plan, result) -> None:
        self._applied = True
        self.moves.editable = False
        self.give_row.setVisible(False)
        self.proposal_text.setText(
            arg(
                self.tr(
                    "Handed over: %1, %2 and %3 moved; %4. Edit ▸ Undo (Ctrl+Z) in the main "
                    "window puts everything back."
                ),
                labels.grids(result.grids_moved),
                labels.customers(result.customers_moved),
                labels.open_tasks(result.tasks_moved),
                sms_outcome(result.sms),
            )
        )
        what = arg(self.tr("handover of %1"), self.leaver.name)
        self.applied.emit(Applied(plan, result, what, self.leaving()))
        self.changed.emit(result.changes)
        self.load_impact()

    def _refused(self, exc: BaseException) -> None:
        self._edited()
        inform(
            self,
            self.tr("Apply handover"),
            self.tr("Nothing was handed over; nothing was written.") + "\n\n" + error_text(exc),
            warning=True,
        )


def fitted_size(area: QRect) -> QSize:
    """Return the dialog's size on a screen whose free area is ``area``: most of it, as five
    tables side by side want the room (1150 x 760 if there is that much), but never more than
    the screen, title bar included (a 1366 x 768 laptop)."""
    return QSize(
        min(area.width(), max(1150, int(area.width() * 0.85))),
        min(area.height() - 40, max(760, int(area.height() * 0.85))),
    )


def _table(name: str, model) -> QTableView:
    table = QTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    return table
