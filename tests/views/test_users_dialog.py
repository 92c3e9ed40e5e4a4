"""File ▸ Users, offscreen on the demo branch: a senior supervisor lists the branch's accounts,
adds one, gives one a new password and deactivates one; the branch's last senior supervisor is
kept. File ▸ Sign out closes the window; the sign-in window says when an account is locked."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from app.models.enums import Role
from app.services.people.auth import SignInFailed, authenticate
from app.views.main_window import MainWindow
from app.views.signin import SignInDialog
from app.views.users_dialog import UsersDialog


@pytest.fixture
def users(qtbot, make_ctx):
    ctx = make_ctx("senior")
    dialog = UsersDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _logins(dialog: UsersDialog) -> list[str]:
    return [dialog.model.row_at(i).login for i in range(dialog.model.rowCount())]


def _row(dialog: UsersDialog, login: str):
    return next(r for r in dialog.model.rows() if r.login == login)


def _signs_in(Session, login: str, password: str) -> bool:  # noqa: N803
    with Session() as s:  # as the sign-in window does (see authenticate)
        try:
            authenticate(s, login, password)
        except SignInFailed:
            return False
        s.commit()
        return True


def _messages(dialog, icon) -> list[str]:
    return [b.text() for b in dialog.findChildren(QMessageBox) if b.icon() == icon]


@pytest.mark.parametrize(("login", "shown"), [("senior", True), ("supervisor", False),
                                              ("analyst", False)])  # fmt: skip
def test_the_users_menu_is_for_senior_supervisors_only(qtbot, make_ctx, login, shown):
    window = MainWindow(make_ctx(login))
    qtbot.addWidget(window)
    assert window.findChild(QAction, "users").isVisible() is shown
    assert window.findChild(QAction, "sign_out").isEnabled()


def test_sign_out_closes_the_window_and_says_so(qtbot, make_ctx):
    window = MainWindow(make_ctx("analyst"))
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.signed_out, timeout=2000):
        window.findChild(QAction, "sign_out").trigger()
    assert not window.isVisible()


def test_the_dialog_lists_the_branch_and_adds_a_supervisor(users, qtbot, qtmodeltester, demo_db):
    assert _logins(users) == ["analyst", "senior", "supervisor"]
    qtmodeltester.check(users.model)
    form = users.add_user()
    form.login.setText("lin")
    form.display_name.setText("林小红")
    form.set_role(Role.SUPERVISOR)
    form.password.setText("lin-pass-1")
    form.again.setText("lin-pass-1")
    form.accept()  # no team ticked: the form says so and stays open
    assert form.error.isVisibleTo(form) and form.result() != form.DialogCode.Accepted
    form.check_team("T01")
    form.again.setText("lin-pass-2")
    form.accept()
    assert "differ" in form.error.text()
    form.again.setText("lin-pass-1")
    with qtbot.waitSignal(users.account_changed, timeout=5000) as changed:
        form.accept()
    assert changed.args[0].login == "lin" and changed.args[0].team_codes == ("T01",)
    assert _logins(users) == ["analyst", "lin", "senior", "supervisor"]
    assert users.selected().login == "lin"
    assert _signs_in(demo_db, "lin", "lin-pass-1")


def test_the_dialog_resets_a_password_and_deactivates_an_account(users, qtbot, demo_db):
    users.select_login("analyst")
    form = users.reset_selected()
    form.password.setText("fresh-one-1")
    form.again.setText("fresh-one-1")
    with qtbot.waitSignal(users.account_changed, timeout=5000):
        form.accept()
    assert _signs_in(demo_db, "analyst", "fresh-one-1")
    assert not _signs_in(demo_db, "analyst", "demo1234")

    users.select_login("analyst")
    question = users.deactivate_selected()
    with qtbot.waitSignal(users.account_changed, timeout=5000):
        question.button(QMessageBox.StandardButton.Yes).click()
    assert not _row(users, "analyst").active
    users.select_login("analyst")
    assert not users.deactivate_button.isEnabled()
    assert not _signs_in(demo_db, "analyst", "fresh-one-1")


def test_the_last_senior_supervisor_is_kept_with_a_readable_refusal(users, qtbot, demo_db):
    users.select_login("senior")
    question = users.deactivate_selected()
    question.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: bool(_messages(users, QMessageBox.Icon.Warning)), timeout=5000)
    (warning,) = _messages(users, QMessageBox.Icon.Warning)
    assert warning.startswith("senior is the branch's last active senior supervisor"), warning
    assert _row(users, "senior").active
    assert _signs_in(demo_db, "senior", "demo1234")


def test_the_sign_in_window_says_how_long_a_locked_account_waits(qtbot, demo_db):
    dialog = SignInDialog(demo_db, db_label="demo")
    qtbot.addWidget(dialog)
    dialog.login.setText("analyst")
    for _ in range(4):
        dialog.password.setText("wrong")
        dialog.try_sign_in()
        assert dialog.error.text() == "Wrong user name or password."
    dialog.password.setText("wrong")
    dialog.try_sign_in()
    assert "Try again in 15 minutes" in dialog.error.text()
    dialog.password.setText("demo1234")  # the right password waits too
    dialog.try_sign_in()
    assert dialog.user is None and "locked" in dialog.error.text()
