"""The first start on a new machine offers a choice: the demo branch (said to be a demo), the
branch's shared database (connected to before it is saved), or an empty branch with its first
senior supervisor, ready for its first imports."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication
from sqlalchemy import func, select

from app.db import default_db_path
from app.models import Branch, Team, User
from app.settings import Preferences
from app.views import startup
from app.views.first_run import DEMO, EMPTY, SHARED, FirstRunDialog
from app.views.main_window import MainWindow


def _dialog(qtbot) -> FirstRunDialog:
    dialog = FirstRunDialog(Preferences())
    qtbot.addWidget(dialog)
    return dialog


def _answer_first_run(act) -> None:
    """Once the modal first-run dialog is up, ``act`` on it as the user would."""

    def answer() -> None:
        (dialog,) = [w for w in QApplication.topLevelWidgets()
                     if isinstance(w, FirstRunDialog) and w.isVisible()]  # fmt: skip
        act(dialog)

    QTimer.singleShot(0, answer)


def test_a_new_machine_is_asked_and_a_chosen_machine_is_not(qapp, tmp_path):
    prefs = Preferences()
    assert not default_db_path().exists()
    _answer_first_run(lambda d: d.reject())
    assert startup.first_run(None, prefs) is None  # quit: nothing was created
    assert not default_db_path().exists()
    # A database named on the command line (or in the settings) is opened, not asked about.
    assert startup.first_run(f"sqlite:///{tmp_path / 'branch.db'}", prefs) is False


def test_the_demo_choice_says_it_is_a_demo_and_builds_it(qapp):
    prefs = Preferences()

    def choose_demo(dialog: FirstRunDialog) -> None:
        assert "demo" in dialog.findChild(type(dialog.error), "demo_note").text().lower()
        dialog.demo.click()
        dialog.go.click()

    _answer_first_run(choose_demo)
    choice = startup.first_run(None, prefs)
    assert choice is not None and choice is not False and choice.kind == DEMO
    assert prefs.database_url == ""  # the embedded database
    opened = startup.open_database(None, prefs)
    assert opened is not None and not opened.read_only
    # The sign-in window says which demo users there are.
    assert "demo1234" in startup.demo_hint(opened.Session)
    opened.Session.kw["bind"].dispose()
    assert startup.first_run(None, prefs) is False  # the next start opens it straight away


def test_a_bad_shared_database_url_reads_clearly_and_nothing_is_saved(qtbot):
    dialog = _dialog(qtbot)
    dialog.shared.click()
    for url, words in (
        ("not a url", "not a database URL"),
        ("postgresql://griddesk@127.0.0.1:1/branch", "could not connect"),
    ):
        dialog.url.setText(url)
        dialog.go.click()
        assert dialog.result() != FirstRunDialog.DialogCode.Accepted
        text = dialog.error.text()
        assert dialog.error.isVisibleTo(dialog) and words in text, text
        assert "Traceback" not in text and "sqlalchemy" not in text.lower()
        assert Preferences().database_url == ""
    assert not default_db_path().exists()


def test_a_reachable_shared_database_is_saved(qtbot, demo_db):
    url = demo_db.kw["bind"].url.render_as_string(hide_password=False)
    dialog = _dialog(qtbot)
    dialog.shared.click()
    dialog.url.setText(url)
    dialog.go.click()
    assert dialog.result() == FirstRunDialog.DialogCode.Accepted
    assert dialog.choice is not None and dialog.choice.kind == SHARED
    assert Preferences().database_url == url
    assert not default_db_path().exists()  # no embedded database made on the way


def test_an_empty_branch_gets_its_first_senior_and_opens_for_imports(qtbot, make_ctx, tmp_path):
    dialog = _dialog(qtbot)
    dialog.empty.click()
    dialog.branch_code.setText("SZ01")
    dialog.branch_name.setText("深圳分公司")
    dialog.login.setText("wang")
    dialog.display_name.setText("王主管")
    dialog.password.setText("short")
    dialog.again.setText("short")
    dialog.go.click()
    assert dialog.result() != FirstRunDialog.DialogCode.Accepted
    assert "at least" in dialog.error.text()  # a readable refusal, no account made
    dialog.password.setText("a long password")
    dialog.again.setText("another password")
    dialog.go.click()
    assert "differ" in dialog.error.text()
    dialog.again.setText("a long password")
    dialog.go.click()
    assert dialog.result() == FirstRunDialog.DialogCode.Accepted
    choice = dialog.choice
    assert choice is not None and choice.kind == EMPTY and choice.user is not None
    assert choice.user.login == "wang" and choice.user.may_import

    prefs = Preferences()
    assert startup.first_run(None, prefs) is False
    opened = startup.open_database(None, prefs)  # no question: the branch is there
    assert opened is not None and startup.demo_hint(opened.Session) == ""
    with opened.Session() as s:
        assert s.scalars(select(Branch.code)).all() == ["SZ01"]
        assert s.scalar(select(func.count()).select_from(User)) == 1
    ctx = make_ctx("senior")
    ctx.Session, ctx.user = opened.Session, choice.user
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    for key in window.pages:  # every page opens on the empty branch
        window.show_page(key)
    assert window.findChild(QAction, "import_extract").isEnabled()
    teams = tmp_path / "teams.csv"
    teams.write_text("团队代码,团队名称,主管\nT01,福田一组,王主管\n", encoding="utf-8")
    window.import_extract("teams", str(teams))  # as File ▸ Import extract… does
    with opened.Session() as s:
        assert s.scalars(select(Team.name)).all() == ["福田一组"]
    qtbot.waitUntil(lambda: "teams.csv" in window.statusBar().currentMessage(), timeout=5000)
    opened.Session.kw["bind"].dispose()
