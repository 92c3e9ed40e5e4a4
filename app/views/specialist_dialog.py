"""One specialist's page: their customers, grids and assignment history."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
)

from app.services.people import roster as roster_service
from app.services.people.auth import mask_id_number, mask_phone
from app.views.calendar import local_text
from app.views.context import AppContext
from app.views.errors import error_text
from app.views.i18n import arg, translate
from app.views.labels import (
    ACTORS,
    ASSIGNMENT_REASONS,
    CONTRACT_TYPES,
    SPECIALIST_STATUSES,
    STEPS,
    label,
    listed,
    pct,
)
from app.views.layout import content_width
from app.views.table_export import install_table_export
from app.views.table_models import Column, RowTableModel


def customer_columns(show_contact: bool) -> list[Column[roster_service.CustomerRow]]:
    phone = (lambda r: r.phone or "") if show_contact else (lambda r: mask_phone(r.phone))
    ident = (
        (lambda r: r.id_number or "") if show_contact else (lambda r: mask_id_number(r.id_number))
    )
    return [
        Column(
            "customer_no", translate("SpecialistDialog", "Customer no."), lambda r: r.customer_no
        ),
        Column("name", translate("SpecialistDialog", "Name"), lambda r: r.name),
        Column("phone", translate("SpecialistDialog", "Phone"), phone),
        Column("id_number", translate("SpecialistDialog", "ID number"), ident),
        Column("grid", translate("SpecialistDialog", "Grid"), lambda r: r.grid_code or "—"),
        Column("pool", translate("SpecialistDialog", "Entered pool"), lambda r: r.pool_entered_on),
        Column(
            "step",
            translate("SpecialistDialog", "4-sell step"),
            lambda r: label(STEPS, r.step) if r.step else "—",
        ),
        Column(
            "open",
            translate("SpecialistDialog", "Open tasks"),
            lambda r: r.open_tasks,
            numeric=True,
        ),
        Column(
            "address",
            translate("SpecialistDialog", "Address"),
            lambda r: r.address,
            tooltip=lambda r: r.address,
        ),
    ]


def history_columns() -> list[Column[roster_service.HistoryRow]]:
    what = {
        "customer": translate("SpecialistDialog", "Customer"),
        "grid": translate("SpecialistDialog", "Grid"),
        "task": translate("SpecialistDialog", "Task"),
    }
    return [
        Column("at", translate("SpecialistDialog", "When"), lambda r: local_text(r.at)),
        Column("what", translate("SpecialistDialog", "What"), lambda r: what.get(r.what, r.what)),
        Column("subject", translate("SpecialistDialog", "Which"), lambda r: r.subject),
        Column("from", translate("SpecialistDialog", "From"), lambda r: r.from_name or "—"),
        Column("to", translate("SpecialistDialog", "To"), lambda r: r.to_name or "—"),
        Column(
            "reason",
            translate("SpecialistDialog", "Reason"),
            lambda r: label(ASSIGNMENT_REASONS, r.reason),
        ),
        Column("actor", translate("SpecialistDialog", "By"), lambda r: label(ACTORS, r.actor)),
    ]


class SpecialistDialog(QDialog):
    def __init__(self, ctx: AppContext, row: roster_service.RosterRow, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"{row.name} ({row.employee_no})")
        self.resize(980, 620)
        summary = QLabel(
            "  ·  ".join(
                [
                    row.team_name,
                    label(CONTRACT_TYPES, row.contract_type),
                    label(SPECIALIST_STATUSES, row.status),
                    arg(self.tr("%1 customers of %2"), str(row.customers), str(row.capacity)),
                    arg(self.tr("13-month persistency %1"), pct(row.persistency_13)),
                    arg(self.tr("grids: %1"), listed(row.grid_codes) or "—"),
                ]
            )
        )
        summary.setWordWrap(True)
        self.customers = RowTableModel(customer_columns(ctx.user.sees_contact_data), self)
        self.history = RowTableModel(history_columns(), self)
        tabs = QTabWidget()
        for model, title in (
            (self.customers, self.tr("Customers")),
            (self.history, self.tr("History")),
        ):
            view = QTableView()
            view.setModel(model)
            view.setAlternatingRowColors(True)
            view.verticalHeader().setVisible(False)
            view.horizontalHeader().setStretchLastSection(True)
            install_table_export(view, name=f"{row.name} {title}", runner=ctx.runner)
            tabs.addTab(view, title)
        self.tabs = tabs
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(tabs, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        sid = row.specialist_id
        ctx.runner.start(
            f"specialist.{sid}",
            ctx.read(
                lambda s: (
                    roster_service.specialist_customers(s, sid),
                    roster_service.specialist_history(s, sid),
                )
            ),
            on_done=self._show,
            on_error=lambda exc: QMessageBox.warning(self, self.windowTitle(), error_text(exc)),
        )

    def _show(self, data) -> None:
        customers, history = data
        self.customers.set_rows(customers)
        self.history.set_rows(history)
        for i in range(self.tabs.count()):
            table = self.tabs.widget(i)
            if isinstance(table, QTableView):  # every tab is one
                table.resizeColumnsToContents()
        # Wide enough for every column of the customers (the address last), if the screen is.
        table, screen = self.tabs.widget(0), self.screen()
        if isinstance(table, QTableView) and screen is not None:
            need = content_width(table) + self.width() - table.width()
            if need > self.width():
                self.resize(min(need, screen.availableGeometry().width()), self.height())
