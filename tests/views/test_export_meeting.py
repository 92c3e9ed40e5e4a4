"""File → Export meeting workbook…: the dialog offers what the role may export, and the
workbook is written in the background to the chosen file."""

from __future__ import annotations

from openpyxl import load_workbook
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QPushButton

from app.services.words import Texts
from app.views.export_dialog import ExportMeetingDialog, MeetingRequest
from app.views.main_window import MainWindow


def _scopes(dialog: ExportMeetingDialog) -> list[str]:
    return [dialog.scope.itemData(i) for i in range(dialog.scope.count())]


def test_the_scope_choices_follow_the_role(qtbot, make_ctx):
    senior = ExportMeetingDialog(make_ctx("senior"))
    qtbot.addWidget(senior)
    scopes = _scopes(senior)
    assert scopes[0] == "branch"
    assert {s.split(":")[0] for s in scopes} == {"branch", "team", "specialist"}
    assert senior.period.text() == "2026-08"  # the latest month past its grace period

    supervisor = ExportMeetingDialog(make_ctx("supervisor"))
    qtbot.addWidget(supervisor)
    own = _scopes(supervisor)
    assert "branch" not in own
    assert len([s for s in own if s.startswith("team:")]) == 1
    assert set(own) < set(scopes)


def test_a_bad_period_or_folder_keeps_the_dialog_open(qtbot, make_ctx, tmp_path):
    dialog = ExportMeetingDialog(make_ctx("senior"))
    qtbot.addWidget(dialog)
    dialog.period.setText("2026-13")
    dialog.accept()
    assert dialog.result() != ExportMeetingDialog.DialogCode.Accepted
    assert dialog.problem.text()
    dialog.period.setText("2026-Q2")
    dialog.path.setText(str(tmp_path / "missing" / "m.xlsx"))
    dialog.problem.clear()
    dialog.accept()
    assert dialog.problem.text()
    dialog.path.setText(str(tmp_path / "m.xlsx"))
    dialog.accept()
    assert dialog.result() == ExportMeetingDialog.DialogCode.Accepted
    assert dialog.request() == MeetingRequest(
        "2026-Q2", "branch", dialog.request().lang, str(tmp_path / "m.xlsx")
    )


def test_export_writes_the_workbook_and_says_where(qtbot, make_ctx, tmp_path):
    window = MainWindow(make_ctx("supervisor"))
    qtbot.addWidget(window)
    target = tmp_path / "meeting.xlsx"
    dialog = ExportMeetingDialog(window.ctx)
    qtbot.addWidget(dialog)
    scope = _scopes(dialog)[0]
    window.export_meeting(MeetingRequest("2026-Q2", scope, "en", str(target)))
    qtbot.waitUntil(lambda: str(target) in window.statusBar().currentMessage(), timeout=30000)
    assert load_workbook(target).sheetnames[0] == Texts("en")["sheet_cover"]
    box = window.findChild(QMessageBox, "export_done")
    assert box is not None and str(target) in box.text()
    # "Open folder" asks the desktop to open the folder the workbook went to (Qt's own hook
    # for file URLs stands in for the file manager, which this machine has not).
    opened = _UrlCatcher()
    QDesktopServices.setUrlHandler("file", opened, "catch")
    try:
        box.findChild(QPushButton, "open_folder").click()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert opened.urls == [str(tmp_path)]
    box.close()


def test_an_export_asked_for_while_the_figures_update_waits_for_them(qtbot, make_ctx, tmp_path):
    """After a large change the persistency figures are brought current by a job after the
    commit; a meeting workbook asked for meanwhile is written once they are, not with the
    figures of before the change."""
    window = MainWindow(make_ctx("supervisor"))
    qtbot.addWidget(window)
    target = tmp_path / "meeting.xlsx"
    dialog = ExportMeetingDialog(window.ctx)
    qtbot.addWidget(dialog)
    request = MeetingRequest("2026-Q2", _scopes(dialog)[0], "en", str(target))
    window._set_updating(True)
    window.export_meeting(request)
    qtbot.wait(200)
    assert not target.exists()
    assert "as soon as they are current" in window.statusBar().currentMessage()
    window._set_updating(False)
    qtbot.waitUntil(lambda: str(target) in window.statusBar().currentMessage(), timeout=30000)
    assert load_workbook(target).sheetnames[0] == Texts("en")["sheet_cover"]
    window.findChild(QMessageBox, "export_done").close()


def test_an_export_waiting_for_figures_that_cannot_be_brought_current_is_not_written(
    qtbot, make_ctx, tmp_path, monkeypatch
):
    """The job bringing the figures current fails (the database went away, say): the workbook
    asked for meanwhile is not written with the old figures, and the user is told to export
    again."""
    from app.services.database import unit_of_work

    window = MainWindow(make_ctx("supervisor"))
    qtbot.addWidget(window)
    target = tmp_path / "meeting.xlsx"
    dialog = ExportMeetingDialog(window.ctx)
    qtbot.addWidget(dialog)
    window._set_updating(True)
    window.export_meeting(MeetingRequest("2026-Q2", _scopes(dialog)[0], "en", str(target)))

    def broken(_maker, **_kw):
        raise RuntimeError("the server closed the connection")

    monkeypatch.setattr(unit_of_work, "settle_everything", broken)
    window._bring_current()
    qtbot.wait(200)
    assert not target.exists()
    message = window.statusBar().currentMessage()
    assert "was not written" in message and "Export it again" in message
    assert not window.ctx.updating and window.ctx.waiting == []


class _UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def catch(self, url: QUrl) -> None:
        self.urls.append(url.toLocalFile())
