"""File ▸ Sign out in the running app: the window closes, the sign-in window comes back on the
same database, and cancelling it quits. Refusals of account changes read in Chinese."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from app.models import User
from app.services.people.accounts import AccountNotAllowed
from app.services.people.auth import user_info
from app.views.errors import error_text
from app.views.i18n import install_translators
from app.views.main_window import MainWindow


def test_sign_out_returns_to_the_sign_in_window_and_cancel_quits(qapp, demo_db, monkeypatch):
    import app.main as app_main
    from app.views import fonts, i18n, operations, startup

    opened = startup.OpenedDatabase(Session=demo_db, url="sqlite:///demo.db", label="demo.db")
    with demo_db() as s:
        users = [user_info(s.scalars(select(User).where(User.login == login)).one())
                 for login in ("senior", "analyst")]  # fmt: skip
    answers = [users[0], users[1], None]  # senior, then analyst after signing out, then cancel
    shown: list[tuple] = []

    def sign_in(o, _prefs):
        user = answers.pop(0)
        if user is not None:
            QTimer.singleShot(200, sign_out_of_window)
        return user

    def sign_out_of_window():
        (window,) = [w for w in QApplication.topLevelWidgets()
                     if isinstance(w, MainWindow) and w.isVisible()]  # fmt: skip
        shown.append((window.ctx.user.login, window.ctx.Session))
        window.sign_out()

    inline = operations.BackgroundRunner
    monkeypatch.setattr(startup, "first_run", lambda _flag, _prefs: False)
    monkeypatch.setattr(startup, "open_database", lambda _flag, _prefs: opened)
    monkeypatch.setattr(startup, "sign_in", sign_in)
    monkeypatch.setattr(app_main, "webengine_available", lambda: False)
    monkeypatch.setattr(i18n, "install_translators", lambda _app, _lang: [])
    monkeypatch.setattr(fonts, "install_cjk_font", lambda: None)
    monkeypatch.setattr(
        operations,
        "BackgroundRunner",
        lambda parent: inline(parent, pool=operations.InlinePool()),
    )
    names = QCoreApplication.organizationName(), QCoreApplication.applicationName()
    try:
        assert app_main.run_app() == 0
    finally:
        QCoreApplication.setOrganizationName(names[0])
        QCoreApplication.setApplicationName(names[1])
    assert shown == [("senior", demo_db), ("analyst", demo_db)]
    assert answers == []


def test_a_refused_account_change_reads_in_chinese(qapp):
    refusal = AccountNotAllowed("account.last_senior", login="senior")
    translators = install_translators(qapp, "zh_CN")
    try:
        text = error_text(refusal)
    finally:
        for t in translators:
            qapp.removeTranslator(t)
    assert text.startswith("senior 是本机构最后一位在用的资深主管")
    assert error_text(refusal).startswith("senior is the branch's last active senior")
