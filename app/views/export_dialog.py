"""File → Export meeting workbook…: choose the period, the scope (as far as the role allows),
the language and the file; the workbook is written in the background."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)
from sqlalchemy.orm import Session, sessionmaker

from app.services.exports.files import ExportResult
from app.services.people import org
from app.services.people.auth import UserInfo
from app.services.progress import JobState
from app.views.context import AppContext, call
from app.views.export_parts import export_buttons, language_box, path_row, problem_label
from app.views.i18n import arg
from app.views.table_export import save_folder


@dataclass(frozen=True)
class MeetingRequest:
    """What the user asked for: period as typed, scope as ``branch``/``team:CODE``/
    ``specialist:EMPNO``, language code and target file."""

    period: str
    scope: str
    lang: str
    path: str


def run_meeting_export(
    Session: sessionmaker[Session],  # noqa: N803 - the sessionmaker, named as everywhere
    user: UserInfo,
    request: MeetingRequest,
    as_of: date,
    state: JobState,
) -> ExportResult:
    """Write the meeting workbook the request describes, as ``user`` sees it (background job)."""
    from app.services.exports import resolve_scope
    from app.services.exports.meeting import write_meeting_workbook
    from app.services.periods import Period

    period = Period.parse(request.period)
    with Session() as s:
        scope = resolve_scope(s, request.scope, branch_id=user.branch_id, user=user)
        return write_meeting_workbook(
            s,
            request.path,
            period=period,
            as_of=as_of,
            scope=scope,
            lang=request.lang,
            user=user,
            state=state,
        )


class ExportMeetingDialog(QDialog):
    """Asks for the period, scope, language and file of a meeting workbook."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from app.services.exports.meeting_data import latest_complete_month

        self.ctx = ctx
        self.setWindowTitle(self.tr("Export meeting workbook"))
        self.setMinimumWidth(520)
        user = ctx.user
        branch = call(ctx, org.branch, user.branch_id)

        self.period = QLineEdit(latest_complete_month(ctx.as_of, branch.grace_days).label)
        self.period.setObjectName("period")
        self.period.setToolTip(self.tr("A month (2026-08), a quarter (2026-Q3) or a year (2026)"))

        self.scope = QComboBox()
        self.scope.setObjectName("scope")
        teams = call(ctx, org.teams, branch_id=user.branch_id, team_ids=user.team_scope())
        if user.team_scope() is None:
            self.scope.addItem(arg(self.tr("Whole branch: %1"), branch.name), "branch")
        for team in teams:
            self.scope.addItem(arg(self.tr("Team: %1"), team.name), f"team:{team.code}")
        for sp in call(ctx, org.specialists, branch_id=user.branch_id, team_ids=user.team_scope()):
            self.scope.addItem(
                arg(self.tr("Specialist: %1"), sp.label), f"specialist:{sp.employee_no}"
            )

        self.language = language_box()
        self.path, file_row = path_row(str(save_folder() / self._file_name()), self._browse)
        self.problem = problem_label()
        buttons = export_buttons(self)

        form = QFormLayout(self)
        form.addRow(self.tr("Review period"), self.period)
        form.addRow(self.tr("Scope"), self.scope)
        form.addRow(self.tr("Language"), self.language)
        form.addRow(self.tr("File"), file_row)
        note = QLabel(
            self.tr("Customers' phone and ID numbers are shown in full only to supervisors.")
            if user.sees_contact_data
            else self.tr("Customers' phone and ID numbers are masked in the workbook.")
        )
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow(self.problem)
        form.addRow(buttons)
        self.scope.currentIndexChanged.connect(self._rename)
        self.period.textChanged.connect(self._rename)

    def _file_name(self) -> str:
        scope = (self.scope.currentData() or "branch").replace(":", "-")
        return f"griddesk-meeting-{self.period.text().strip() or 'period'}-{scope}.xlsx"

    def _rename(self) -> None:
        """Keep the suggested file name in step with the choices, in the chosen folder."""
        current = Path(self.path.text())
        if current.name.startswith("griddesk-meeting-"):
            self.path.setText(str(current.with_name(self._file_name())))

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save meeting workbook"), self.path.text(), "Excel (*.xlsx)"
        )
        if path:
            self.path.setText(path if path.lower().endswith(".xlsx") else path + ".xlsx")

    def request(self) -> MeetingRequest:
        return MeetingRequest(
            period=self.period.text().strip(),
            scope=self.scope.currentData(),
            lang=self.language.currentData(),
            path=self.path.text().strip(),
        )

    def accept(self) -> None:
        from app.services.periods import Period, PeriodError

        try:
            Period.parse(self.period.text())
        except PeriodError:
            self.problem.setText(
                self.tr("Write the period as a month (2026-08), a quarter (2026-Q3) or a year.")
            )
            return
        target = Path(self.path.text().strip())
        if not target.name or not target.parent.is_dir():
            self.problem.setText(self.tr("Choose a file in an existing folder."))
            return
        super().accept()
