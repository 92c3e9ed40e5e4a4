"""Before the main window: open the database (through app.opening, as the command line does;
building the demo on a new one) and sign the user in. Every failure is a readable message box."""

from __future__ import annotations

from functools import partial
from typing import Literal

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import opening
from app.db import DatabaseUrlError, default_url, redact
from app.opening import (
    OpenCancelled,
    OpenedDatabase,
    OpenRefused,
    chosen_url,
    first_start,
    sign_in_as_database_role,
)
from app.services.messages import Message
from app.services.people.auth import UserInfo
from app.views.calendar import local_text
from app.views.errors import error_text, message_text
from app.views.first_run import FirstRunChoice
from app.views.i18n import arg, translate
from app.views.operations import BackgroundRunner, warm_imports

# What the first window needs beyond what signing in loaded: the window, its first page (the
# map) and the map's page builder with folium.
FIRST_WINDOW = ("app.views.main_window", "app.views.map_page", "app.services.mapping.html")


def _error(text: str) -> None:
    QMessageBox.critical(None, translate("startup", "GridDesk cannot start"), text)


def open_database(flag: str | None, prefs) -> OpenedDatabase | None:
    """Return the database to work on, ready to use, or None after telling the user why not.

    It opens through app.opening, as every command does; the dialogs here are its callbacks
    and the steps around it (building the demo in an empty database). A missing SQLite file
    is refused: the first start (``first_run``) creates the embedded one."""
    url = ""
    try:
        url = chosen_url(flag, prefs.database_url)
        opened = opening.open_database(
            url,
            settings_url=prefs.database_url,
            ask_password=ask_password,
            confirm_migration=_confirm_migration,
        )
    except OpenCancelled:
        return None
    except (DatabaseUrlError, OpenRefused) as exc:
        _error(error_text(exc))
        return None
    except Exception as exc:  # cannot connect or prepare it: say where and why
        _error(
            arg(translate("startup", "Cannot open the database %1:"), redact(url))
            + "\n"
            + error_text(exc)
        )
        return None
    if opened.per_user:
        return opened
    if opened.read_only:
        # An offline snapshot: nothing can change it, and the window says so everywhere.
        if opened.snapshot_taken_at is not None:
            when = local_text(opened.snapshot_taken_at)
            opened.snapshot_label = f"{opened.snapshot_source} @ {when}"
        return opened
    assert opened.Session is not None
    if not holds_a_branch(opened.Session):
        answer = QMessageBox.question(
            None,
            "GridDesk",
            arg(
                translate(
                    "startup", "The database %1 holds no branch yet. Build the demo branch in it?"
                ),
                opened.label,
            ),
        )
        if answer != QMessageBox.StandardButton.Yes or not build_demo_with_progress(opened.Session):
            return None
    return opened


def first_run(flag: str | None, prefs) -> FirstRunChoice | Literal[False] | None:
    """On a new machine (no database chosen, the embedded one holds no branch), ask how to
    begin and carry it out: return the choice, None when the user quit, False when this is
    not a first start."""
    from app.views.first_run import DEMO, FirstRunDialog

    try:
        if not first_start(chosen_url(flag, prefs.database_url)):
            return False
    except DatabaseUrlError:
        return False  # open_database says why
    dialog = FirstRunDialog(prefs)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.choice is None:
        return None
    if dialog.choice.kind == DEMO:
        try:
            opened = opening.open_database(default_url(), creates=True)
        except Exception as exc:
            _error(
                translate("startup", "The demo branch could not be built:") + "\n" + error_text(exc)
            )
            return None
        assert opened.Session is not None
        try:
            if not build_demo_with_progress(opened.Session):
                return None
        finally:
            opened.Session.kw["bind"].dispose()
    return dialog.choice


def _confirm_migration(what: str, label: str) -> bool:
    """Ask whether to create ("create") or upgrade a shared database's tables."""
    question = (
        translate("startup", "The database %1 has no GridDesk tables yet. Create them?")
        if what == "create"
        else translate("startup", "The database %1 uses an older GridDesk schema. Upgrade it now?")
    )
    answer = QMessageBox.question(None, "GridDesk", arg(question, label))
    return answer == QMessageBox.StandardButton.Yes


def holds_a_branch(Session: sessionmaker[Session]) -> bool:  # noqa: N803
    """Whether the database holds at least one branch."""
    from app.models import Branch

    with Session() as s:
        return bool(s.scalar(select(func.count()).select_from(Branch)))


def ask_password(url: str) -> str | None:
    """Ask for the password of ``url``; return it, or None when the user cancelled."""
    text, ok = QInputDialog.getText(
        None,
        "GridDesk",
        arg(translate("startup", "Password for %1:"), redact(url)),
        QLineEdit.EchoMode.Password,
    )
    return text if ok else None


def build_demo_with_progress(Session: sessionmaker[Session]) -> bool:  # noqa: N803
    """Build the small demo branch with a progress dialog; return True when it is there."""
    from app.services.demo import build_demo

    def job(state):
        with Session() as s, s.begin():
            return build_demo(s, size="small", state=state)

    outcome: dict[str, object] = {}
    loop = QEventLoop()
    dialog = QProgressDialog(
        translate("startup", "Building the demo branch…"), translate("startup", "Cancel"), 0, 1000
    )
    dialog.setWindowTitle("GridDesk")
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    runner = BackgroundRunner(QApplication.instance())

    def done(result):
        outcome["ok"] = result
        loop.quit()

    def failed(exc):
        outcome["error"] = exc
        loop.quit()

    def progressed(fraction: float, step: Message | None) -> None:
        dialog.setValue(int(fraction * 1000))
        if step is not None:
            dialog.setLabelText(message_text(step))

    job_handle = runner.start("demo", job, on_done=done, on_error=failed, on_progress=progressed)
    job_handle.finished.connect(loop.quit)
    dialog.canceled.connect(job_handle.cancel)
    dialog.show()
    loop.exec()
    dialog.close()
    error = outcome.get("error")
    if isinstance(error, BaseException):
        _error(
            translate("startup", "The demo branch could not be built:") + "\n" + error_text(error)
        )
        return False
    return "ok" in outcome


def demo_hint(Session: sessionmaker[Session]) -> str:  # noqa: N803
    """Return the sign-in hint for the demo users, or '' when this is not a demo database."""
    from app.models import Branch

    with Session() as s:
        is_demo = s.scalar(select(func.count()).select_from(Branch).where(Branch.code == "demo"))
    if not is_demo:
        return ""
    return translate(
        "startup",
        "Demo users: senior (senior supervisor), supervisor, analyst; password demo1234.",
    )


def sign_in(opened: OpenedDatabase, prefs) -> UserInfo | None:
    """Show the sign-in dialog; return the user, or None when they cancelled."""
    from app.views.signin import SignInDialog

    dialog = SignInDialog(
        opened.Session,
        db_label=opened.label,
        last_login=prefs.last_login,
        demo_hint="" if opened.Session is None else demo_hint(opened.Session),
        authenticate=partial(sign_in_as_database_role, opened) if opened.per_user else None,
    )
    # While the user types, the first window's modules load (the window, the map page and
    # folium, about half a second of imports): signed in, the window is built and the map drawn
    # without waiting for them. Started once the dialog is up, so it does not delay it.
    QTimer.singleShot(0, lambda: warm_imports(list(FIRST_WINDOW)))
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.user is None:
        return None
    prefs.last_login = dialog.user.login
    return dialog.user
