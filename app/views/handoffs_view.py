"""Tasks ▸ Hand-offs late: the customers past a hand-off target with the milestone not reached,
oldest pool entry first, with their specialist and grid (app.services.metrics.handoff)."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.metrics import handoff
from app.views.errors import show_error
from app.views.i18n import arg, translate
from app.views.layout import fit_columns
from app.views.table_export import install_table_export
from app.views.table_models import SORT_ROLE, Column, RowTableModel


def milestone_names() -> dict[str, str]:
    return {
        "sms": translate("HandoffsView", "SMS not sent"),
        "contact": translate("HandoffsView", "no first contact"),
        "service": translate("HandoffsView", "no first service"),
    }


def late_columns() -> list[Column[handoff.LateHandoff]]:
    names = milestone_names()
    return [
        Column(
            "customer",
            translate("HandoffsView", "Customer"),
            lambda r: f"{r.customer_name} ({r.customer_no})",
        ),
        Column(
            "specialist",
            translate("HandoffsView", "Specialist"),
            lambda r: r.specialist_name or "—",
        ),
        Column("grid", translate("HandoffsView", "Grid"), lambda r: r.grid_code or "—"),
        Column("entered", translate("HandoffsView", "Entered\nthe pool"), lambda r: r.entered_on),
        Column(
            "waiting",
            translate("HandoffsView", "Days since\npool entry"),
            lambda r: r.days_waiting,
            numeric=True,
        ),
        Column(
            "over",
            translate("HandoffsView", "Days past\nthe target"),
            lambda r: r.days_over,
            numeric=True,
            header_tip=translate(
                "HandoffsView", "Days past the target of the first milestone missed"
            ),
        ),
        Column(
            "missed",
            translate("HandoffsView", "Late on"),
            lambda r: ", ".join(names[m] for m in r.missed),
            alert=lambda r: True,
        ),
    ]


class LateFilter(QSortFilterProxyModel):
    """Keeps the rows late on one milestone (or any), of nobody's customers when asked."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.milestone: str | None = None
        self.nobody_only = False
        self.entered_from = None
        self.setSortRole(SORT_ROLE)

    def set_milestone(self, milestone: str | None) -> None:
        self.beginFilterChange()
        self.milestone = milestone
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_entered_from(self, day) -> None:
        self.beginFilterChange()
        self.entered_from = day
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(  # noqa: N802
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        model = self.sourceModel()
        assert isinstance(model, RowTableModel)  # HandoffsView sets one
        row = model.row_at(source_row)
        if self.nobody_only and row.specialist_id is not None:
            return False
        if self.entered_from is not None and row.entered_on < self.entered_from:
            return False
        return self.milestone is None or self.milestone in row.missed


class LateHandoffsView(QWidget):
    """The list itself; the Tasks page gives it the scope (team, specialist, nobody, grid)."""

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.milestone = QComboBox()
        self.milestone.setObjectName("milestone")
        self.milestone.addItem(self.tr("Late on any milestone"), None)
        for key, name in milestone_names().items():
            self.milestone.addItem(name, key)
        self.entered = QComboBox()
        self.entered.setObjectName("entered")
        self.entered.addItem(self.tr("Entered the pool at any time"), None)
        for days in (30, 90, 365):
            self.entered.addItem(arg(self.tr("Entered in the last %1 days"), str(days)), days)
        self.targets = QLabel()
        self.targets.setObjectName("targets")
        self.model = RowTableModel(late_columns())
        self.proxy = LateFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("late_table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicatorShown(False)  # the service's order first
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table_export = install_table_export(
            self.table, name=self.tr("Hand-offs late"), runner=ctx.runner
        )
        self.count = QLabel()
        self.count.setObjectName("late_count")
        top = QHBoxLayout()
        top.addWidget(self.milestone)
        top.addWidget(self.entered)
        top.addWidget(self.targets, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        self.milestone.currentIndexChanged.connect(self._milestone_changed)
        self.entered.currentIndexChanged.connect(self._entered_changed)

    def load(self, *, team_ids, specialist_ids, grid_ids, nobody_only: bool) -> None:
        """Read the list for the scope in the background and show it."""
        ctx = self.ctx
        self.count.setText(self.tr("Loading…"))

        def read(s):
            targets = handoff.handoff_targets(s, ctx.user.branch_id)
            rows = handoff.late_handoffs(
                s,
                as_of=ctx.as_of,
                branch_id=ctx.user.branch_id,
                targets=targets,
                team_ids=team_ids,
                specialist_ids=specialist_ids,
                grid_ids=grid_ids,
            )
            return targets, rows

        self.proxy.nobody_only = nobody_only
        ctx.runner.start(
            "tasks.handoffs", ctx.read(read), on_done=self._show, on_error=self._failed
        )

    def _show(self, loaded) -> None:
        targets, rows = loaded
        self.targets.setText(
            arg(
                self.tr(
                    "Targets from pool entry: SMS %1 d · first contact %2 d · first service %3 d"
                ),
                str(targets.sms_days),
                str(targets.contact_days),
                str(targets.service_days),
            )
        )
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.proxy.sort(-1)
        self.model.set_rows(rows)
        fit_columns(self.table)  # the headers with room for the sort arrow
        self._show_count()

    def _milestone_changed(self) -> None:
        self.proxy.set_milestone(self.milestone.currentData())
        self._show_count()

    def _entered_changed(self) -> None:
        days = self.entered.currentData()
        day = None if days is None else self.ctx.as_of - timedelta(days=days - 1)
        self.proxy.set_entered_from(day)
        self._show_count()

    def _show_count(self) -> None:
        self.count.setText(
            arg(
                self.tr("%1 customers late on a hand-off, oldest pool entry first"),
                f"{self.proxy.rowCount():,}",
            )
        )

    def _failed(self, exc: BaseException) -> None:
        self.count.setText("")
        show_error(self, self.tr("Hand-offs late"), exc)
