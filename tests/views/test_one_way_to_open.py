"""The app and the command line open databases through one function (app.opening), so they
refuse the same things with the same words: a missing SQLite file is never created, a file
that is not GridDesk's is left alone, and an offline copy cannot be changed."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select, update

from app.cli import main
from app.models import Branch, User
from app.services.files.snapshot import take_snapshot
from app.services.people.auth import user_info
from app.services.people.branches import set_amount_limit
from app.settings import Preferences
from app.views import startup
from app.views.errors import error_text
from app.views.i18n import install_translators


@pytest.fixture
def shown(monkeypatch) -> list[str]:
    """The texts of the app's start-up error boxes."""
    texts: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _p, _t, text, *a, **k: texts.append(text))
    return texts


def _cli_refusal(capsys, argv: list[str]) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err.split(": ", 1)[1]  # after "griddesk COMMAND: "


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def snapshot(demo_db, tmp_path):
    """An offline copy the senior supervisor took of the demo branch."""
    with demo_db() as s:
        senior = user_info(s.scalars(select(User).where(User.login == "senior")).one())
    target = tmp_path / "offline.sqlite"
    take_snapshot(demo_db.kw["bind"], target, branch_id=senior.branch_id, user=senior)
    return target


def test_an_offline_copy_refuses_a_change_in_the_app_as_on_the_command_line(qapp, snapshot, capsys):
    url = f"sqlite:///{snapshot}"
    before = _digest(snapshot)
    cli = _cli_refusal(capsys, ["--db", url, "intake", "--agent", "A0001"])
    assert (
        cli
        == f"{url} is an offline copy, which is read-only: make the change in the branch's database"
    )

    opened = startup.open_database(url, Preferences())
    assert opened is not None and opened.read_only and opened.user is not None
    Session = opened.Session  # noqa: N806
    # A service's change and a bulk update are both refused, in the command line's words.
    with Session() as s, s.begin():
        branch_id = s.scalar(select(Branch.id))
    for change in (
        lambda s: set_amount_limit(s, actor=None, branch_id=branch_id, yuan=5),
        lambda s: s.execute(update(Branch).values(name="changed")),
    ):
        with pytest.raises(Exception) as refused, Session() as s, s.begin():
            change(s)
        assert error_text(refused.value) == cli
    with Session() as s:
        assert s.scalar(select(Branch.max_amount_yuan)) != 5
    opened.Session.kw["bind"].dispose()
    assert _digest(snapshot) == before


def test_a_missing_sqlite_file_is_refused_by_both_and_never_created(qapp, tmp_path, capsys, shown):
    typo = tmp_path / "typo" / "branch.db"
    url = f"sqlite:///{typo}"
    cli = _cli_refusal(capsys, ["--db", url, "metrics", "persistency", "--period", "2026-Q2"])
    assert cli == f"no database at {typo}: create one with 'griddesk init'"

    assert startup.open_database(url, Preferences()) is None
    assert shown == [cli]
    assert not typo.parent.exists()


def test_a_foreign_sqlite_file_is_refused_by_both_and_left_alone(qapp, tmp_path, capsys, shown):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    before = _digest(other)
    url = f"sqlite:///{other}"
    cli = _cli_refusal(capsys, ["--db", url, "metrics", "persistency", "--period", "2026-Q2"])
    assert cli == f"{other} is not a GridDesk database; GridDesk leaves it alone"

    assert startup.open_database(url, Preferences()) is None
    assert shown == [cli]
    assert _digest(other) == before


def test_the_apps_refusal_reads_in_chinese(qapp, tmp_path, shown):
    typo = tmp_path / "typo.db"
    translators = install_translators(qapp, "zh_CN")
    try:
        assert startup.open_database(f"sqlite:///{typo}", Preferences()) is None
    finally:
        for t in translators:
            qapp.removeTranslator(t)
    assert str(typo) in shown[0] and "没有数据库" in shown[0]
    assert not typo.exists()


# Where an engine may be made other than through app.opening.open_database, and why.
ENGINE_MAKERS = {
    "app/db.py": "make_engine itself",
    "app/opening.py": "the one opener",
    "app/services/files/snapshot.py": "writes a new offline copy into a file of its own",
    "app/cli/data.py": "init, on a database open_database has just created or upgraded",
    "app/migrations/env.py": "Alembic run by hand without the app's engine (alembic upgrade)",
}


def test_nothing_else_opens_a_database_on_its_own():
    """A window, a dialog or a command that made its own engine would skip the rules above."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    wrong = []
    for path in sorted((root / "app").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel in ENGINE_MAKERS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in ("make_engine", "create_engine"):
                    wrong.append(f"{rel}:{node.lineno}")
    assert wrong == []


def test_what_loads_while_the_user_signs_in_is_what_the_first_window_needs():
    """The modules warmed up behind the sign-in dialog exist (a wrong name would fail silently
    there, and the window would wait for its imports again) and include the first page's."""
    import importlib

    from app.views.pages import page_factories
    from app.views.startup import FIRST_WINDOW

    for name in FIRST_WINDOW:
        importlib.import_module(name)
    first_page = page_factories()[0][0]
    assert f"app.views.{first_page}_page" in FIRST_WINDOW
    assert "app.views.main_window" in FIRST_WINDOW
