"""Roster ▸ Weekly visit list…: the dialog offers what the role may list, and the lists are
written in the background; the PDF read back has one page per working day, in Chinese."""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import load_workbook
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QMessageBox

from app.views.roster_page import RosterPage
from app.views.visits_dialog import VisitListDialog, VisitsRequest, default_week


def _scopes(dialog: VisitListDialog) -> list[str]:
    return [dialog.scope.itemData(i) for i in range(dialog.scope.count())]


def test_the_choices_follow_the_role_and_the_selection(qtbot, make_ctx):
    senior = VisitListDialog(make_ctx("senior"))
    qtbot.addWidget(senior)
    teams = _scopes(senior)
    assert teams and all(s.startswith("team:") for s in teams)
    ctx = make_ctx("supervisor")
    page = RosterPage(ctx)
    qtbot.addWidget(page)
    from app.services.people import org

    with ctx.Session() as s:
        mine = org.specialists(s, branch_id=ctx.user.branch_id, team_ids=ctx.user.team_scope())
    dialog = VisitListDialog(ctx, employee_no=mine[0].employee_no)
    qtbot.addWidget(dialog)
    own = _scopes(dialog)
    assert own[0] == f"specialist:{mine[0].employee_no}"  # the selected one first
    assert len([s for s in own if s.startswith("team:")]) == 1
    assert set(own[1:]) < set(teams)
    assert dialog.request().week == default_week(ctx.as_of) == date(2026, 11, 16)
    assert "2026-W47" in dialog.week_note.text()


def test_a_bad_file_keeps_the_dialog_open(qtbot, make_ctx, tmp_path):
    dialog = VisitListDialog(make_ctx("supervisor"))
    qtbot.addWidget(dialog)
    dialog.path.setText(str(tmp_path / "week.docx"))
    dialog.accept()
    assert dialog.result() != VisitListDialog.DialogCode.Accepted and dialog.problem.text()
    dialog.path.setText(str(tmp_path / "missing" / "week.pdf"))
    dialog.accept()
    assert dialog.result() != VisitListDialog.DialogCode.Accepted
    dialog.format.setCurrentIndex(1)
    dialog.path.setText(str(tmp_path / "griddesk-visits-x.pdf"))
    dialog.format.setCurrentIndex(0)
    dialog.format.setCurrentIndex(1)  # the suggested name follows the format
    assert dialog.path.text().endswith(".xlsx")
    dialog.accept()
    assert dialog.result() == VisitListDialog.DialogCode.Accepted


def _written(qtbot, page, request) -> QMessageBox:
    page.open_visit_list(request)
    qtbot.waitUntil(lambda: page.findChild(QMessageBox, "visits_done") is not None, timeout=60000)
    box = page.findChild(QMessageBox, "visits_done")
    assert request.path in box.text()
    box.close()
    return box


@pytest.mark.slow
def test_the_pdf_is_written_in_the_background_one_page_a_day(qtbot, make_ctx, tmp_path):
    ctx = make_ctx("supervisor")
    page = RosterPage(ctx)
    qtbot.addWidget(page)
    dialog = VisitListDialog(ctx)
    qtbot.addWidget(dialog)
    team = _scopes(dialog)[0]
    from app.services.exports import resolve_scope
    from app.services.exports.visits import scope_specialists

    with ctx.Session() as s:
        people = scope_specialists(s, resolve_scope(s, team, branch_id=1, user=ctx.user))
    target = tmp_path / "week.pdf"
    _written(qtbot, page, VisitsRequest(date(2026, 11, 18), team, "zh_CN", str(target)))
    doc = QPdfDocument()
    assert doc.load(str(target)) == QPdfDocument.Error.None_
    assert doc.pageCount() == 5 * len(people)
    first = doc.getAllText(0).text()
    assert "拜访清单" in first and "2026-11-16" in first and "周一" in first
    size = doc.pagePointSize(0)
    assert (round(size.width()), round(size.height())) == (595, 842)  # A4
    doc.close()


def test_the_workbook_is_written_from_an_offline_copy_too(qtbot, make_ctx, tmp_path):
    ctx = make_ctx("analyst")
    ctx.read_only = True  # as an offline snapshot opens: nothing is written to the database
    page = RosterPage(ctx)
    qtbot.addWidget(page)
    assert page.visits_button.isEnabled()
    dialog = VisitListDialog(ctx)
    qtbot.addWidget(dialog)
    target = tmp_path / "week.xlsx"
    request = VisitsRequest(date(2026, 11, 16), _scopes(dialog)[0], "en", str(target))
    _written(qtbot, page, request)
    wb = load_workbook(target)
    assert wb.sheetnames[0] == "Summary" and len(wb.sheetnames) >= 2
