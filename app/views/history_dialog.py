"""Edit ▸ History: every rebalance and hand-over in the user's scope, from the database (so it
survives restarts and is the same for everyone on the database), with Undo for any batch whose
changes have not been overtaken since."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from app.services.rebalance.batches import BatchRow, list_batches
from app.views.calendar import local_text
from app.views.context import AppContext, call
from app.views.errors import error_text
from app.views.i18n import arg, translate
from app.views.labels import customers, grids
from app.views.layout import fit_columns
from app.views.messages import inform, sms_outcome
from app.views.table_models import ROW_ROLE, Column, RowTableModel


def _what(r: BatchRow) -> str:
    if r.kind == "handover":
        return arg(translate("HistoryDialog", "hand-over of %1"), r.leaver)
    if r.kind == "intake":
        return arg(translate("HistoryDialog", "intake of agent %1"), r.leaver)
    if r.kind == "reassign":
        return translate("HistoryDialog", "tasks reassigned")
    if r.kind == "import":
        return arg(translate("HistoryDialog", "history imported (%1 changes)"), f"{r.events:,}")
    return translate("HistoryDialog", "rebalance")


def _state(r: BatchRow) -> str:
    if r.undone_at is None:
        return ""
    return arg(translate("HistoryDialog", "undone by %1"), r.undone_by or "")


def _count(n: int) -> str:
    return f"{n:,}"


def columns() -> list[Column[BatchRow]]:
    return [
        Column("id", translate("HistoryDialog", "No."), lambda r: r.id, numeric=True),
        Column(
            "recorded",
            translate("HistoryDialog", "Recorded"),
            lambda r: local_text(r.created_at),
        ),
        Column(
            "effective",
            translate("HistoryDialog", "Effective"),
            lambda r: r.effective_on.isoformat() if r.effective_on else "",
            header_tip=translate("HistoryDialog", "The day the change holds from"),
        ),
        Column("actor", translate("HistoryDialog", "By"), lambda r: r.actor),
        Column("what", translate("HistoryDialog", "Change"), _what),
        Column(
            "grids", translate("HistoryDialog", "Grids"), lambda r: r.grids, _count, numeric=True
        ),
        Column(
            "customers",
            translate("HistoryDialog", "Customers"),
            lambda r: r.customers,
            _count,
            numeric=True,
        ),
        Column(
            "tasks",
            translate("HistoryDialog", "Open tasks"),
            lambda r: r.tasks,
            _count,
            numeric=True,
        ),
        Column("sms", translate("HistoryDialog", "SMS"), lambda r: r.sms, _count, numeric=True),
        Column("state", translate("HistoryDialog", "State"), _state),
    ]


class HistoryDialog(QDialog):
    """The change batches of the user's scope, newest first, each undoable while current.

    Signals:
        undone(object): after a batch was undone, with the service's UndoResult.
    """

    undone = Signal(object)

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.tr("History of changes"))
        self.model = RowTableModel(columns(), self)
        self.table = QTableView()
        self.table.setObjectName("history_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.selectionModel().currentRowChanged.connect(self._update)
        self.note = QLabel(
            self.tr(
                "Every intake, rebalance and hand-over on this database, by whoever made it. Undo "
                "puts its customers, grids and open tasks back, if nothing of it changed hands "
                "since; an intake's customers leave the pool again."
            )
        )
        self.note.setWordWrap(True)
        self.undo_button = QPushButton(self.tr("Undo this change…"))
        self.undo_button.setObjectName("undo_batch")
        self.undo_button.clicked.connect(self.undo_selected)
        may_change = self.ctx.user.may_reassign_tasks and not self.ctx.read_only
        self.undo_button.setVisible(may_change)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.undo_button)
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.resize(1000, 520)
        self.reload()

    def reload(self) -> None:
        user = self.ctx.user
        rows = call(
            self.ctx,
            list_batches,
            branch_id=user.branch_id,
            team_scope=user.team_scope(),
        )
        self.model.set_rows(rows)
        fit_columns(self.table)
        self._update()

    def selected(self) -> BatchRow | None:
        index = self.table.currentIndex()
        return index.data(ROW_ROLE) if index.isValid() else None

    def _update(self, *_args) -> None:
        row = self.selected()
        self.undo_button.setEnabled(row is not None and row.undoable)

    def undo_selected(self) -> None:
        """Undo the selected batch in the background; say what happened."""
        from app.services.rebalance.apply import undo_batch

        row = self.selected()
        if row is None or not row.undoable:
            return
        user = self.ctx.user
        self.undo_button.setEnabled(False)
        self.ctx.runner.start(
            f"history.undo.{row.id}",
            self.ctx.write(
                lambda s: undo_batch(
                    s,
                    actor=user.login,
                    team_scope=user.team_scope(),
                    batch_id=row.id,
                    branch_id=user.branch_id,
                )
            ),
            on_done=self._undone,
            on_error=self._refused,
            progress_parent=self,
            progress_title=self.tr("Undoing…"),
        )

    def _undone(self, result) -> None:
        self.reload()
        inform(
            self,
            self.tr("Undo"),
            arg(
                self.tr("Change %1 undone: %2 and %3 are back; %4."),
                str(result.batch_id),
                customers(result.customers_restored),
                grids(result.grids_restored),
                sms_outcome(result.sms),
            ),
        )
        self.undone.emit(result)

    def _refused(self, exc: BaseException) -> None:
        self._update()
        inform(self, self.tr("Undo"), error_text(exc), warning=True)
