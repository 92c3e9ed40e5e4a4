"""Before the main window: open the database (migrating it, building the demo on a new one) and
sign the user in. Every failure is a readable message box."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import QEventLoop, Qt
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app import credentials
from app.db import (
    DatabaseUrlError,
    default_url,
    has_schema,
    is_sqlite,
    make_engine,
    make_sessionmaker,
    migrate,
    needs_migration,
    redact,
    resolve_url,
)
from app.services.auth import UserInfo
from app.views.calendar import local_text
from app.views.errors import error_text
from app.views.i18n import tr
from app.views.labels import progress_text
from app.views.operations import BackgroundRunner

_C = "startup"


@dataclass
class OpenedDatabase:
    # None until someone signs in, on a database where each person connects as themselves.
    Session: sessionmaker[Session] | None
    url: str
    label: str
    read_only: bool = False
    snapshot_label: str = ""
    # Who an offline copy opens as (it keeps no passwords); None: sign in.
    user: UserInfo | None = None
    # A shared database that enforces the roles itself: each person signs in as their own
    # database role, and the server checks the password (app.services.db_roles).
    per_user: bool = False


def _error(text: str) -> None:
    QMessageBox.critical(None, tr(_C, "GridDesk cannot start"), text)


def open_database(flag: str | None, prefs) -> OpenedDatabase | None:
    """Return the database to work on, ready to use, or None after telling the user why not."""
    from app.services.db_roles import signs_in_per_user

    url = ""
    try:
        url = resolve_url(flag, prefs.database_url)
        if signs_in_per_user(url):  # nobody connects before signing in
            return OpenedDatabase(Session=None, url=url, label=redact(url), per_user=True)
        connected = connect_asking_password(url, settings_url=prefs.database_url)
        if connected is None:
            return None
        engine, url = connected
    except DatabaseUrlError as exc:
        _error(str(exc))
        return None
    except Exception as exc:  # cannot connect: say where and why
        _error(
            tr(_C, "Cannot open the database %1:").replace("%1", redact(url))
            + "\n"
            + error_text(exc)
        )
        return None
    from app.services.snapshot import snapshot_meta, snapshot_user

    meta = snapshot_meta(engine) if is_sqlite(engine) else None
    if meta is not None:
        # An offline snapshot: open it so that nothing can change it, and say so everywhere.
        engine.dispose()
        engine = make_engine(url, read_only=True)
        when = local_text(meta.taken_at)
        return OpenedDatabase(
            Session=make_sessionmaker(engine),
            url=url,
            label=redact(url),
            read_only=True,
            snapshot_label=f"{meta.source} @ {when}",
            user=snapshot_user(engine),
        )
    try:
        if needs_migration(engine):
            if not is_sqlite(engine):
                question = (
                    tr(_C, "The database %1 has no GridDesk tables yet. Create them?")
                    if not has_schema(engine)
                    else tr(_C, "The database %1 uses an older GridDesk schema. Upgrade it now?")
                )
                answer = QMessageBox.question(None, "GridDesk", question.replace("%1", redact(url)))
                if answer != QMessageBox.StandardButton.Yes:
                    return None
            migrate(engine)
    except Exception as exc:
        _error(tr(_C, "The database could not be prepared:") + "\n" + error_text(exc))
        return None
    Session = make_sessionmaker(engine)
    from app.models import Branch

    with Session() as s:
        branches = s.scalar(select(func.count()).select_from(Branch))
    if not branches:
        embedded = url == default_url()
        if not embedded:
            answer = QMessageBox.question(
                None,
                "GridDesk",
                tr(_C, "The database %1 holds no branch yet. Build the demo branch in it?").replace(
                    "%1", redact(url)
                ),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return None
        if not build_demo_with_progress(Session):
            return None
    return OpenedDatabase(Session=Session, url=url, label=redact(url))


def _refused_password(url: str, exc: OperationalError) -> bool:
    """True when the server turned ``url`` away for a missing or wrong password."""
    if credentials.account(url) is None:
        return False
    if getattr(exc.orig, "sqlstate", None) == "28P01":  # invalid_password
        return True
    return "password" in str(exc.orig or exc).lower()  # libpq's "no password supplied"


def ask_password(url: str) -> str | None:
    """Ask for the password of ``url``; return it, or None when the user cancelled."""
    text, ok = QInputDialog.getText(
        None,
        "GridDesk",
        tr(_C, "Password for %1:").replace("%1", redact(url)),
        QLineEdit.EchoMode.Password,
    )
    return text if ok else None


def connect_asking_password(url: str, *, settings_url: str = "") -> tuple[Engine, str] | None:
    """Return an engine that connects, and its URL, asking for the password while the server
    refuses it; None when the user cancelled. Other failures raise."""
    while True:
        engine = make_engine(url)
        try:
            with engine.connect():
                return engine, url
        except OperationalError as exc:
            engine.dispose()
            if not _refused_password(url, exc):
                raise
        password = ask_password(url)
        if password is None:
            return None
        url = credentials.with_password(url, password)
        if credentials.account(url) == credentials.account(settings_url):
            credentials.save_password(url, password)  # the saved database: keyring, or this run


def build_demo_with_progress(Session: sessionmaker[Session]) -> bool:  # noqa: N803
    """Build the small demo branch with a progress dialog; return True when it is there."""
    from app.services.demo import build_demo

    def job(state):
        with Session() as s, s.begin():
            return build_demo(s, size="small", state=state)

    outcome: dict[str, object] = {}
    loop = QEventLoop()
    dialog = QProgressDialog(tr(_C, "Building the demo branch…"), tr(_C, "Cancel"), 0, 1000)
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

    def progressed(fraction: float, text: str) -> None:
        dialog.setValue(int(fraction * 1000))
        if text:
            dialog.setLabelText(progress_text(text))

    job_handle = runner.start("demo", job, on_done=done, on_error=failed, on_progress=progressed)
    job_handle.finished.connect(loop.quit)
    dialog.canceled.connect(job_handle.cancel)
    dialog.show()
    loop.exec()
    dialog.close()
    if "error" in outcome:
        _error(tr(_C, "The demo branch could not be built:") + "\n" + error_text(outcome["error"]))  # type: ignore[arg-type]
        return False
    return "ok" in outcome


def demo_hint(Session: sessionmaker[Session]) -> str:  # noqa: N803
    """Return the sign-in hint for the demo users, or '' when this is not a demo database."""
    from app.models import Branch

    with Session() as s:
        is_demo = s.scalar(select(func.count()).select_from(Branch).where(Branch.code == "demo"))
    if not is_demo:
        return ""
    return tr(
        _C,
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
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.user is None:
        return None
    prefs.last_login = dialog.user.login
    return dialog.user


def sign_in_as_database_role(opened: OpenedDatabase, login: str, password: str) -> UserInfo:
    """Connect to ``opened`` as the database role of ``login`` and return the user; the
    opened database then works through that connection. Raises SignInFailed when the server
    turns the role away."""
    from app.services.auth import SignInFailed
    from app.services.db_roles import (
        DatabaseRoleError,
        per_user_url,
        refused_sign_in,
        signed_in_user,
    )

    try:
        engine = make_engine(per_user_url(opened.url, login, password))
    except DatabaseRoleError:
        raise SignInFailed("wrong user name or password") from None
    try:
        stale = needs_migration(engine)
    except OperationalError as exc:
        engine.dispose()
        if refused_sign_in(exc):
            raise SignInFailed("wrong user name or password") from None
        raise
    if stale:
        engine.dispose()
        raise RuntimeError(
            tr(
                _C,
                "The database %1 uses an older GridDesk schema: its owner must upgrade it "
                "(griddesk init) before anyone can sign in.",
            ).replace("%1", opened.label)
        )
    Session = make_sessionmaker(engine)  # noqa: N806
    with Session() as s, s.begin():
        user = signed_in_user(s)
    if opened.Session is not None:  # signed out and in again: the last user's connections go
        opened.Session.kw["bind"].dispose()
    opened.Session = Session
    return user
