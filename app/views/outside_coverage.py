"""Addresses outside coverage on the intake page: the dialog that marks the customers chosen in
the unmatched queue (a reason from the list and a note), and the list of those marked, from
which they can be put back in the queue."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.views.calendar import local_text
from app.views.context import AppContext
from app.views.errors import show_error
from app.views.i18n import arg, translate
from app.views.layout import fit_columns
from app.views.table_export import install_table_export
from app.views.table_models import ROW_ROLE, Column, RowTableModel

NOTE_LENGTH = 200  # app.services.intake.coverage.NOTE_LENGTH, without importing the services


def reason_texts() -> dict[str, str]:
    """Return the reasons an address is outside coverage, by code, in the user's language."""
    return {
        "no_grid_district": translate("IntakePage", "A district of the city with no grids"),
        "out_of_town": translate("IntakePage", "An address outside the city"),
        "incomplete": translate("IntakePage", "Address incomplete, to be checked"),
        "other": translate("IntakePage", "Other (say why in the note)"),
    }


def outside_columns() -> list[Column]:
    reasons = reason_texts()
    return [
        Column("customer_no", translate("IntakePage", "Customer no."), lambda r: r.customer_no),
        Column("name", translate("IntakePage", "Name"), lambda r: r.name),
        Column("address", translate("IntakePage", "Address"), lambda r: r.address),
        Column("district", translate("IntakePage", "District"), lambda r: r.district or "—"),
        Column(
            "waiting",
            translate("IntakePage", "Days waiting"),
            lambda r: r.days_waiting,
            numeric=True,
        ),
        Column(
            "reason", translate("IntakePage", "Reason"), lambda r: reasons.get(r.reason, r.reason)
        ),
        Column("marked_by", translate("IntakePage", "Marked by"), lambda r: r.marked_by),
        Column(
            "marked_at", translate("IntakePage", "Marked at"), lambda r: local_text(r.marked_at)
        ),
        # Free text last: the column that stretches.
        Column("note", translate("IntakePage", "Note"), lambda r: r.note),
    ]


class OutsideCoverageDialog(QDialog):
    """Ask why the chosen customers' addresses are outside coverage: OK stays off until a
    reason is chosen (and, for 'other', the note says why)."""

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("IntakePage", "Outside coverage"))
        self.reason_box = QComboBox()
        self.reason_box.setObjectName("reason")
        self.reason_box.addItem(translate("IntakePage", "— choose a reason —"), None)
        for code, text in reason_texts().items():
            self.reason_box.addItem(text, code)
        self.note_edit = QLineEdit()
        self.note_edit.setObjectName("note")
        self.note_edit.setMaxLength(NOTE_LENGTH)
        self.note_edit.setPlaceholderText(translate("IntakePage", "e.g. 郫都区 has no grids yet"))
        intro = QLabel(
            arg(
                translate(
                    "IntakePage",
                    "Take %1 customers out of the queue of addresses matching no grid, into the "
                    "list of addresses outside coverage? They can be put back in the queue; a "
                    "grid drawn where they live takes them by itself at the next rematch or grid "
                    "import.",
                ),
                f"{count:,}",
            )
        )
        intro.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(
            translate("IntakePage", "Mark outside coverage")
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(translate("IntakePage", "Reason"), self.reason_box)
        form.addRow(translate("IntakePage", "Note"), self.note_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.reason_box.currentIndexChanged.connect(lambda _i: self._check())
        self.note_edit.textChanged.connect(lambda _t: self._check())
        self._check()

    def reason(self) -> str | None:
        return self.reason_box.currentData()

    def note(self) -> str:
        return self.note_edit.text().strip()

    def _check(self) -> None:
        reason = self.reason()
        ok = reason is not None and (reason != "other" or bool(self.note()))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)


def mark_outside(
    parent: QWidget, ctx: AppContext, rows: Sequence, on_done: Callable[[object], None]
) -> OutsideCoverageDialog:
    """Ask why, then mark the customers of ``rows`` (unmatched-queue rows) outside coverage,
    all of them or none; ``on_done`` gets what changed. Return the dialog (already open)."""
    from app.services.intake.coverage import mark_outside_coverage

    ids = [r.customer_id for r in rows]
    dialog = OutsideCoverageDialog(len(ids), parent)

    def accepted() -> None:
        reason, note = dialog.reason(), dialog.note()
        if reason is None:  # OK is disabled until a reason is chosen
            return
        actor, user = ctx.user.login, ctx.user
        ctx.runner.start(
            "intake.outside",
            ctx.write(
                lambda s: mark_outside_coverage(
                    s, customer_ids=ids, reason=reason, note=note, actor=actor, user=user
                )
            ),
            on_done=on_done,
            on_error=lambda exc: show_error(
                parent, translate("IntakePage", "Outside coverage"), exc
            ),
        )

    dialog.accepted.connect(accepted)
    dialog.open()
    return dialog


class OutsideCoverageView(QWidget):
    """The addresses marked outside coverage, and Put back in queue for the chosen ones.

    Signals: changed(object) after customers were put back in the queue."""

    changed = Signal(object)

    def __init__(self, ctx: AppContext, *, may_change: bool, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = RowTableModel(outside_columns(), self)
        self.table = QTableView()
        self.table.setObjectName("outside_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        install_table_export(
            self.table,
            name=translate("IntakePage", "Addresses outside coverage"),
            runner=ctx.runner,
        )
        self.count = QLabel()
        self.count.setObjectName("outside_count")
        self.restore_button = QPushButton(translate("IntakePage", "Put back in queue"))
        self.restore_button.setObjectName("restore_outside")
        self.restore_button.setToolTip(
            translate(
                "IntakePage",
                "Put the chosen customers back in the queue of addresses matching no grid",
            )
        )
        self.restore_button.setVisible(may_change)
        self.restore_button.setEnabled(False)
        self.restore_button.clicked.connect(self.restore_selected)
        self.table.selectionModel().selectionChanged.connect(
            lambda *_a: self.restore_button.setEnabled(bool(self.selected()))
        )
        row = QHBoxLayout()
        row.addWidget(self.count, 1)
        row.addWidget(self.restore_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)

    def set_rows(self, rows: Sequence) -> None:
        self.model.set_rows(list(rows))
        self.count.setText(
            arg(
                translate("IntakePage", "%1 customers whose address is outside coverage"),
                f"{len(rows):,}",
            )
        )
        self.restore_button.setEnabled(False)
        fit_columns(self.table)

    def selected(self) -> list:
        return [i.data(ROW_ROLE) for i in self.table.selectionModel().selectedRows()]

    def restore_selected(self) -> None:
        from app.services.intake.coverage import restore_to_queue

        ids = [r.customer_id for r in self.selected()]
        if not ids:
            return
        actor, user = self.ctx.user.login, self.ctx.user
        self.ctx.runner.start(
            "intake.restore",
            self.ctx.write(lambda s: restore_to_queue(s, customer_ids=ids, actor=actor, user=user)),
            on_done=lambda done: self.changed.emit(done.changes),
            on_error=lambda exc: show_error(self, translate("IntakePage", "Outside coverage"), exc),
        )
