"""The specialist roster: workload and results per specialist, sortable, filterable."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from app.services.changes import Changes
from app.services.metrics.activity import week_monday, whole_weeks
from app.services.metrics.equity import DEFAULT_THRESHOLD_POINTS
from app.services.metrics.handoff import ON_TIME_DAYS
from app.services.metrics.persistency import FEW_POLICIES
from app.services.people import org
from app.services.people import roster as roster_service
from app.services.people.auth import mask_phone
from app.views.chips import SelectionChips
from app.views.context import AppContext
from app.views.errors import show_error
from app.views.i18n import arg, translate
from app.views.labels import CONTRACT_TYPES, SPECIALIST_STATUSES, label, listed, pct
from app.views.layout import fit_columns
from app.views.pages import PageWidget
from app.views.selection import Picked
from app.views.table_export import install_table_export
from app.views.table_models import ROW_ROLE, SORT_ROLE, Column, RowTableModel


def roster_columns(show_contact: bool, as_of: date):
    """Return the roster's columns and the function that writes the funnel cell; the
    headers' tips say which days the period figures cover on ``as_of``."""
    year = roster_service.trailing_year(as_of)
    weeks = whole_weeks(as_of, roster_service.WEEKS_AVERAGED)
    first = week_monday(weeks[0])
    last = week_monday(weeks[-1]) + timedelta(days=6)

    def funnel(r) -> str:
        return " / ".join("—" if v is None else f"{float(v) * 100:.0f}" for v in r.conversion)

    return [
        Column("employee_no", translate("RosterPage", "Employee\nno."), lambda r: r.employee_no),
        Column("name", translate("RosterPage", "Name"), lambda r: r.name),
        Column("team", translate("RosterPage", "Team"), lambda r: r.team_name),
        Column(
            "phone",
            translate("RosterPage", "Phone"),
            lambda r: r.phone if show_contact else mask_phone(r.phone),
        ),
        Column(
            "contract",
            translate("RosterPage", "Contract"),
            lambda r: label(CONTRACT_TYPES, r.contract_type),
        ),
        Column(
            "status",
            translate("RosterPage", "Status"),
            lambda r: label(SPECIALIST_STATUSES, r.status),
            alert=lambda r: r.status.value != "active" and bool(r.grid_codes),
        ),
        Column(
            "grids",
            translate("RosterPage", "Grids"),
            lambda r: len(r.grid_codes),
            numeric=True,
            tooltip=lambda r: listed(r.grid_codes),
            header_tip=translate(
                "RosterPage", "Grids the specialist owns today (hover a number for their codes)"
            ),
        ),
        Column(
            "customers",
            translate("RosterPage", "Customers\n/ capacity"),
            lambda r: r.load,
            text=lambda v: "",
            numeric=True,
            alert=lambda r: (r.load or 0) > 1,
            header_tip=translate(
                "RosterPage",
                "Customers served today against the most the specialist may serve; red above it",
            ),
        ),
        Column(
            "open",
            translate("RosterPage", "Open\ntasks"),
            lambda r: r.open_tasks,
            numeric=True,
            header_tip=translate("RosterPage", "Tasks open or in progress"),
        ),
        Column(
            "overdue",
            translate("RosterPage", "Overdue"),
            lambda r: r.overdue_tasks,
            numeric=True,
            alert=lambda r: r.overdue_tasks > 0,
            header_tip=translate("RosterPage", "Tasks open or in progress past their due date"),
        ),
        Column(
            "persistency",
            translate("RosterPage", "13-month\npersistency"),
            lambda r: r.persistency_13,
            text=pct,
            numeric=True,
            kind="percent",
            pale=lambda r: r.persistency_policies < FEW_POLICIES,
            tooltip=_persistency_tip,
            header_tip=arg(
                translate(
                    "RosterPage",
                    "Premium basis, policies whose second-year premium fell due from %1 to %2 "
                    "(the last twelve whole months), attributed to who served them on the due date. "
                    "Policies still in their grace period are left out until it ends.",
                ),
                f"{year.start:%Y-%m}",
                f"{year.end:%Y-%m}",
            ),
        ),
        Column(
            "funnel",
            translate("RosterPage", "4-sell reached %\n(1/2/3/4)"),
            lambda r: r.conversion[1],
            text=lambda v: "",
            numeric=True,
            header_tip=arg(
                translate(
                    "RosterPage",
                    "Of the customers who entered the pool from %1 to %2 and whom the specialist "
                    "serves today: the share who have reached pre-sell, soft-sell, cross-sell and "
                    "up-sell",
                ),
                f"{year.start:%Y-%m}",
                f"{year.end:%Y-%m}",
            ),
        ),
        Column(
            "activity",
            translate("RosterPage", "Tasks done\n/ week"),
            lambda r: r.tasks_done_per_week,
            text=lambda v: f"{v:.1f}",
            numeric=True,
            kind="number",
            header_tip=arg(
                translate(
                    "RosterPage",
                    "Tasks completed per week, the mean of the last %1 whole weeks "
                    "(Monday to Sunday): %2 to %3. The meeting workbook lists these weeks one by one.",
                ),
                str(roster_service.WEEKS_AVERAGED),
                f"{first:%Y-%m-%d}",
                f"{last:%Y-%m-%d}",
            ),
        ),
        Column(
            "contact_on_time",
            translate("RosterPage", "First contact\non time"),
            lambda r: r.contact_on_time.share if r.contact_on_time else None,
            text=pct,
            numeric=True,
            kind="percent",
            tooltip=_on_time_tip,
            header_tip=arg(
                translate(
                    "RosterPage",
                    "Of the customers who entered the pool from %1 to %2: the share first contacted "
                    "within the branch's target (File ▸ Branch settings), counted for the specialist "
                    "who had them when that was settled (the day of contact, or the target's last "
                    "day). Customers still within their target are left out until it passes.",
                ),
                f"{as_of - timedelta(days=ON_TIME_DAYS - 1):%Y-%m-%d}",
                f"{as_of:%Y-%m-%d}",
            ),
        ),
        Column(
            "equity",
            translate("RosterPage", "Service\nequity"),
            lambda r: r.equity_gap,
            text=lambda v: "",
            numeric=True,
            alert=lambda r: r.equity_flag,
            header_tip=arg(
                translate(
                    "RosterPage",
                    "Completion rate of servicing and renewal tasks of the last 365 days: customers "
                    "who reached cross-sell or up-sell minus those who did not, in points. ⚠ when "
                    "the buyers are served more than %1 points better.",
                ),
                f"{DEFAULT_THRESHOLD_POINTS:g}",
            ),
        ),
    ], funnel


def _persistency_tip(r) -> str:
    n = r.persistency_policies
    text = arg(translate("RosterPage", "On %1 policies"), f"{n:,}")
    if n < FEW_POLICIES:
        text += " · " + arg(
            translate("RosterPage", "too few to judge (under %1): shown pale"), str(FEW_POLICIES)
        )
    return text


def _on_time_tip(r) -> str:
    o = r.contact_on_time
    if o is None:
        return arg(
            translate("RosterPage", "No customer of the last %1 days of pool entries settled yet"),
            str(ON_TIME_DAYS),
        )
    return arg(
        translate(
            "RosterPage",
            "%1 of %2 customers first contacted within %3 days; %4 still within the target",
        ),
        str(o.on_time),
        str(o.decided),
        str(o.target_days),
        str(o.open),
    )


class RosterModel(RowTableModel):
    """Rows of the roster; some columns show text built from several fields."""

    def __init__(self, show_contact: bool, as_of: date, parent=None) -> None:
        columns, self._funnel = roster_columns(show_contact, as_of)
        super().__init__(columns, parent)
        self._keys = [c.key for c in columns]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and index.isValid():
            key = self._keys[index.column()]
            r = self.row_at(index.row())
            if key == "customers":
                return f"{r.customers} / {r.capacity}"
            if key == "funnel":
                return self._funnel(r)
            if key == "equity":
                if r.equity_gap is None:
                    return "—"
                points = round(float(r.equity_gap) * 100) or 0  # never "-0"
                gap = arg(translate("RosterPage", "%1 pts"), f"{points:+d}" if points else "0")
                return ("⚠ " + gap) if r.equity_flag else gap
        return super().data(index, role)


class RosterFilter(QSortFilterProxyModel):
    """Filters the roster by team, status and free text; sorts numbers as numbers."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._team_id: int | None = None
        self._active_only = False
        self._text = ""
        self._grid = ""
        self.setSortRole(SORT_ROLE)

    def set_team(self, team_id: int | None) -> None:
        self.beginFilterChange()
        self._team_id = team_id
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_active_only(self, on: bool) -> None:
        self.beginFilterChange()
        self._active_only = on
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_search_text(self, text: str) -> None:
        self.beginFilterChange()
        self._text = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_grid(self, code: str) -> None:
        """Show only the owner of grid ``code`` ('' for everyone)."""
        self.beginFilterChange()
        self._grid = code
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(  # noqa: N802
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        r = self.sourceModel().index(source_row, 0, source_parent).data(ROW_ROLE)
        if r is None:
            return False
        if self._team_id is not None and r.team_id != self._team_id:
            return False
        if self._active_only and r.status.value != "active":
            return False
        if self._grid and self._grid not in r.grid_codes:
            return False
        if self._text:
            hay = f"{r.employee_no} {r.name} {r.team_name} {' '.join(r.grid_codes)}".lower()
            return self._text in hay
        return True


class RosterPage(PageWidget):
    """Signals: specialist_opened(int) when a row is double-clicked; changed(object) and
    applied(object) when a leaving specialist's work was handed over (see LeavingDialog);
    tasks_requested() when the user asked for the selected specialist's tasks (the window's
    selection names the specialist).

    Follows the window's selection: a grid shows only its owner, a team fills the team filter
    (both as removable chips), a specialist is selected in the table. Choosing a team here
    selects it for the window; a row selected here stays this page's own until "Show tasks".
    """

    reads_persistency = True

    specialist_opened = Signal(int)
    # The user asked to see the open tasks that no specialist holds (on the Tasks page).

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._loaded = False
        with ctx.Session() as s:
            teams = org.teams(s, branch_id=ctx.user.branch_id, team_ids=ctx.user.team_scope())

        self.team = QComboBox()
        self.team.setObjectName("team")
        self.team.addItem(self.tr("All teams"), None)
        for t in teams:
            self.team.addItem(t.name, t.id)
        team_names = {t.id: t.name for t in teams}
        self.team.setVisible(len(teams) > 1)  # one team: nothing to choose
        self.active_only = QCheckBox(self.tr("Active only"))
        self.active_only.setObjectName("active_only")
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText(self.tr("Search name, employee no., team or grid"))
        self.search.setClearButtonEnabled(True)
        self.chips = SelectionChips(
            ctx.selection, ("grid", "team"), team_name=team_names.get, parent=self
        )
        top = QHBoxLayout()
        top.addWidget(self.team)
        top.addWidget(self.active_only)
        top.addWidget(self.chips)
        top.addWidget(self.search, 1)
        self.leaves_button = QPushButton(self.tr("Specialist leaves…"))
        self.leaves_button.setObjectName("specialist_leaves")
        self.leaves_button.setToolTip(
            self.tr("Hand the selected specialist's grids, customers and open tasks to others")
        )
        self.leaves_button.setVisible(ctx.user.may_reassign_tasks)
        self.leaves_button.setEnabled(False)
        self.leaves_button.clicked.connect(lambda: self.open_leaving())
        top.addWidget(self.leaves_button)
        self.visits_button = QPushButton(self.tr("Weekly visit list…"))
        self.visits_button.setObjectName("visit_list")
        self.visits_button.setToolTip(
            self.tr("Print or export the week's visits of the selected specialist or a team")
        )
        self.visits_button.clicked.connect(lambda: self.open_visit_list())
        top.addWidget(self.visits_button)
        self.tasks_button = QPushButton(self.tr("Show tasks"))
        self.tasks_button.setObjectName("show_tasks")
        self.tasks_button.setToolTip(
            self.tr("Show the selected specialist's tasks on the Tasks page")
        )
        self.tasks_button.setEnabled(False)
        self.tasks_button.clicked.connect(lambda: self.show_tasks())
        top.addWidget(self.tasks_button)

        self.model = RosterModel(ctx.user.sees_contact_data, ctx.as_of, self)
        self.proxy = RosterFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("roster_table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        # Columns keep their fitted widths: a stretched last column put its numbers far from
        # the names on a wide screen.
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.doubleClicked.connect(self._open_row)
        self.table_export = install_table_export(
            self.table, name=self.tr("Specialists"), runner=ctx.runner
        )
        self.status = QLabel()
        self.status.setObjectName("status")
        # Branch-wide users also see the open tasks nobody holds, which no row of the table
        # counts, with a link to them on the Tasks page.
        self.unheld = QLabel()
        self.unheld.setObjectName("unheld")
        self.unheld.setTextFormat(Qt.TextFormat.RichText)
        self.unheld.linkActivated.connect(lambda _link: self.unheld_tasks_requested.emit())
        self.unheld.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.status)
        bottom.addSpacing(24)
        bottom.addWidget(self.unheld)  # beside the totals it completes, not at the far edge
        bottom.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

        self.team.currentIndexChanged.connect(self._team_chosen)
        self.active_only.toggled.connect(self.proxy.set_active_only)
        self.search.textChanged.connect(self.proxy.set_search_text)
        self.proxy.rowsInserted.connect(self._count)
        self.proxy.rowsRemoved.connect(self._count)
        self.proxy.modelReset.connect(self._count)
        self.proxy.layoutChanged.connect(self._count)
        self.specialist_opened.connect(self.open_specialist)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        ctx.selection.changed.connect(self.follow)
        self.follow(ctx.selection.current())

    def activate(self) -> None:
        if not self._loaded:
            self.reload()

    def reload(self) -> None:
        self._loaded = True
        self.status.setText(self.tr("Loading…"))
        user, as_of = self.ctx.user, self.ctx.as_of
        branch_wide = user.team_scope() is None

        def load(s):
            rows = roster_service.roster(
                s, branch_id=user.branch_id, as_of=as_of, team_ids=user.team_scope()
            )
            unheld = (
                roster_service.unheld_tasks(s, branch_id=user.branch_id, as_of=as_of)
                if branch_wide
                else None
            )
            return rows, unheld

        self.ctx.runner.start(
            "roster",
            self.ctx.read(load),
            on_done=self._show,
            on_error=lambda exc: show_error(self, self.tr("Specialists"), exc),
        )

    def _show(self, loaded) -> None:
        rows, unheld = loaded
        self.model.set_rows(rows)
        fit_columns(self.table)
        self._count()
        self._select_followed()
        self.unheld.setVisible(bool(unheld and unheld.open_tasks))
        if unheld and unheld.open_tasks:
            self.unheld.setText(
                arg(
                    self.tr("Not in the table: %1 open tasks nobody holds, %2 overdue."),
                    f"{unheld.open_tasks:,}",
                    f"{unheld.overdue_tasks:,}",
                )
                + ' <a href="#unheld">'
                + self.tr("Show them")
                + "</a>"
            )

    def _count(self) -> None:
        shown = [self.proxy.index(r, 0).data(ROW_ROLE) for r in range(self.proxy.rowCount())]
        self.status.setText(
            arg(
                self.tr("%1 of %2 specialists · %3 open tasks, %4 overdue"),
                str(len(shown)),
                str(self.model.rowCount()),
                f"{sum(r.open_tasks for r in shown):,}",
                f"{sum(r.overdue_tasks for r in shown):,}",
            )
        )

    # --- following the window's selection -------------------------------------------------

    def follow(self, picked: Picked) -> None:
        """Filter and select as the window's selection ``picked`` says."""
        row = self.team.findData(picked.team_id) if picked.team_id is not None else 0
        if row >= 0 and row != self.team.currentIndex():
            self.team.setCurrentIndex(row)  # a team outside the combo (none) is not followed
        self.follow_grid(picked.grid)
        self._select_followed()

    def follow_grid(self, code: str) -> None:
        """Show only the owner of grid ``code`` ('' shows everyone again)."""
        self.proxy.set_grid(code)
        self._count()

    def _select_followed(self) -> None:
        # The selected specialist, else the owner of the selected grid: the row a supervisor
        # came here to see.
        picked = self.ctx.selection.current()
        target = None
        if picked.specialist_id is not None:
            target = picked.specialist_id
        elif picked.grid and self.proxy.rowCount():
            target = self.proxy.index(0, 0).data(ROW_ROLE).specialist_id
        if target is None:
            return
        for r in range(self.proxy.rowCount()):
            if self.proxy.index(r, 0).data(ROW_ROLE).specialist_id == target:
                self.table.selectRow(r)
                self.table.scrollTo(self.proxy.index(r, 0))
                return

    def _team_chosen(self) -> None:
        team_id = self.team.currentData()
        self.proxy.set_team(team_id)
        picked = self.ctx.selection.current()
        if team_id is not None:
            self.ctx.selection.set_team(team_id)
        elif picked.team_id is not None:  # "All teams": the team chip's ✕, chosen here
            self.ctx.selection.clear("team")

    def _selection_changed(self) -> None:
        chosen = self.selected() is not None
        self.leaves_button.setEnabled(chosen)
        self.tasks_button.setEnabled(chosen)

    def show_tasks(self) -> None:
        """Select the chosen row's specialist for the window and ask for the Tasks page."""
        row = self.selected()
        if row is None:
            return
        self.ctx.selection.set_specialist(row.specialist_id)
        self.tasks_requested.emit()

    def selected(self) -> roster_service.RosterRow | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ROW_ROLE) if rows else None

    def _open_row(self, index) -> None:
        row = index.data(ROW_ROLE)
        if row is not None:
            self.specialist_opened.emit(row.specialist_id)

    def open_specialist(self, specialist_id: int) -> None:
        from app.views.specialist_dialog import SpecialistDialog

        row = next((r for r in self.model.rows() if r.specialist_id == specialist_id), None)
        if row is not None:
            SpecialistDialog(self.ctx, row, self).show()

    def open_leaving(self, specialist_id: int | None = None):
        """Open the leaving dialog for the specialist (the selected one when None); return it."""
        from app.views.leaving_dialog import Leaver, LeavingDialog

        if specialist_id is None:
            row = self.selected()
        else:
            row = next((r for r in self.model.rows() if r.specialist_id == specialist_id), None)
        if row is None:
            return None
        leaver = Leaver(row.specialist_id, row.employee_no, row.name, row.team_id, row.team_name)
        dialog = LeavingDialog(self.ctx, leaver, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.applied.connect(self.applied)
        dialog.changed.connect(self.changed)
        dialog.show()
        dialog.start()
        return dialog

    def open_visit_list(self, request=None) -> None:
        """Ask for and write the weekly visit lists (the selected specialist offered first);
        ``request`` (a VisitsRequest) skips the dialog."""
        from app.views.visits_dialog import export_visits

        row = self.selected()
        export_visits(self, self.ctx, employee_no=row.employee_no if row else None, request=request)

    def on_changes(self, changes: Changes) -> None:
        if self._loaded and changes.touches(
            "customers", "grids", "tasks", "specialists", "settings", "derived"
        ):
            self.reload()

    def save_state(self, ws, key: str) -> None:
        ws.save(f"{key}/header", self.table.horizontalHeader().saveState())

    def restore_state(self, ws, key: str) -> None:
        state = ws.restore(f"{key}/header")
        if state is not None:
            header = self.table.horizontalHeader()
            header.restoreState(state)  # order, hidden columns, sorting (widths: fitted on load)
            header.setStretchLastSection(False)  # a state saved by an older version stretched
