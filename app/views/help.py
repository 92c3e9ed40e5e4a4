"""Help ▸ User guide (the guide in a window of the app, so it works offline), Help ▸ About
(version, database, the licences of the bundled parts) and File ▸ Open offline copy…."""

from __future__ import annotations

import platform
from pathlib import Path

from PySide6.QtCore import QLocale, Qt, QUrl, qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.licences import bundled_parts, user_guide
from app.views.context import AppContext
from app.views.i18n import arg, translate


def user_language() -> str:
    """Return 'zh_CN' when the app speaks Chinese, else 'en'."""
    return "zh_CN" if QLocale().language() == QLocale.Language.Chinese else "en"


class UserGuideWindow(QWidget):
    """The user guide in the user's language: Markdown with its screenshots, links to other
    sites opened in the system's browser."""

    def __init__(self, parent=None, *, language: str | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(self.tr("GridDesk user guide"))
        self.resize(980, 760)
        path = user_guide(language or user_language())
        self.path = path
        self.browser = QTextBrowser()
        self.browser.setObjectName("guide")
        self.browser.setOpenExternalLinks(True)
        # The screenshots are named relative to the guide's folder.
        self.browser.setSearchPaths([str(path.parent)])
        self.browser.document().setBaseUrl(QUrl.fromLocalFile(str(path.parent) + "/"))
        self.browser.setMarkdown(path.read_text(encoding="utf-8"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.browser)


def _part_use(use: str) -> str:
    return {
        "map": translate("Help", "the grid map"),
        "font": translate("Help", "Chinese text, where the computer has no Chinese font"),
        "widgets": translate("Help", "the windows and the embedded browser"),
    }[use]


class AboutDialog(QDialog):
    """The version, the database in use, and each bundled part with its licence's text."""

    def __init__(self, db_label: str, parent=None, *, font_family: str | None = None) -> None:
        super().__init__(parent)
        from app.views.database_names import database_label

        self.setWindowTitle(self.tr("About GridDesk"))
        self.resize(820, 600)
        self.parts = bundled_parts()
        summary = QLabel(
            arg("<b>GridDesk %1</b><br>", __version__)
            + self.tr(
                "The branch supervisor's workbench for the community grid programme of orphan "
                "policies."
            )
            + "<br><br>"
            + arg(self.tr("Database in use: %1"), database_label(db_label))
            + f"<br><code>{db_label}</code><br>"
            + arg(self.tr("Qt %1, Python %2"), qVersion(), platform.python_version())
            + ("<br>" + arg(self.tr("Chinese font: %1"), font_family) if font_family else "")
        )
        summary.setObjectName("summary")
        summary.setWordWrap(True)
        summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.list = QListWidget()
        self.list.setObjectName("parts")
        for part in self.parts:
            self.list.addItem(f"{part.name} {part.version} · {part.licence}")
        self.licence = QTextBrowser()
        self.licence.setObjectName("licence")
        self.list.currentRowChanged.connect(self._show_part)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(self.licence)
        split.setSizes([260, 560])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(QLabel(self.tr("Bundled parts and their licences:")))
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        self.list.setCurrentRow(0)

    def _show_part(self, row: int) -> None:
        if row < 0:
            return
        part = self.parts[row]
        header = arg(
            self.tr("%1 %2, used for %3. Licence: %4."),
            part.name,
            part.version,
            _part_use(part.use),
            part.licence,
        )
        self.licence.setPlainText(header + "\n\n" + part.text())


class NotAnOfflineCopy(Exception):
    """A file opened as an offline copy that is not one."""


def offline_copy_context(ctx, path: str, *, runner_parent) -> AppContext:
    """Return the context of a window on the offline copy at ``path``: opened read-only
    (app.opening), as whoever took it. Raises what opening it raised, or NotAnOfflineCopy."""
    from app.opening import foreign_sqlite, is_offline_copy, open_database
    from app.views.calendar import local_text
    from app.views.operations import BackgroundRunner

    file = Path(path).resolve()
    if file.is_file() and not is_offline_copy(file) and not foreign_sqlite(file):
        # A live database: never opened (or migrated) from here.
        raise NotAnOfflineCopy(
            arg(translate("Help", "%1 is not an offline copy: open it with File ▸ Settings."), path)
        )
    opened = open_database(f"sqlite:///{file}")  # refuses a missing or a foreign file
    assert opened.Session is not None
    if opened.user is None or opened.snapshot_taken_at is None:  # a copy older than takers
        opened.Session.kw["bind"].dispose()
        raise NotAnOfflineCopy(
            arg(translate("Help", "%1 is not an offline copy: open it with File ▸ Settings."), path)
        )
    return AppContext(
        Session=opened.Session,
        user=opened.user,
        runner=BackgroundRunner(runner_parent),
        db_label=opened.label,
        as_of=ctx.as_of,
        read_only=True,
        snapshot_label=f"{opened.snapshot_source} @ {local_text(opened.snapshot_taken_at)}",
        web_available=ctx.web_available,
    )
