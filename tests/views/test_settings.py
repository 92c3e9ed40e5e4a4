"""The settings dialog keeps the user's choices; the workload weights reach the rebalancer."""

from __future__ import annotations

from app.services.rebalance.workload import Weights
from app.settings import Preferences
from app.views.settings_dialog import SettingsDialog


def test_workload_weights_are_saved_and_used_by_the_rebalance_page(qtbot, make_ctx):
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    assert dialog.weights() == Weights()  # the documented defaults on a fresh machine
    dialog.weight_customer.setValue(2.0)
    dialog.weight_task.setValue(0.25)
    dialog.weight_premium.setValue(0.0)
    dialog.save()
    assert Preferences().workload_weights == Weights(2.0, 0.25, 0.0)

    again = SettingsDialog()
    qtbot.addWidget(again)
    assert again.weights() == Weights(2.0, 0.25, 0.0)
    again._default_weights()
    assert again.weights() == Weights()

    from app.views.rebalance_page import RebalancePage

    page = RebalancePage(make_ctx("senior"))
    qtbot.addWidget(page)
    assert page.request().weights == Weights(2.0, 0.25, 0.0)


def test_a_new_language_offers_a_restart_that_starts_griddesk_again(qtbot, make_ctx):
    """Language and database are read at start-up: after changing either the window offers
    to restart, with a command that starts GridDesk with the same flags."""
    import subprocess

    from PySide6.QtWidgets import QMessageBox

    from app.views.main_window import MainWindow, restart_command

    w = MainWindow(make_ctx("senior"))
    qtbot.addWidget(w)
    w.show()

    def boxes() -> list[QMessageBox]:
        return [b for b in w.findChildren(QMessageBox) if b.isVisible()]

    dialog = w.open_settings()
    dialog.weight_customer.setValue(3.0)  # read when a plan is made: no restart needed
    dialog.save()
    qtbot.wait(50)
    assert boxes() == []
    dialog = w.open_settings()
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    dialog.save()
    qtbot.waitUntil(lambda: bool(boxes()), timeout=5000)
    (box,) = boxes()
    assert box.button(QMessageBox.StandardButton.Yes).text() in ("Restart now", "立即重启")
    assert Preferences().language == "en"
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert w.isVisible()  # "later": nothing closes

    program, arguments = restart_command(["--help"])
    run = subprocess.run([program, *arguments], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "griddesk" in run.stdout.lower()


def test_a_restart_after_a_database_change_opens_the_new_database(tmp_path, monkeypatch):
    """Started with --db (or GRIDDESK_DB) on one database, after choosing another in
    Settings the restarted GridDesk opens the new one: the restart names it with --db, which
    wins over both; the other flags stay."""
    import subprocess

    from app.db import default_url, resolve_url
    from app.views.main_window import restart_command

    old, new = f"sqlite:///{tmp_path / 'old.db'}", f"sqlite:///{tmp_path / 'new.db'}"
    monkeypatch.setenv("GRIDDESK_DB", old)
    _program, arguments = restart_command(["--db", old, "--verbose"], database=new)
    flag = arguments[arguments.index("--db") + 1]
    assert arguments.count("--db") == 1 and "--verbose" in arguments
    assert resolve_url(flag, settings_url=new) == resolve_url(new)
    _program, arguments = restart_command([f"--db={old}"], database="")  # back to the local file
    assert arguments[-2:] == ["--db", default_url()]
    # The command really opens the database it names: `griddesk init` there creates it.
    program, arguments = restart_command([], database=new)
    run = subprocess.run([program, *arguments, "init"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "new.db").exists() and not (tmp_path / "old.db").exists()


def test_the_database_hint_and_every_label_show_whole(qtbot):
    from PySide6.QtWidgets import QLabel

    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    box = dialog.database
    assert box.width() > box.fontMetrics().horizontalAdvance(box.placeholderText())
    for label in dialog.findChildren(QLabel):
        if label.isVisible() and not label.wordWrap():
            assert label.width() >= label.fontMetrics().horizontalAdvance(label.text()), (
                label.text()
            )


def test_testing_a_local_file_that_is_not_there_says_so_and_creates_nothing(qtbot, tmp_path):
    """ "Test connection" opens the database the way the app would: a SQLite file that is not
    there is reported, not silently created empty."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    missing = tmp_path / "nowhere.db"
    dialog.database.setText(f"sqlite:///{missing}")
    said: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(20, answer)
            return
        said.append(box.text())
        box.close()

    QTimer.singleShot(0, answer)
    dialog.test_connection()
    assert not missing.exists()
    assert said and str(missing) in said[0] and "Connected" not in said[0]

    # A server nobody answers at is not "connected", whatever the URL's form (without a user
    # name each person signs in as their own role, so the app itself does not connect first).
    for url in ("postgresql+psycopg://127.0.0.1:1/nowhere", "postgresql+psycopg://u@127.0.0.1:1/x"):
        said.clear()
        dialog.database.setText(url)
        QTimer.singleShot(0, answer)
        dialog.test_connection()
        assert said and "Connected" not in said[0], (url, said)
