"""Roster ▸ Weekly visit list…: choose the week, whose lists (a specialist or a team, as far
as the role allows), PDF or Excel and the file; the lists are written in the background."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QWidget,
)
from sqlalchemy.orm import Session, sessionmaker

from app.services.exports.files import ExportResult
from app.services.people import org
from app.services.people.auth import UserInfo
from app.services.progress import JobState
from app.views.calendar import py_date
from app.views.context import AppContext, call
from app.views.export_parts import export_buttons, language_box, path_row, problem_label
from app.views.i18n import arg, translate
from app.views.table_export import save_folder

FORMATS = (".pdf", ".xlsx")


@dataclass(frozen=True)
class VisitsRequest:
    """What the user asked for: the week (any day of it), the scope as ``team:CODE`` or
    ``specialist:EMPNO``, the language and the target file (.pdf or .xlsx)."""

    week: date
    scope: str
    lang: str
    path: str


def run_visits_export(
    Session: sessionmaker[Session],  # noqa: N803 - the sessionmaker, named as everywhere
    user: UserInfo,
    request: VisitsRequest,
    as_of: date,
    state: JobState,
) -> ExportResult:
    """Write the visit lists the request describes, as ``user`` sees them (background job)."""
    from app.services.exports import ExportError, resolve_scope
    from app.services.exports.visits import scope_specialists, write_visit_lists

    monday = request.week - timedelta(days=request.week.weekday())
    with Session() as s:
        scope = resolve_scope(s, request.scope, branch_id=user.branch_id, user=user)
        ids = scope_specialists(s, scope)
        if not ids:
            raise ExportError("no active specialist to list")
        return write_visit_lists(
            s,
            request.path,
            specialist_ids=ids,
            week_monday=monday,
            as_of=as_of,
            user=user,
            lang=request.lang,
            state=state,
        )


def default_week(as_of: date) -> date:
    """Return the Monday of the week to plan: this week on a working day, next week at the
    weekend."""
    monday = as_of - timedelta(days=as_of.weekday())
    return monday + timedelta(days=7) if as_of.weekday() >= 5 else monday


class VisitListDialog(QDialog):
    """Asks for the week, the scope, the format, the language and the file of visit lists."""

    def __init__(
        self, ctx: AppContext, *, employee_no: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.tr("Weekly visit list"))
        self.setMinimumWidth(520)
        user = ctx.user

        self.week = QDateEdit(_qdate(default_week(ctx.as_of)))
        self.week.setObjectName("week")
        self.week.setCalendarPopup(True)
        self.week.setDisplayFormat("yyyy-MM-dd")
        self.week_note = QLabel()
        week_row = QHBoxLayout()
        week_row.addWidget(self.week)
        week_row.addWidget(self.week_note, 1)

        self.scope = QComboBox()
        self.scope.setObjectName("scope")
        for sp in call(ctx, org.specialists, branch_id=user.branch_id, team_ids=user.team_scope()):
            if sp.employee_no == employee_no:
                label = arg(self.tr("Specialist: %1"), sp.label)
                self.scope.addItem(label, f"specialist:{sp.employee_no}")
        for team in call(ctx, org.teams, branch_id=user.branch_id, team_ids=user.team_scope()):
            label = arg(self.tr("Every active specialist of team %1"), team.name)
            self.scope.addItem(label, f"team:{team.code}")

        self.format = QComboBox()
        self.format.setObjectName("format")
        self.format.addItem(self.tr("PDF to print (one A4 page per day)"), ".pdf")
        self.format.addItem(self.tr("Excel workbook (one sheet per specialist)"), ".xlsx")

        self.language = language_box()
        self.path, file_row = path_row(str(save_folder() / self._file_name()), self._browse)
        self.problem = problem_label()
        buttons = export_buttons(self)

        form = QFormLayout(self)
        form.addRow(self.tr("Week"), week_row)
        form.addRow(self.tr("Lists of"), self.scope)
        form.addRow(self.tr("Format"), self.format)
        form.addRow(self.tr("Language"), self.language)
        form.addRow(self.tr("File"), file_row)
        note = QLabel(
            self.tr(
                "Open tasks due in the week or overdue, premiums due in the 30 days from its "
                "Monday without a renewal task, and customers past a hand-off target, grouped "
                "by grid along a short walking route, Monday to Friday."
            )
        )
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow(self.problem)
        form.addRow(buttons)
        for signal in (
            self.week.dateChanged,
            self.scope.currentIndexChanged,
            self.format.currentIndexChanged,
        ):
            signal.connect(self._rename)
        self._show_week()

    def _monday(self) -> date:
        day = py_date(self.week.date())
        return day - timedelta(days=day.weekday())

    def _show_week(self) -> None:
        monday = self._monday()
        year, week, _ = monday.isocalendar()
        sunday = monday + timedelta(days=6)
        self.week_note.setText(f"{year}-W{week:02d} ({monday:%m-%d} – {sunday:%m-%d})")

    def _file_name(self) -> str:
        year, week, _ = self._monday().isocalendar()
        scope = (self.scope.currentData() or "team").replace(":", "-")
        return f"griddesk-visits-{year}-W{week:02d}-{scope}{self.format.currentData()}"

    def _rename(self) -> None:
        """Keep the week's label and the suggested file name in step with the choices."""
        self._show_week()
        current = Path(self.path.text())
        if current.name.startswith("griddesk-visits-"):
            self.path.setText(str(current.with_name(self._file_name())))

    def _browse(self) -> None:
        suffix = self.format.currentData()
        kind = "PDF (*.pdf)" if suffix == ".pdf" else "Excel (*.xlsx)"
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save visit lists"), self.path.text(), kind
        )
        if path:
            self.path.setText(path if path.lower().endswith(suffix) else path + suffix)

    def request(self) -> VisitsRequest:
        return VisitsRequest(
            week=self._monday(),
            scope=self.scope.currentData(),
            lang=self.language.currentData(),
            path=self.path.text().strip(),
        )

    def accept(self) -> None:
        target = Path(self.path.text().strip())
        if self.scope.currentData() is None:
            self.problem.setText(self.tr("There is no team or specialist to list."))
            return
        if target.suffix.lower() not in FORMATS:
            self.problem.setText(self.tr("The file name must end with .pdf or .xlsx."))
            return
        if not target.name or not target.parent.is_dir():
            self.problem.setText(self.tr("Choose a file in an existing folder."))
            return
        super().accept()


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def export_visits(
    parent: QWidget, ctx: AppContext, *, employee_no: str | None = None, request=None
) -> None:
    """Ask for the week, lists, format and file (unless ``request`` is given), write the visit
    lists in the background and say where they went."""
    from PySide6.QtWidgets import QMessageBox

    from app.views.errors import show_error

    if request is None:
        dialog = VisitListDialog(ctx, employee_no=employee_no, parent=parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        request = dialog.request()
    title = translate("VisitListDialog", "Weekly visit list")

    def done(result: ExportResult) -> None:
        text = arg(translate("VisitListDialog", "Visit lists saved: %1"), result.path)
        box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=parent)
        box.setObjectName("visits_done")
        box.open()  # not modal to the app: the user may go on working

    ctx.runner.start(
        "export_visits",
        lambda state: run_visits_export(ctx.Session, ctx.user, request, ctx.as_of, state),
        on_done=done,
        on_error=lambda exc: show_error(parent, title, exc),
        progress_parent=parent,
        progress_title=translate("VisitListDialog", "Writing the visit lists…"),
    )
