"""Plans with a later effective date on screen: the "takes effect" box beside Apply, the
list of scheduled plans (cancel one before its day), and the release when GridDesk opens
(app.services.rebalance.scheduled)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.messages import Message
from app.services.rebalance import scheduled as service
from app.views.calendar import local_text, py_date
from app.views.context import AppContext
from app.views.errors import error_text, message_text
from app.views.i18n import arg, translate
from app.views.labels import SCHEDULED_STATUSES, customers, label
from app.views.messages import ask, inform
from app.views.table_models import Column, RowTableModel


def first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


class EffectiveDate(QDateEdit):
    """Today (shown as "today, at once") or a later day; the first of next month a click away
    in the calendar."""

    def __init__(self, today: date, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("effective_on")
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd")
        self.today = today
        self.setMinimumDate(QDate(today.year, today.month, today.day))
        self.setSpecialValueText(translate("ScheduledPlans", "today, at once"))
        self.setDate(self.minimumDate())
        self.setToolTip(
            arg(
                translate(
                    "ScheduledPlans",
                    "The day the moves take effect. A later day (e.g. %1, the first of next month) "
                    "keeps the plan waiting: nobody moves and no SMS goes out before; it can be "
                    "cancelled until then.",
                ),
                first_of_next_month(today).isoformat(),
            )
        )

    def day(self) -> date:
        return py_date(self.date())

    def later(self) -> bool:
        return self.day() > self.today


def schedule_job(ctx: AppContext, plan, day: date):
    user = ctx.user
    return ctx.write(
        lambda s: service.schedule_plan(
            s,
            plan,
            effective_on=day,
            actor=user.login,
            user_may_cross_teams=user.may_move_across_teams,
            team_scope=user.team_scope(),
            branch_scope=user.branch_id,
        )
    )


def release_on_open(window, ctx: AppContext, on_released) -> None:
    """Apply the scheduled plans whose day has come, in the background, as GridDesk opens on
    the branch's database; ``on_released(list)`` gets what was done (nothing on a copy, or for
    a role that may not change assignments)."""
    user = ctx.user
    if ctx.read_only or not user.may_reassign_tasks:
        return
    ctx.runner.start(
        "scheduled.release",
        ctx.write(
            lambda s: service.release_due(
                s, branch_id=user.branch_id, team_scope=user.team_scope(), released_by=user.login
            )
        ),
        on_done=on_released,
        on_error=lambda exc: inform(
            window, translate("ScheduledPlans", "Scheduled plans"), error_text(exc), warning=True
        ),
    )


def released_text(done: list[service.Released]) -> str:
    lines = []
    for r in done:
        if r.applied is not None:
            lines.append(
                arg(
                    translate("ScheduledPlans", "Plan %1, from %2: applied, %3 moved."),
                    str(r.id),
                    r.effective_on.isoformat(),
                    customers(r.applied.customers_moved),
                )
            )
        else:
            lines.append(
                arg(
                    translate(
                        "ScheduledPlans", "Plan %1, from %2: not applied, it was overtaken: %3"
                    ),
                    str(r.id),
                    r.effective_on.isoformat(),
                    error_text(r.refused) if r.refused is not None else "",
                )
            )
    return "\n\n".join(lines)


def _status(r: service.ScheduledInfo) -> str:
    return label(SCHEDULED_STATUSES, r.status)


def _outcome(r: service.ScheduledInfo) -> str:
    """Why a plan was refused, in the user's language ('' when it was not)."""
    if isinstance(r.outcome, Message):
        return message_text(r.outcome)
    return r.outcome or ""


def scheduled_columns() -> list[Column[service.ScheduledInfo]]:
    return [
        Column("id", translate("ScheduledPlans", "No."), lambda r: r.id, numeric=True),
        Column(
            "effective_on", translate("ScheduledPlans", "Takes effect"), lambda r: r.effective_on
        ),
        Column(
            "status",
            translate("ScheduledPlans", "Status"),
            _status,
            alert=lambda r: r.status == service.REFUSED,
        ),
        Column(
            "team",
            translate("ScheduledPlans", "Team"),
            lambda r: r.team_code or translate("ScheduledPlans", "branch"),
        ),
        Column("grids", translate("ScheduledPlans", "Grids"), lambda r: r.grids, numeric=True),
        Column(
            "customers",
            translate("ScheduledPlans", "Single\ncustomers"),
            lambda r: r.customers,
            numeric=True,
        ),
        Column("author", translate("ScheduledPlans", "By"), lambda r: r.author),
        Column(
            "created_at",
            translate("ScheduledPlans", "Scheduled at"),
            lambda r: local_text(r.created_at),
        ),
        Column(
            "note",
            translate("ScheduledPlans", "Note"),
            lambda r: (
                _outcome(r)
                or (
                    arg(translate("ScheduledPlans", "change batch %1"), str(r.batch_id))
                    if r.batch_id
                    else ""
                )
            ),
            tooltip=_outcome,
        ),
    ]


class ScheduledDialog(QDialog):
    """The plans waiting for their day (cancel one) and those decided."""

    changed = Signal(object)

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.tr("Scheduled plans"))
        self.resize(900, 420)
        self.model = RowTableModel(scheduled_columns())
        self.table = QTableView()
        self.table.setObjectName("scheduled_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.cancel_button = QPushButton(self.tr("Cancel plan…"))
        self.cancel_button.setObjectName("cancel_plan")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setVisible(ctx.user.may_reassign_tasks and not ctx.read_only)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        note = QLabel(
            self.tr(
                "A waiting plan takes effect on its day, when GridDesk next opens on the "
                "branch's database (or `griddesk rebalance release` runs); one overtaken by "
                "then is refused, with the reason."
            )
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(note)
        layout.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        user = self.ctx.user
        with self.ctx.Session() as s:
            rows = service.list_scheduled(s, branch_id=user.branch_id, team_scope=user.team_scope())
        self.model.set_rows(rows)
        self.table.resizeColumnsToContents()
        self._selection_changed()

    def selected(self) -> service.ScheduledInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def _selection_changed(self, *_args) -> None:
        r = self.selected()
        self.cancel_button.setEnabled(r is not None and r.status == service.SCHEDULED)

    def cancel_selected(self) -> None:
        r = self.selected()
        if r is None or r.status != service.SCHEDULED:
            return
        text = arg(
            self.tr("Cancel plan %1, due to take effect on %2? Nobody has moved yet."),
            str(r.id),
            r.effective_on.isoformat(),
        )
        ask(
            self,
            self.tr("Scheduled plans"),
            text,
            lambda: self.cancel(r.id),
            yes_text=self.tr("Cancel plan"),
        )

    def cancel(self, scheduled_id: int) -> None:
        user = self.ctx.user
        try:
            with self.ctx.Session() as s, s.begin():
                info = service.cancel_scheduled(
                    s,
                    scheduled_id,
                    actor=user.login,
                    branch_id=user.branch_id,
                    team_scope=user.team_scope(),
                )
        except Exception as exc:  # noqa: BLE001 - said to the user, nothing written
            inform(self, self.tr("Scheduled plans"), error_text(exc), warning=True)
            return
        self.refresh()
        self.changed.emit(info.changes)


def scheduled_button(parent: QWidget) -> QPushButton:
    button = QPushButton(translate("ScheduledPlans", "Scheduled…"), parent)
    button.setObjectName("scheduled")
    button.setToolTip(
        translate("ScheduledPlans", "Plans waiting for a later effective date, and those decided")
    )
    return button
