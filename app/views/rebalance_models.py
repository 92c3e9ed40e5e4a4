"""The Qt models of a rebalancing plan: the moves (tick to keep, pick another target) and the
workloads before and after. Shared by the rebalancing page and the leaving dialog."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QComboBox, QStyledItemDelegate

from app.services.rebalance.editing import (
    Edits,
    WorkloadChange,
    allowed_targets,
    edit_plan,
    give_grids,
)
from app.services.rebalance.offers import GridOffer
from app.services.rebalance.plan import Plan
from app.views.i18n import translate
from app.views.table_models import Column

_Index = QModelIndex | QPersistentModelIndex

TARGETS_ROLE = Qt.ItemDataRole.UserRole + 10  # [(employee no., label)] a move may go to
MOVE_ROLE = Qt.ItemDataRole.UserRole + 11  # the PlanMove as proposed
_DROPPED = QBrush(QColor("#8c959f"))

KEEP, KIND, GRID, CUSTOMER, FROM, TO, LOAD, CUSTOMERS, FROM_AFTER, TO_AFTER = range(10)


def _fmt(v: float) -> str:
    return f"{v:,.1f}"


def _count(v: int) -> str:
    return f"{v:,}"


class MovesModel(QAbstractTableModel):
    """The moves of a proposed plan. Unticking a move drops it; the "To" column is editable
    (a combo of the specialists allowed to take it). ``plan()`` is the plan as edited.

    Signals:
        edited(): the supervisor dropped, restored or redirected a move.
    """

    edited = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._base: Plan | None = None
        self._plan: Plan | None = None
        self._kept: list[bool] = []
        self._targets: dict[int, str] = {}
        self._effective: dict[int, int] = {}  # base index -> index in the edited plan
        self._final: dict[str, float] = {}  # employee no -> workload once the plan is made
        self._names: dict[str, str] = {}  # employee no -> "name (employee no)"
        self._short: dict[str, str] = {}  # employee no -> the name as the table shows it
        self._may_cross = False
        self._excluded: frozenset[str] = frozenset()
        self.editable = True
        self._headers = [
            translate("RebalanceModels", "Keep"),
            translate("RebalanceModels", "Kind"),
            translate("RebalanceModels", "Grid"),
            translate("RebalanceModels", "Customer"),
            translate("RebalanceModels", "From"),
            translate("RebalanceModels", "To"),
            translate("RebalanceModels", "Workload"),
            translate("RebalanceModels", "Customers"),
            translate("RebalanceModels", "From:\nafter"),
            translate("RebalanceModels", "To:\nafter"),
        ]

    # --- the plan ------------------------------------------------------------------------

    def set_plan(
        self,
        plan: Plan | None,
        *,
        may_cross_teams: bool,
        excluded: Collection[str] = (),
    ) -> None:
        """Show ``plan`` with every move kept; ``excluded`` employee numbers (someone leaving)
        are never offered as targets."""
        self.beginResetModel()
        self._base = plan
        self._kept = [True] * (len(plan.moves) if plan else 0)
        self._targets = {}
        self._may_cross = may_cross_teams
        self._excluded = frozenset(excluded)
        people = plan.specialists if plan else []
        self._names = {s.employee_no: f"{s.name} ({s.employee_no})" for s in people}
        # In the table a name alone, unless two specialists share it: the columns stay narrow.
        twice = {n for n in (s.name for s in people) if sum(p.name == n for p in people) > 1}
        self._short = {
            s.employee_no: self._names[s.employee_no] if s.name in twice else s.name for s in people
        }
        self._recompute()
        self.endResetModel()

    def base_plan(self) -> Plan | None:
        return self._base

    def plan(self) -> Plan | None:
        """Return the plan as edited (dropped moves left out, new targets applied)."""
        return self._plan

    def dropped(self) -> list[int]:
        return [i for i, k in enumerate(self._kept) if not k]

    def set_kept(self, row: int, kept: bool) -> None:
        self.setData(
            self.index(row, KEEP),
            Qt.CheckState.Checked if kept else Qt.CheckState.Unchecked,
            Qt.ItemDataRole.CheckStateRole,
        )

    def set_target(self, row: int, employee_no: str) -> None:
        self.setData(self.index(row, TO), employee_no, Qt.ItemDataRole.EditRole)

    def excluded(self) -> frozenset[str]:
        """Employee numbers never offered as targets (someone leaving)."""
        return self._excluded

    def give_grids(
        self, grid_codes: Collection[str], employee_no: str, offers: Mapping[str, GridOffer]
    ) -> None:
        """Give the grids to ``employee_no`` (:func:`~app.services.rebalance.editing.give_grids`):
        moves of them are ticked and redirected (unticked when given back), the other grids
        added as rows at the end. Raises PlanError, changing nothing."""
        if self._base is None or not self.editable:
            return
        edits = give_grids(
            Edits(self._base, frozenset(self.dropped()), dict(self._targets)),
            grid_codes,
            employee_no,
            offers,
            may_cross_teams=self._may_cross,
            excluded=self._excluded,
        )
        first = len(self._base.moves)
        added = len(edits.plan.moves) - first
        if added:
            self.beginInsertRows(QModelIndex(), first, first + added - 1)
        self._base = edits.plan
        self._kept = [i not in edits.dropped for i in range(len(edits.plan.moves))]
        self._targets = dict(edits.targets)
        self._recompute()
        if added:
            self.endInsertRows()
        if first:
            self.dataChanged.emit(self.index(0, 0), self.index(first - 1, TO_AFTER))
        self.edited.emit()

    def name(self, employee_no: str) -> str:
        return self._names.get(employee_no, employee_no)

    def _recompute(self) -> None:
        if self._base is None:
            self._plan, self._effective, self._final = None, {}, {}
            return
        self._plan = edit_plan(self._base, dropped=self.dropped(), targets=self._targets)
        self._final = self._plan.loads_after()
        kept = [i for i, k in enumerate(self._kept) if k]
        self._effective = {i: j for j, i in enumerate(kept)}

    # --- Qt ------------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() or self._base is None else len(self._base.moves)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: N802
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self._headers)
        ):
            return self._headers[section]
        if (
            role == Qt.ItemDataRole.ToolTipRole
            and orientation == Qt.Orientation.Horizontal
            and section in (len(self._headers) - 2, len(self._headers) - 1)
        ):
            return translate(
                "RebalanceModels",
                "The workload of the giving and of the receiving specialist once every move "
                "kept in the list is made, as in the workloads table.",
            )
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.editable and index.column() == KEEP:
            f |= Qt.ItemFlag.ItemIsUserCheckable
        if self.editable and index.column() == TO and self._kept[index.row()]:
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._base is None or self._plan is None:
            return None
        row, col = index.row(), index.column()
        if not 0 <= row < len(self._base.moves):
            return None
        move = self._base.moves[row]
        kept = self._kept[row]
        to_no = self._targets.get(row, move.to_no)
        if role == MOVE_ROLE:
            return move
        if role == Qt.ItemDataRole.CheckStateRole and col == KEEP:
            return Qt.CheckState.Checked if kept else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.EditRole and col == TO:
            return to_no
        if role == TARGETS_ROLE and col == TO:
            return [
                (s.employee_no, self.name(s.employee_no))
                for s in allowed_targets(
                    self._base, row, may_cross_teams=self._may_cross, excluded=self._excluded
                )
            ]
        if role == Qt.ItemDataRole.ForegroundRole and not kept:
            return _DROPPED
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (
            LOAD,
            CUSTOMERS,
            FROM_AFTER,
            TO_AFTER,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col in (FROM, TO):
            who = self.name(move.from_no if col == FROM else to_no)
            if col == TO and self.editable and kept:
                return (
                    who
                    + "\n"
                    + translate("RebalanceModels", "Double-click to give this move to someone else")
                )
            return who
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        effective = self._plan.moves[self._effective[row]] if kept else None
        if col == KEEP:
            return ""
        if col == KIND:
            return (
                translate("RebalanceModels", "Grid")
                if move.kind == "grid"
                else translate("RebalanceModels", "Customer")
            )
        if col == GRID:
            return move.grid_code
        if col == CUSTOMER:
            return move.customer_no or "—"
        if col == FROM:
            return self._short.get(move.from_no, move.from_no)
        if col == TO:
            return self._short.get(to_no, to_no) + ("  ✎" if row in self._targets else "")
        if col == LOAD:
            return _fmt(move.load)
        if col == CUSTOMERS:
            return str(move.customers)
        if col == FROM_AFTER:
            return _fmt(self._final[effective.from_no]) if effective else "—"
        if col == TO_AFTER:
            return _fmt(self._final[effective.to_no]) if effective else "—"
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not index.isValid() or self._base is None or not self.editable:
            return False
        row, col = index.row(), index.column()
        if col == KEEP and role == Qt.ItemDataRole.CheckStateRole:
            kept = Qt.CheckState(value) == Qt.CheckState.Checked
            if kept == self._kept[row]:
                return True
            self._kept[row] = kept
        elif col == TO and role == Qt.ItemDataRole.EditRole:
            value = str(value)
            allowed = {no for no, _ in self.data(index, TARGETS_ROLE) or []}
            if value not in allowed:
                return False
            if value == self._base.moves[row].to_no:
                self._targets.pop(row, None)
            else:
                self._targets[row] = value
        else:
            return False
        self._recompute()
        # Every row's after-loads may change: announce the whole table.
        self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, TO_AFTER))
        self.edited.emit()
        return True


class TargetDelegate(QStyledItemDelegate):
    """Edits the "To" column with a combo of the specialists allowed to take the move."""

    def createEditor(self, parent, option, index):  # noqa: N802
        combo = QComboBox(parent)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for no, label in index.data(TARGETS_ROLE) or []:
            combo.addItem(label, no)
        return combo

    def updateEditorGeometry(self, editor, option, index) -> None:  # noqa: N802
        """Open the combo as wide as its longest choice (a name and an employee number), not
        the cell, which fits a name alone: it covers the next columns while open, kept inside
        the table."""
        rect = QRect(option.rect)
        rect.setWidth(max(rect.width(), editor.sizeHint().width()))
        viewport = editor.parentWidget()
        if viewport is not None and rect.right() >= viewport.width():
            rect.moveRight(viewport.width() - 1)
            rect.moveLeft(max(rect.left(), 0))
        editor.setGeometry(rect)

    def setEditorData(self, editor, index) -> None:  # noqa: N802
        i = editor.findData(index.data(Qt.ItemDataRole.EditRole))
        if i >= 0:
            editor.setCurrentIndex(i)

    def setModelData(self, editor, model, index) -> None:  # noqa: N802
        if editor.currentData() is not None:
            model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


def workload_columns(team_names: dict[str, str] | None = None) -> list[Column[WorkloadChange]]:
    """The columns of the workload table; teams by name when ``team_names`` (code -> name)
    knows them."""
    names = team_names or {}
    return [
        Column(
            "specialist",
            translate("RebalanceModels", "Specialist"),
            lambda r: f"{r.name} ({r.employee_no})",
        ),
        Column(
            "before",
            translate("RebalanceModels", "Workload\nnow"),
            lambda r: r.load_before,
            _fmt,
            numeric=True,
        ),
        Column(
            "after",
            translate("RebalanceModels", "Workload\nafter"),
            lambda r: r.load_after,
            _fmt,
            numeric=True,
        ),
        Column(
            "change",
            translate("RebalanceModels", "Change"),
            lambda r: r.change,
            lambda v: "—" if abs(v) < 0.05 else f"{v:+,.1f}",
            numeric=True,
        ),
        Column(
            "customers_now",
            translate("RebalanceModels", "Customers\nnow"),
            lambda r: r.customers_before,
            _count,
            numeric=True,
            kind="number",
        ),
        Column(
            "customers_after",
            translate("RebalanceModels", "Customers\nafter"),
            lambda r: r.customers_after,
            _count,
            numeric=True,
            kind="number",
            alert=lambda r: r.customers_after > r.capacity,
            tooltip=lambda r: (
                translate("RebalanceModels", "Above capacity")
                if r.customers_after > r.capacity
                else ""
            ),
        ),
        Column(
            "capacity",
            translate("RebalanceModels", "Capacity"),
            lambda r: r.capacity,
            _count,
            numeric=True,
            kind="number",
        ),
        # Last: what a supervisor weighs first (workloads, customers against capacity) must
        # show without scrolling on a laptop.
        Column(
            "team",
            translate("RebalanceModels", "Team"),
            lambda r: names.get(r.team_code, r.team_code),
        ),
    ]


def fit_moves_table(table, plan: Plan | None, *, one_giver: bool = False) -> None:
    """Size the moves table to its columns; the kind and customer columns show only when the
    plan moves single customers (whole grids only: they would say "Grid" and "—" throughout),
    and the giver's "after" column not when ``one_giver`` (someone leaving: the same figure on
    every row)."""
    from app.views.layout import fit_columns

    singles = plan is not None and any(m.kind != "grid" for m in plan.moves)
    table.setColumnHidden(KIND, not singles)
    table.setColumnHidden(CUSTOMER, not singles)
    table.setColumnHidden(FROM_AFTER, one_giver)
    fit_columns(table)
