"""Kept rebalancing scenarios on the rebalance page: the list (show one on the page, compare,
delete) and the side-by-side comparison of two scenarios, or of one with today."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
)

from app.services.clock import local_text
from app.services.mapping.moves import GridShape, MapMove
from app.services.rebalance.scenarios import (
    TODAY,
    CompareRow,
    Comparison,
    OwnerDiff,
    ScenarioInfo,
    compare,
    delete_scenario,
    list_scenarios,
    load_scenario,
    rename_scenario,
)
from app.views.context import AppContext
from app.views.errors import error_text
from app.views.i18n import arg, translate
from app.views.labels import counted
from app.views.layout import fit_columns
from app.views.messages import ask, inform
from app.views.rebalance_plot import PlanMap
from app.views.table_models import Column, RowTableModel


def _count(v) -> str:
    return "" if v is None else f"{v:,}"


def _load(v) -> str:
    return "" if v is None else f"{v:,.1f}"


def scenario_columns(zone: str) -> list[Column[ScenarioInfo]]:
    """The columns of the list of kept scenarios (times in the branch's zone ``zone``)."""
    return [
        Column("name", translate("Scenarios", "Name"), lambda r: r.name),
        Column("kept", translate("Scenarios", "Kept"), lambda r: local_text(r.created_at, zone)),
        Column("author", translate("Scenarios", "By"), lambda r: r.author),
        Column(
            "scope",
            translate("Scenarios", "Scope"),
            lambda r: r.team_code or translate("Scenarios", "Whole branch"),
        ),
        Column("as_of", translate("Scenarios", "As of"), lambda r: r.as_of),
        Column("moves", translate("Scenarios", "Moves"), lambda r: r.moves, _count, numeric=True),
        Column(
            "customers",
            translate("Scenarios", "Customers\nmoved"),
            lambda r: r.customers_moved,
            _count,
            numeric=True,
        ),
        Column(
            "largest",
            translate("Scenarios", "Largest\nworkload after"),
            lambda r: r.largest_after,
            _load,
            numeric=True,
        ),
        Column("settings", translate("Scenarios", "Settings"), settings_text),
    ]


def settings_text(r: ScenarioInfo) -> str:
    """Return the settings a scenario was proposed with, in a few words."""
    parts = [
        counted(
            r.max_moves,
            translate("Scenarios", "at most %1 move"),
            translate("Scenarios", "at most %1 moves"),
        )
        if r.max_moves
        else translate("Scenarios", "no move limit")
    ]
    if r.max_distance_km:
        parts.append(arg(translate("Scenarios", "within %1 km"), f"{r.max_distance_km:g}"))
    if r.keep_from_step is not None:
        parts.append(arg(translate("Scenarios", "step %1 and beyond kept"), str(r.keep_from_step)))
    return ", ".join(parts)


def side_name(name: str) -> str:
    """Return how a side of a comparison is named: the scenario's name, or "Today"."""
    return translate("Scenarios", "Today") if name == TODAY else name


def side_columns(left: bool, over: tuple[str, ...]) -> list[Column[CompareRow]]:
    """The columns of one side's workload table (``over``: who ends above capacity)."""

    def get(r: CompareRow, what: str):
        return getattr(r, f"{'left' if left else 'right'}_{what}")

    return [
        Column(
            "specialist",
            translate("Scenarios", "Specialist"),
            lambda r: f"{r.name} ({r.employee_no})",
        ),
        Column("team", translate("Scenarios", "Team"), lambda r: r.team_code),
        Column(
            "customers",
            translate("Scenarios", "Customers"),
            lambda r: get(r, "customers"),
            _count,
            numeric=True,
            kind="number",
            alert=lambda r: r.employee_no in over,
            tooltip=lambda r: (
                translate("Scenarios", "Above capacity") if r.employee_no in over else ""
            ),
        ),
        Column(
            "capacity",
            translate("Scenarios", "Capacity"),
            lambda r: r.capacity,
            _count,
            numeric=True,
        ),
        Column(
            "load",
            translate("Scenarios", "Workload"),
            lambda r: get(r, "load"),
            _load,
            numeric=True,
        ),
    ]


@dataclass(frozen=True)
class Figure:
    what: str
    left: str
    right: str


def figures(c: Comparison) -> list[Figure]:
    """Return the comparison's headline figures, one row each."""
    a, b = c.left, c.right
    return [
        Figure(translate("Scenarios", "As of"), a.as_of.isoformat(), b.as_of.isoformat()),
        Figure(translate("Scenarios", "Moves"), _count(a.moves), _count(b.moves)),
        Figure(
            translate("Scenarios", "Customers moved"),
            _count(a.customers_moved),
            _count(b.customers_moved),
        ),
        Figure(translate("Scenarios", "SMS"), _count(a.sms), _count(b.sms)),
        Figure(
            translate("Scenarios", "Relationships broken"),
            _count(a.relationships_broken),
            _count(b.relationships_broken),
        ),
        Figure(translate("Scenarios", "Largest workload"), _load(a.largest), _load(b.largest)),
        Figure(
            translate("Scenarios", "Customers above capacity"),
            _count(a.above_capacity),
            _count(b.above_capacity),
        ),
        Figure(
            translate("Scenarios", "Specialists above capacity"),
            _count(len(a.over_capacity)),
            _count(len(b.over_capacity)),
        ),
    ]


def _table(name: str, model) -> QTableView:
    table = QTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class CompareDialog(QDialog):
    """Two scenarios (or one and today) side by side: the headline figures, each side's
    workload table, and the grids whose owner differs, listed and highlighted on the map."""

    def __init__(self, comparison: Comparison, shapes: list[GridShape] | None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("compare_dialog")
        self.comparison = c = comparison
        a, b = side_name(c.left.name), side_name(c.right.name)
        self.setWindowTitle(arg(self.tr("Compare %1 and %2"), a, b))
        self.figures: RowTableModel[Figure] = RowTableModel(
            [
                Column("what", "", lambda r: r.what),
                Column("left", a, lambda r: r.left),
                Column("right", b, lambda r: r.right),
            ],
            self,
        )
        self.figures.set_rows(figures(c))
        self.figures_table = _table("figures", self.figures)
        self.figures_table.horizontalHeader().setStretchLastSection(False)
        self.left = RowTableModel(side_columns(True, c.left.over_capacity), self)
        self.right = RowTableModel(side_columns(False, c.right.over_capacity), self)
        self.left.set_rows(list(c.rows))
        self.right.set_rows(list(c.rows))
        self.left_table = _table("left_workloads", self.left)
        self.right_table = _table("right_workloads", self.right)
        sides = QSplitter(Qt.Orientation.Horizontal)
        for title, table in ((a, self.left_table), (b, self.right_table)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(table)
            sides.addWidget(box)
        self.grids: RowTableModel[OwnerDiff] = RowTableModel(
            [
                Column("grid", self.tr("Grid"), lambda d: d.grid_code),
                Column("left", a, lambda d: _owner(d.left_name, d.left_no)),
                Column("right", b, lambda d: _owner(d.right_name, d.right_no)),
            ],
            self,
        )
        self.grids.set_rows(list(c.grids))
        self.grids_table = _table("owner_differs", self.grids)
        grids_box = QGroupBox(
            counted(
                len(c.grids),
                self.tr("%1 grid whose owner differs"),
                self.tr("%1 grids whose owner differs"),
            )
        )
        QVBoxLayout(grids_box).addWidget(self.grids_table)
        self.map = PlanMap(self)
        self.map.shapes = shapes
        self.map.show_grids(
            [
                MapMove(
                    d.grid_code,
                    True,
                    f"{a}: {_owner(d.left_name, d.left_no)} · {b}: {_owner(d.right_name, d.right_no)}",
                )
                for d in c.grids
            ],
            self.tr("owner differs"),
        )
        below = QSplitter(Qt.Orientation.Horizontal)
        below.addWidget(grids_box)
        below.addWidget(self.map)
        below.setSizes([300, 500])
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(self.figures_table)
        body.addWidget(sides)
        body.addWidget(below)
        body.setSizes([300, 260, 300])
        close = QPushButton(self.tr("Close"))
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(body, 1)
        layout.addLayout(buttons)
        for table in (self.figures_table, self.left_table, self.right_table, self.grids_table):
            fit_columns(table)
        # 1000 x 800, less on a smaller screen (a 1366 x 768 laptop), title bar included.
        screen = self.screen()
        area = screen.availableGeometry() if screen else QRect(0, 0, 1000, 840)
        self.resize(min(1000, area.width()), min(800, area.height() - 40))


def _owner(name: str, no: str | None) -> str:
    return f"{name} ({no})" if no else translate("Scenarios", "nobody")


class ScenariosDialog(QDialog):
    """The kept scenarios the user may see, newest first.

    Signals: plan_chosen(object): the plan of the scenario to show on the page (Plan);
    deleted(str): a scenario was deleted (its name); listed(): the list was read again;
    compared(object): a comparison is on screen (its CompareDialog)."""

    plan_chosen = Signal(object)
    deleted = Signal(str)
    listed = Signal()
    compared = Signal(object)

    def __init__(
        self, ctx: AppContext, zone: str, shapes: list[GridShape] | None, parent=None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("scenarios_dialog")
        self.setWindowTitle(self.tr("Scenarios"))
        self.ctx = ctx
        self.shapes = shapes
        self.compare_dialog: CompareDialog | None = None
        self.model = RowTableModel(scenario_columns(zone), self)
        self.table = _table("scenarios", self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update())
        self.hint = QLabel(
            self.tr(
                "Select one scenario to show it on the page or compare it with today; select "
                "two to compare them."
            )
        )
        self.hint.setWordWrap(True)
        self.show_button = QPushButton(self.tr("Show on the page"))
        self.show_button.setObjectName("show_scenario")
        self.show_button.clicked.connect(self.show_selected)
        self.compare_button = QPushButton(self.tr("Compare"))
        self.compare_button.setObjectName("compare_scenarios")
        self.compare_button.clicked.connect(self.compare_selected)
        self._pending_select: str | None = None  # a renamed scenario, selected once listed
        self.rename_button = QPushButton(self.tr("Rename…"))
        self.rename_button.setObjectName("rename_scenario")
        self.rename_button.clicked.connect(lambda: self.rename_selected())
        self.delete_button = QPushButton(self.tr("Delete…"))
        self.delete_button.setObjectName("delete_scenario")
        self.delete_button.clicked.connect(self.delete_selected)
        close = QPushButton(self.tr("Close"))
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for b in (self.show_button, self.compare_button, self.rename_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.resize(900, 400)
        self.refresh()

    def refresh(self) -> None:
        """Read the list again."""
        user = self.ctx.user
        self.ctx.runner.start(
            "scenarios.list",
            self.ctx.read(
                lambda s: list_scenarios(s, branch_id=user.branch_id, team_scope=user.team_scope())
            ),
            on_done=self._listed,
            on_error=self._failed,
        )

    def _listed(self, rows: list[ScenarioInfo]) -> None:
        self.model.set_rows(rows)
        fit_columns(self.table)
        renamed, self._pending_select = self._pending_select, None
        if renamed:
            self.select(renamed)
        self._update()
        self.listed.emit()

    def _failed(self, exc: BaseException) -> None:
        inform(self, self.tr("Scenarios"), error_text(exc), warning=True)

    def selected_names(self) -> list[str]:
        """Return the names of the selected scenarios, in the list's order."""
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        listed = self.model.rows()
        return [listed[r].name for r in rows]

    def select(self, *names: str) -> None:
        """Select the scenarios of these names (for the keyboard-less and the tests)."""
        sm = self.table.selectionModel()
        sm.clearSelection()
        for r, row in enumerate(self.model.rows()):
            if row.name in names:
                sm.select(
                    self.model.index(r, 0),
                    sm.SelectionFlag.Select | sm.SelectionFlag.Rows,
                )

    def _update(self) -> None:
        n = len(self.selected_names())
        may_write = self.ctx.user.may_reassign_tasks and not self.ctx.read_only
        self.show_button.setEnabled(n == 1)
        self.compare_button.setEnabled(n in (1, 2))
        self.compare_button.setText(self.tr("Compare with today") if n == 1 else self.tr("Compare"))
        self.delete_button.setEnabled(n == 1 and may_write)
        self.rename_button.setEnabled(n == 1 and may_write)

    def show_selected(self) -> None:
        """Put the selected scenario's plan on the page (applying it checks it is current)."""
        names = self.selected_names()
        if len(names) != 1:
            return
        user = self.ctx.user
        self.ctx.runner.start(
            "scenarios.load",
            self.ctx.read(
                lambda s: load_scenario(
                    s, names[0], branch_id=user.branch_id, team_scope=user.team_scope()
                )
            ),
            on_done=self._loaded,
            on_error=self._failed,
        )

    def _loaded(self, plan) -> None:
        self.plan_chosen.emit(plan)
        self.accept()

    def compare_selected(self) -> None:
        """Compare the two selected scenarios, or the one selected with today."""
        names = self.selected_names()
        if len(names) not in (1, 2):
            return
        left, right = names[0], names[1] if len(names) == 2 else TODAY
        user, as_of = self.ctx.user, self.ctx.as_of
        self.ctx.runner.start(
            "scenarios.compare",
            self.ctx.read(
                lambda s: compare(
                    s,
                    left,
                    right,
                    branch_id=user.branch_id,
                    team_scope=user.team_scope(),
                    as_of=as_of,
                )
            ),
            on_done=self._compared,
            on_error=self._failed,
        )

    def _compared(self, comparison: Comparison) -> None:
        self.compare_dialog = CompareDialog(comparison, self.shapes, self)
        self.compare_dialog.show()
        self.compared.emit(self.compare_dialog)

    def rename_selected(self, new_name: str | None = None) -> None:
        """Ask for the selected scenario's new name (``new_name`` given: use it) and rename it."""
        names = self.selected_names()
        if len(names) != 1:
            return
        name = names[0]
        if new_name is None:
            from PySide6.QtWidgets import QInputDialog

            new_name, ok = QInputDialog.getText(
                self, self.tr("Rename scenario"), self.tr("New name:"), text=name
            )
            if not ok:
                return
        user, wanted = self.ctx.user, new_name
        self.ctx.runner.start(
            "scenarios.rename",
            self.ctx.write(
                lambda s: rename_scenario(
                    s, name, wanted, branch_id=user.branch_id, team_scope=user.team_scope()
                )
            ),
            on_done=self._renamed,
            on_error=self._failed,
        )

    def _renamed(self, new: str) -> None:
        self._pending_select = new
        self.refresh()

    def delete_selected(self) -> None:
        names = self.selected_names()
        if len(names) != 1:
            return
        name = names[0]
        ask(
            self,
            self.tr("Delete scenario"),
            arg(
                self.tr("Delete scenario “%1”? Nothing it proposes was applied by keeping it."),
                name,
            ),
            lambda: self._delete(name),
            yes_text=self.tr("Delete"),
        )

    def _delete(self, name: str) -> None:
        user = self.ctx.user
        self.ctx.runner.start(
            "scenarios.delete",
            self.ctx.write(
                lambda s: delete_scenario(
                    s, name, branch_id=user.branch_id, team_scope=user.team_scope()
                )
            ),
            on_done=lambda _r: self._deleted(name),
            on_error=self._failed,
        )

    def _deleted(self, name: str) -> None:
        self.deleted.emit(name)
        self.refresh()
