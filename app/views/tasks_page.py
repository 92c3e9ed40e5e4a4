"""The task queue: every task in the user's scope, filtered, sorted, reassigned."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.models.enums import OPEN_TASK_STATUSES, TaskKind, TaskStatus
from app.services.changes import Changes
from app.services.people import org
from app.services.tasks import pages as task_pages
from app.services.tasks import queue as task_service
from app.views.calendar import local_text
from app.views.chips import SelectionChips
from app.views.context import AppContext, call
from app.views.errors import show_error
from app.views.handoffs_view import LateHandoffsView
from app.views.i18n import arg, translate
from app.views.labels import TASK_KINDS, TASK_STATUSES, label
from app.views.layout import fitted_width
from app.views.pages import PageWidget
from app.views.selection import Picked
from app.views.table_export import install_table_export
from app.views.table_models import Column, KeysetTableModel

STATUS_CHOICES = {
    "open_any": OPEN_TASK_STATUSES,
    "all": (),
    **{s.value: (s,) for s in TaskStatus},
}


def _dt(value) -> str:
    return local_text(value)


def task_columns() -> list[Column[task_service.TaskRow]]:
    return [
        Column("task_no", translate("TasksPage", "Task"), lambda r: r.task_no),
        Column("kind", translate("TasksPage", "Kind"), lambda r: label(TASK_KINDS, r.kind)),
        Column(
            "status",
            translate("TasksPage", "Status"),
            lambda r: label(TASK_STATUSES, r.status),
            alert=lambda r: r.overdue,
        ),
        Column(
            "customer",
            translate("TasksPage", "Customer"),
            lambda r: f"{r.customer_name} ({r.customer_no})",
        ),
        Column(
            "specialist", translate("TasksPage", "Specialist"), lambda r: r.specialist_name or "—"
        ),
        Column("grid", translate("TasksPage", "Grid"), lambda r: r.grid_code or "—"),
        Column(
            "due_date",
            translate("TasksPage", "Due"),
            lambda r: r.due_date,
            alert=lambda r: r.overdue,
        ),
        Column(
            "created_at",
            translate("TasksPage", "Created"),
            lambda r: r.created_at,
            text=_dt,
            kind="datetime",
        ),
        Column(
            "completed_at",
            translate("TasksPage", "Completed"),
            lambda r: r.completed_at,
            text=_dt,
            kind="datetime",
        ),
        # The full outcome on hover: a long one is cut at the column's end.
        Column(
            "outcome",
            translate("TasksPage", "Outcome"),
            lambda r: r.outcome or "",
            tooltip=lambda r: r.outcome or "",
        ),
    ]


class TasksPage(PageWidget):
    """Signals: changed(object) after a reassignment, with what the service changed.

    Follows the window's selection: its grid narrows the tasks to that grid, its specialist or
    team sets the scope, each shown as a removable chip. Choosing a specialist or a team in the
    scope here selects it for the window.
    """

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._loaded = False
        self._sort = ("due_date", False)
        self._grid_id: int | None = None
        self._quiet = False  # True while this page itself changes the selection
        user = ctx.user
        with ctx.Session() as s:
            self._specialists = org.specialists(
                s, branch_id=user.branch_id, team_ids=user.team_scope()
            )
            self._teams = org.teams(s, branch_id=user.branch_id, team_ids=user.team_scope())
            self._grids = {g.code: g for g in org.grids(s, branch_id=user.branch_id)}

        self.scope = QComboBox()
        self.scope.setObjectName("scope")
        self.scope.addItem(self.tr("Everyone in my scope"), None)
        if user.team_scope() is None:  # tasks nobody holds belong to no team: the branch's
            self.scope.addItem(self.tr("Nobody (tasks no one holds)"), ("nobody", None))
        for t in self._teams:
            self.scope.addItem(arg(self.tr("Team: %1"), t.name), ("team", t.id))
        for sp in self._specialists:
            self.scope.addItem(sp.label, ("specialist", sp.id))
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        self.kind.addItem(self.tr("All kinds"), None)
        for k in TaskKind:
            self.kind.addItem(label(TASK_KINDS, k), k)
        self.status = QComboBox()
        self.status.setObjectName("status")
        self.status.addItem(self.tr("Open or in progress"), "open_any")
        self.status.addItem(self.tr("Any status"), "all")
        for s_ in TaskStatus:
            self.status.addItem(label(TASK_STATUSES, s_), s_.value)
        self.overdue = QCheckBox(self.tr("Overdue only"))
        self.overdue.setObjectName("overdue")
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText(self.tr("Search task, customer name or number"))
        self.search.setClearButtonEnabled(True)
        names = {sp.id: sp.name for sp in self._specialists}
        teams = {t.id: t.name for t in self._teams}
        self.chips = SelectionChips(
            ctx.selection,
            ("grid", "specialist", "team"),
            specialist_name=names.get,
            team_name=teams.get,
            parent=self,
        )
        self.grid_chip = self.chips.chip("grid")

        # Two lists under one scope: the tasks, or the customers late on a hand-off target.
        self.view_tasks = QToolButton()
        self.view_tasks.setObjectName("view_tasks")
        self.view_tasks.setText(self.tr("Tasks"))
        self.view_late = QToolButton()
        self.view_late.setObjectName("view_late")
        self.view_late.setText(self.tr("Hand-offs late"))
        self.view_late.setToolTip(
            self.tr("Customers past a hand-off target (File ▸ Branch settings) with it not reached")
        )
        self._views = QButtonGroup(self)
        for b in (self.view_tasks, self.view_late):
            b.setCheckable(True)
            self._views.addButton(b)
        self.view_tasks.setChecked(True)
        self.late = LateHandoffsView(ctx)

        filters = QHBoxLayout()
        for w in (self.view_tasks, self.view_late, self.scope, self.kind, self.status):
            filters.addWidget(w)
        filters.addWidget(self.overdue)
        filters.addWidget(self.chips)
        filters.addWidget(self.search, 1)

        self._filter: task_service.TaskFilter | None = None
        self.model = KeysetTableModel(
            task_columns(), self._fetch_page, self._fetch_rows, row_id=lambda r: r.id
        )
        self.model.sort_requested.connect(self._sort_by)
        self.table = QTableView()
        self.table.setObjectName("tasks_table")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(6, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setStretchLastSection(True)
        # Widths measured on the rows read (a page at a time): each first page fits them, rows
        # read later only widen them (an intake's task numbers are twice as long as most).
        self.model.rowsInserted.connect(lambda *_: self._fit_columns())
        self.table_export = install_table_export(
            self.table, name=self.tr("Tasks"), runner=ctx.runner
        )

        self.count = QLabel()
        self.count.setObjectName("count")
        self.reassign_button = QPushButton(self.tr("Reassign selected…"))
        self.reassign_button.setObjectName("reassign")
        self.reassign_button.setEnabled(False)
        self.reassign_button.setVisible(ctx.user.may_reassign_tasks and not ctx.read_only)
        self.reassign_button.clicked.connect(self.reassign_selected)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count, 1)
        bottom.addWidget(self.reassign_button)

        task_list = QWidget()
        box = QVBoxLayout(task_list)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.table, 1)
        box.addLayout(bottom)
        self.lists = QStackedWidget()
        self.lists.addWidget(task_list)
        self.lists.addWidget(self.late)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.lists, 1)
        self._views.buttonToggled.connect(self._view_toggled)

        self.scope.currentIndexChanged.connect(self._scope_chosen)
        for combo in (self.kind, self.status):
            combo.currentIndexChanged.connect(self.reload)
        self.overdue.toggled.connect(self.reload)
        self.search.returnPressed.connect(self.reload)
        self.search.textChanged.connect(self._search_edited)
        ctx.selection.changed.connect(self.follow)
        self.follow(ctx.selection.current())

    # --- loading -----------------------------------------------------------------------

    def activate(self) -> None:
        if not self._loaded:
            self.reload()

    def current_filter(self) -> task_service.TaskFilter:
        """Return the filter the controls describe, limited to the user's scope."""
        f = task_service.TaskFilter(as_of=self.ctx.as_of, team_ids=self.ctx.user.team_scope())
        scope = self.scope.currentData()
        if scope is not None:
            kind, ident = scope
            if kind == "team":
                f = replace(f, team_ids=frozenset({ident}))
            elif kind == "nobody":
                f = replace(f, unassigned_only=True)
            else:
                f = replace(f, specialist_ids=frozenset({ident}))
        if self._grid_id is not None:
            f = replace(f, grid_ids=frozenset({self._grid_id}))
        if self.kind.currentData() is not None:
            f = replace(f, kinds=frozenset({self.kind.currentData()}))
        f = replace(f, statuses=frozenset(STATUS_CHOICES[self.status.currentData()]))
        return replace(f, overdue_only=self.overdue.isChecked(), search=self.search.text())

    def showing_late(self) -> bool:
        return self.view_late.isChecked()

    def show_late_handoffs(self) -> None:
        """Show the customers late on a hand-off, in the scope chosen."""
        self.view_late.setChecked(True)

    def _view_toggled(self, _button, checked: bool) -> None:
        if not checked:
            return
        late = self.showing_late()
        self.lists.setCurrentIndex(1 if late else 0)
        for w in (self.kind, self.status, self.overdue, self.search):
            w.setVisible(not late)
        self.reload()

    def reload(self) -> None:
        """Read the first page in the background and show it; then count the matches."""
        self._loaded = True
        if self.showing_late():
            f = self.current_filter()
            self.late.load(
                team_ids=f.team_ids,
                specialist_ids=f.specialist_ids,
                grid_ids=f.grid_ids,
                nobody_only=f.unassigned_only,
            )
            return
        f = self._filter = self.current_filter()
        # Open tasks have no completion time: the column shows when done ones may be listed.
        completed = [c.key for c in self.model.columns].index("completed_at")
        self.table.setColumnHidden(completed, all(s.is_open for s in f.statuses or TaskStatus))
        sort, desc = self._sort
        self.count.setText(self.tr("Loading…"))
        self.ctx.runner.start(
            "tasks.page",
            self.ctx.read(lambda s: task_pages.task_page(s, f, sort, descending=desc)),
            on_done=self._show_first_page,
            on_error=self._failed,
        )

    def _show_first_page(self, page: task_pages.TaskPage) -> None:
        self.model.set_first_page(page.rows, page.after)
        self._fit_columns(grow_only=False)
        if page.after is None:  # every match is shown: no need to count
            self._show_count(len(page.rows))
            return
        self.count.setText(self.tr("counting…"))
        f = self._filter
        assert f is not None
        self.ctx.runner.start(
            "tasks.count",
            self.ctx.read(lambda s: task_service.count_tasks(s, f)),
            on_done=self._show_count,
            on_error=self._failed,
        )

    def _fit_columns(self, *, grow_only: bool = True) -> None:
        """Size each column to what its rows read so far and its header need; rows read
        later only widen it (the columns stay put while scrolling). The outcome, last, takes
        the room left and is cut where it must, the whole text on hover."""
        header = self.table.horizontalHeader()
        for c in range(header.count() - 1):
            if not header.isSectionHidden(c):
                need = fitted_width(self.table, c)
                if need > header.sectionSize(c) or not grow_only:
                    header.resizeSection(c, need)

    def _show_count(self, n: int) -> None:
        self.count.setText(arg(self.tr("%1 tasks"), f"{n:,}"))

    def _fetch_page(self, after):
        f = self._filter or self.current_filter()
        sort, desc = self._sort
        with self.ctx.Session() as s:
            page = task_pages.task_page(s, f, sort, descending=desc, after=after)
        return page.rows, page.after

    def _fetch_rows(self, ids):
        return call(self.ctx, task_service.task_rows, ids, as_of=self.ctx.as_of)

    def _sort_by(self, key: str, descending: bool) -> None:
        self._sort = (key, descending)
        if self._loaded:
            self.reload()

    def _failed(self, exc: BaseException) -> None:
        self.count.setText("")
        show_error(self, self.tr("Tasks"), exc)

    # --- following the rest of the window ------------------------------------------------

    def show_unheld(self) -> None:
        """Show the open tasks nobody holds (a branch-wide scope only)."""
        row = self._scope_row(("nobody", None))
        if row < 0:
            return
        controls = (self.scope, self.kind, self.status, self.overdue, self.search)
        for w in controls:
            w.blockSignals(True)
        self.scope.setCurrentIndex(row)
        self.kind.setCurrentIndex(0)  # any kind
        self.status.setCurrentIndex(self.status.findData("open_any"))
        self.overdue.setChecked(False)
        self.search.clear()
        for w in controls:
            w.blockSignals(False)
        # Tasks nobody holds are counted branch-wide: no grid, no one's scope.
        self._quiet = True
        try:
            self.ctx.selection.set_grid("")
            self.ctx.selection.set_people(None, None)
        finally:
            self._quiet = False
        self.reload()

    def follow(self, picked: Picked) -> None:
        """Narrow the tasks as the window's selection ``picked`` says; reload if that changed
        what is shown (and the page is in use)."""
        grid = self._grids.get(picked.grid)
        grid_id = grid.id if grid else None
        if picked.specialist_id is not None:
            row = self._scope_row(("specialist", picked.specialist_id))
        elif picked.team_id is not None:
            row = self._scope_row(("team", picked.team_id))
        elif self.scope.currentData() is not None and self.scope.currentData()[0] != "nobody":
            row = 0  # the specialist or team chosen before was cleared: everyone
        else:
            row = self.scope.currentIndex()  # everyone or nobody: this page's own choice
        changed = grid_id != self._grid_id or (row >= 0 and row != self.scope.currentIndex())
        self._grid_id = grid_id
        if row >= 0:
            self.scope.blockSignals(True)
            self.scope.setCurrentIndex(row)
            self.scope.blockSignals(False)
        if changed and not self._quiet and (self._loaded or self.isVisible()):
            self.reload()

    def _scope_row(self, data: tuple) -> int:
        # Not findData: it compares Python objects held in a QVariant by identity, not value.
        return next((i for i in range(self.scope.count()) if self.scope.itemData(i) == data), -1)

    def follow_grid(self, code: str) -> None:
        """Select grid ``code`` for the window ('' clears it); this page shows its tasks."""
        self.ctx.selection.set_grid(code)

    def _search_edited(self, text: str) -> None:
        if not text:  # the search was cleared: show everything again (Return runs a search)
            self.reload()

    def _scope_chosen(self) -> None:
        scope = self.scope.currentData()
        kind, ident = scope if scope is not None else (None, None)
        self._quiet = True  # the combo shows the choice already: one reload, below
        try:
            self.ctx.selection.set_people(
                ident if kind == "specialist" else None, ident if kind == "team" else None
            )
        finally:
            self._quiet = False
        self.reload()

    def on_changes(self, changes: Changes) -> None:
        if self._loaded and changes.touches("customers", "tasks", "specialists"):
            self.reload()

    # --- reassignment --------------------------------------------------------------------

    def selected_rows(self) -> list[task_service.TaskRow]:
        rows = []
        for index in self.table.selectionModel().selectedRows():
            row = self.model.row_at(index.row())
            if row is not None:
                rows.append(row)
        return rows

    def _selection_changed(self) -> None:
        rows = self.selected_rows()
        self.reassign_button.setEnabled(bool(rows) and all(r.status.is_open for r in rows))

    def reassign_selected(self) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        targets = [s for s in self._specialists if s.status.value == "active"]
        dialog = ReassignDialog(targets, len(rows), self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.reassign(rows, dialog.target_id())

    def reassign(self, rows: list[task_service.TaskRow], to_specialist_id: int) -> None:
        """Move the given open tasks to another specialist, in the background."""
        versions = {r.id: r.version for r in rows}
        user = self.ctx.user
        self.ctx.runner.start(
            "tasks.reassign",
            self.ctx.write(
                lambda s: task_service.reassign_tasks(
                    s, user=user, versions=versions, to_specialist_id=to_specialist_id
                )
            ),
            on_done=self._reassigned,
            on_error=self._failed,
        )

    def _reassigned(self, change: task_service.Reassigned) -> None:
        self.model.invalidate(change.task_ids)
        self.changed.emit(change.changes)

    # --- layout --------------------------------------------------------------------------

    def save_state(self, ws, key: str) -> None:
        ws.save(f"{key}/header", self.table.horizontalHeader().saveState())

    def restore_state(self, ws, key: str) -> None:
        state = ws.restore(f"{key}/header")
        if state is not None:
            # Order and sorting; the widths are fitted again on load.
            self.table.horizontalHeader().restoreState(state)


class ReassignDialog(QDialog):
    def __init__(self, targets, count: int, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Reassign tasks"))
        self.target = QComboBox()
        self.target.setObjectName("target")
        for sp in targets:
            self.target.addItem(sp.label, sp.id)
        form = QFormLayout(self)
        form.addRow(QLabel(arg(self.tr("Move %1 selected task(s) to:"), str(count))))
        form.addRow(self.tr("Specialist"), self.target)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def target_id(self) -> int:
        return self.target.currentData()
