"""Help ▸ User guide and Help ▸ About in the app, File ▸ Open offline copy…, and where
"Take offline" saves by default."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QTextDocument
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox, QTextBrowser
from sqlalchemy import select

from app import __version__
from app.models import Branch
from app.views.i18n import install_translators
from app.views.main_window import MainWindow
from app.views.table_export import save_folder


def _window(qtbot, make_ctx, login: str = "senior") -> MainWindow:
    window = MainWindow(make_ctx(login))
    qtbot.addWidget(window)
    return window


def _images(browser) -> list[str]:
    """The images the guide names, as written in its Markdown."""
    import re

    return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", browser.toMarkdown())


def test_the_user_guide_opens_in_the_app_in_the_users_language_with_its_pictures(
    qtbot, make_ctx, qapp
):
    install_translators(qapp, "en")  # the app speaks English (whatever ran before)
    window = _window(qtbot, make_ctx)
    window.findChild(QAction, "user_guide").trigger()
    english = window.open_user_guide()
    qtbot.addWidget(english)
    text = english.browser.toPlainText()
    assert english.path.name == "user-guide.md" and "import" in text.lower()
    for week in ("Import extract", "Intake", "Tasks", "Rebalance", "meeting", "offline"):
        assert week in text, week
    shots = _images(english.browser)
    assert len(shots) >= 6
    document = english.browser.document()
    for name in shots:  # every screenshot is there and loads (no network needed)
        image = document.resource(QTextDocument.ResourceType.ImageResource, QUrl(name))
        assert image is not None and not image.isNull(), name

    translators = install_translators(qapp, "zh_CN")
    try:
        chinese = window.open_user_guide()
        qtbot.addWidget(chinese)
    finally:
        for t in translators:
            qapp.removeTranslator(t)
        install_translators(qapp, "en")
    assert chinese.path.name == "user-guide.zh_CN.md"
    assert "用户指南" in chinese.windowTitle() and "离线副本" in chinese.browser.toPlainText()
    assert len(_images(chinese.browser)) == len(shots)


def test_about_gives_the_version_the_database_and_the_bundled_licences(qtbot, make_ctx):
    window = _window(qtbot, make_ctx)
    about = window.open_about()
    licence_text = about.findChild(QTextBrowser, "licence")
    shown = about.findChild(QLabel, "summary").text()
    assert __version__ in shown and "demo.db" in shown and "Qt 6" in shown
    names = [about.list.item(i).text() for i in range(about.list.count())]
    for part, licence in (
        ("Leaflet", "BSD-2-Clause"),
        ("Noto Sans CJK", "OFL"),
        ("Qt", "LGPL-3.0"),
    ):
        row = next(i for i, n in enumerate(names) if part in n and licence in n)
        about.list.setCurrentRow(row)
        assert licence.split("-")[0] in licence_text.toPlainText()
    about.list.setCurrentRow(names.index(next(n for n in names if n.startswith("Leaflet "))))
    assert "Volodymyr Agafonkin" in licence_text.toPlainText()  # the licence's own text
    about.list.setCurrentRow(names.index(next(n for n in names if "Qt" in n)))
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in licence_text.toPlainText()


@pytest.mark.slow  # over 10 s
def test_an_offline_copy_opens_from_the_file_menu_read_only(qtbot, make_ctx, tmp_path):
    window = _window(qtbot, make_ctx)
    target = tmp_path / "offline.sqlite"
    window.take_offline(str(target))
    qtbot.waitUntil(target.exists, timeout=20000)

    offline = window.open_offline_copy(str(target))
    assert offline is not None
    qtbot.addWidget(offline)
    assert offline.ctx.read_only and offline.ctx.user.login == "senior"
    assert "快照" in offline.db_label.text() or "snapshot" in offline.db_label.text().lower()
    assert not offline.findChild(QAction, "take_offline").isEnabled()
    tasks = offline.show_page("tasks")
    qtbot.waitUntil(lambda: tasks.model.rowCount() > 0, timeout=10000)
    assert not tasks.reassign_button.isVisibleTo(tasks)
    with offline.ctx.Session() as s:
        assert s.scalar(select(Branch.code)) == "demo"


def test_a_file_that_is_not_an_offline_copy_is_refused_with_a_reason(
    qtbot, make_ctx, tmp_path, monkeypatch
):
    window = _window(qtbot, make_ctx)
    errors: list[str] = []
    monkeypatch.setattr(window, "show_error", lambda _title, exc: errors.append(str(exc)))
    live = window.ctx.Session.kw["bind"].url.database
    assert window.open_offline_copy(live) is None
    assert "not an offline copy" in errors[-1]
    other = tmp_path / "notes.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    assert window.open_offline_copy(str(other)) is None
    assert "not a GridDesk database" in errors[-1]
    assert window.open_offline_copy(str(tmp_path / "gone.sqlite")) is None
    assert "no database at" in errors[-1] and not (tmp_path / "gone.sqlite").exists()


def test_take_offline_offers_the_documents_folder_as_the_exports_do(qtbot, make_ctx, monkeypatch):
    window = _window(qtbot, make_ctx)
    offered: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda _p, _t, start, *_a: offered.append(start) or ("", "")
    )
    window.take_offline()
    assert offered == [str(save_folder() / "griddesk-offline.sqlite")]
