"""Taking the branch offline from the app, and opening the snapshot read-only."""

from __future__ import annotations

import pytest

from app.settings import Preferences
from app.views.main_window import MainWindow
from app.views.startup import open_database


@pytest.mark.slow  # over 10 s
def test_take_offline_then_open_the_snapshot_read_only(qtbot, make_ctx, tmp_path):
    window = MainWindow(make_ctx("senior"))
    qtbot.addWidget(window)
    target = tmp_path / "offline.sqlite"
    window.take_offline(str(target))
    qtbot.waitUntil(target.exists, timeout=20000)

    opened = open_database(f"sqlite:///{target}", Preferences())
    assert opened is not None and opened.read_only
    # The copy keeps no passwords: it opens as the user who took it, with their role.
    assert opened.user is not None and opened.user.login == "senior"
    ctx = make_ctx("senior")
    ctx.Session, ctx.read_only, ctx.snapshot_label = opened.Session, True, opened.snapshot_label
    offline = MainWindow(ctx)
    qtbot.addWidget(offline)
    assert "snapshot" in offline.db_label.text().lower() or "快照" in offline.db_label.text()
    tasks = offline.show_page("tasks")
    assert not tasks.reassign_button.isVisibleTo(tasks)
    qtbot.waitUntil(lambda: tasks.model.rowCount() > 0, timeout=10000)
    roster = offline.show_page("roster")
    qtbot.waitUntil(lambda: roster.model.rowCount() > 0, timeout=10000)


def test_the_menu_item_asks_about_the_size_first_and_no_answers_nothing(
    qtbot, make_ctx, monkeypatch
):
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMessageBox

    window = MainWindow(make_ctx("senior"))
    qtbot.addWidget(window)
    asked, errors = [], []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No,
    )
    monkeypatch.setattr(window, "show_error", lambda *a: errors.append(a))
    action = window.findChild(QAction, "take_offline")
    action.trigger()  # as the menu does: Qt passes checked=False along
    assert len(asked) == 1 and errors == []
    assert "MB" in asked[0]
