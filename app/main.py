"""Start the desktop app: settings, translations, fonts, the database, sign-in, main window."""

from __future__ import annotations

import sys
from functools import partial

from app.views.environment import prepare_environment, webengine_available


def run_app(db_flag: str | None = None, argv: list[str] | None = None) -> int:
    """Run the desktop app until the user quits; return the exit status."""
    from app.credentials import take_environment_password
    from app.logs import log_start, setup_logging
    from app.views.crash_reports import (
        install_qt_message_handler,
        install_uncaught_hooks,
        report_uncaught,
    )

    # Before any child process (QtWebEngine's) starts: the password a restart handed over
    # stays in this process, not in the environment every child inherits.
    take_environment_password()
    setup_logging()
    install_qt_message_handler()
    prepare_environment()
    has_web = webengine_available()

    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication, QMessageBox

    QCoreApplication.setOrganizationName("GridDesk")
    QCoreApplication.setApplicationName("GridDesk")
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication.instance() or QApplication(argv or sys.argv)
    install_uncaught_hooks(app)
    _install_icons(app)

    from app.settings import Preferences
    from app.views.fonts import install_cjk_font
    from app.views.i18n import effective_language, install_translators

    prefs = Preferences()
    # Kept on the app so they live as long as it; QApplication declares no such attribute.
    app._translators = install_translators(app, effective_language(prefs.language))  # type: ignore[attr-defined]
    install_cjk_font()

    from app.views.startup import first_run, open_database, sign_in

    # A new machine: the demo, the shared database or an empty branch, as the user chooses.
    began = first_run(db_flag, prefs)
    if began is None:
        return 0  # they quit
    opened = open_database(db_flag, prefs)
    if opened is None:
        return 1
    # Who created an empty branch just now is signed in already.
    welcomed = began.user if began else None
    log_start("app", opened.url)  # logged with its password hidden (app.db.redact)
    # File > Sign out closes the window and comes back here to sign in again (the same
    # database); cancelling the sign-in quits. An offline copy opens as whoever took it.
    while True:
        user = opened.user or welcomed or sign_in(opened, prefs)
        welcomed = None
        if user is None:
            return 0
        window = _main_window(app, opened, user, has_web)
        signed_out: list[bool] = []
        window.signed_out.connect(partial(signed_out.append, True))
        window.show()
        try:
            status = app.exec()
        except Exception as exc:  # pragma: no cover - last resort: a message, not a traceback
            QMessageBox.critical(
                None, "GridDesk", report_uncaught(type(exc), exc, exc.__traceback__)
            )
            return 1
        window.deleteLater()
        if not signed_out or opened.user is not None:
            return status


def _install_icons(app) -> None:
    """Make ``icons:`` name the bundled icons and give every window the app's icon."""
    from PySide6.QtCore import QDir
    from PySide6.QtGui import QIcon

    from app.paths import ICONS

    QDir.addSearchPath("icons", str(ICONS))
    app.setWindowIcon(QIcon("icons:griddesk.png"))


def _main_window(app, opened, user, has_web: bool):
    """Return the main window for ``user`` on the opened database (not shown yet)."""
    from sqlalchemy import select

    from app.models import Branch
    from app.views.calendar import today, use_zone
    from app.views.context import AppContext
    from app.views.main_window import MainWindow
    from app.views.operations import BackgroundRunner

    assert opened.Session is not None  # signed in: the database is open
    with opened.Session() as s:
        use_zone(s.scalar(select(Branch.timezone).where(Branch.id == user.branch_id)))
    ctx = AppContext(
        Session=opened.Session,
        user=user,
        runner=BackgroundRunner(app),
        db_label=opened.label,
        as_of=today(),
        read_only=opened.read_only,
        snapshot_label=opened.snapshot_label,
        web_available=has_web,
    )
    return MainWindow(ctx)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_app())
