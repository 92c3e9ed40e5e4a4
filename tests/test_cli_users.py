"""'griddesk user add|list|reset|deactivate': a signed-in senior supervisor manages the branch's
accounts from the command line; everyone else is refused in one line and nothing changes. The
new password comes from GRIDDESK_NEW_PASSWORD (or a prompt in a terminal); the first account of
a database without users needs nobody to sign in."""

from __future__ import annotations

import shutil
import unicodedata

import pytest
from sqlalchemy import select

from app.cli import main
from app.models import Branch, Team, User


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The small demo (users senior, supervisor, analyst; password demo1234) in a SQLite file."""
    from app.db import make_engine, migrate
    from app.services.database.unit_of_work import sessionmaker as session_factory
    from app.services.demo import build_demo

    path = tmp_path_factory.mktemp("users") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with session_factory(engine)() as s, s.begin():
        build_demo(s, size="small", seed=7)
    engine.dispose()
    return path


@pytest.fixture
def demo(template, tmp_path):
    """A fresh copy of the demo for each test: its URL and a session factory."""
    from app.db import make_engine
    from app.services.database.unit_of_work import sessionmaker as session_factory

    path = tmp_path / "demo.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield f"sqlite:///{path}", session_factory(engine)
    engine.dispose()


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    for name in ("GRIDDESK_DB", "GRIDDESK_USER", "GRIDDESK_PASSWORD", "GRIDDESK_NEW_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def _as(monkeypatch, login: str, password: str = "demo1234") -> list[str]:
    monkeypatch.setenv("GRIDDESK_PASSWORD", password)
    return ["--user", login]


def _ok(capsys, argv: list[str]) -> str:
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return captured.out


def _refused(capsys, argv: list[str], message: str) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert message in err, err
    assert "\n" not in err and "Traceback" not in err


def _accounts(Session) -> list[tuple]:  # noqa: N803
    with Session() as s:
        return list(
            s.execute(
                select(User.login, User.role, User.active, User.password_hash).order_by(User.login)
            )
        )


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


@pytest.mark.slow
def test_a_senior_supervisor_adds_lists_resets_and_deactivates(demo, capsys, monkeypatch):
    url, Session = demo  # noqa: N806
    senior = ["--db", url, *_as(monkeypatch, "senior")]
    monkeypatch.setenv("GRIDDESK_NEW_PASSWORD", "lin-first-1")
    out = _ok(capsys, [*senior, "user", "add", "lin", "--name", "林小红", "--role", "supervisor",
                       "--team", "T02", "--team", "T01"])  # fmt: skip
    assert out.strip() == "user lin added (supervisor, teams T01, T02)"

    lines = _ok(capsys, [*senior, "user", "list"]).splitlines()
    assert lines[0].split() == ["login", "name", "role", "teams", "active", "last", "sign-in"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"analyst", "lin", "senior", "supervisor"}
    # Aligned: every row's role starts where the header's does (a Chinese name counts double).
    column = _width(lines[0][: lines[0].index("role")])
    for login, line in rows.items():
        role = line.split()[2]
        assert _width(line[: line.index(role, len(login))]) == column, line
    assert "T01,T02" in rows["lin"] and rows["lin"].endswith("never")
    assert not rows["senior"].endswith("never")  # they signed in to run these commands

    lin = ["--db", url, *_as(monkeypatch, "lin", "lin-first-1"), "history", "--limit", "1"]
    _ok(capsys, lin)
    monkeypatch.setenv("GRIDDESK_NEW_PASSWORD", "lin-second-2")
    senior = ["--db", url, *_as(monkeypatch, "senior")]
    assert _ok(capsys, [*senior, "user", "reset", "lin"]).strip() == "new password set for lin"
    _refused(capsys, lin, "wrong user name or password")
    lin = ["--db", url, *_as(monkeypatch, "lin", "lin-second-2"), "history", "--limit", "1"]
    _ok(capsys, lin)

    out = _ok(capsys, ["--db", url, *_as(monkeypatch, "senior"), "user", "deactivate", "lin"])
    assert out.startswith("lin is deactivated")
    _refused(capsys, ["--db", url, *_as(monkeypatch, "lin", "lin-second-2"), "history"],
             "wrong user name or password")  # fmt: skip
    lines = _ok(capsys, ["--db", url, *_as(monkeypatch, "senior"), "user", "list"]).splitlines()
    assert [line.split()[4] for line in lines if line.startswith("lin ")] == ["no"]


@pytest.mark.parametrize("login", ["supervisor", "analyst"])
@pytest.mark.parametrize(
    "argv",
    [
        ["user", "add", "x", "--name", "X", "--role", "analyst"],
        ["user", "reset", "analyst"],
        ["user", "deactivate", "analyst"],
        ["user", "list"],
    ],
)
def test_supervisors_and_analysts_are_refused(demo, capsys, monkeypatch, login, argv):
    url, Session = demo  # noqa: N806
    monkeypatch.setenv("GRIDDESK_NEW_PASSWORD", "whatever-1")
    before = _accounts(Session)
    _refused(
        capsys,
        ["--db", url, *_as(monkeypatch, login), *argv],
        f"{login} ({login}) may not manage user accounts",
    )
    assert _accounts(Session) == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["user", "add", "x", "--name", "X", "--role", "supervisor"], "needs at least one team"),
        (
            ["user", "add", "x", "--name", "X", "--role", "supervisor", "--team", "NOPE"],
            "the branch has no team NOPE",
        ),  # fmt: skip
        (["user", "add", "analyst", "--name", "X", "--role", "analyst"], "'analyst' is taken"),
        (["user", "deactivate", "senior"], "last active senior supervisor"),
        (["user", "reset", "nobody"], "there is no user 'nobody'"),
    ],
)
def test_what_cannot_be_done_is_refused_in_one_line(demo, capsys, monkeypatch, argv, message):
    url, Session = demo  # noqa: N806
    monkeypatch.setenv("GRIDDESK_NEW_PASSWORD", "long-enough-1")
    before = _accounts(Session)
    _refused(capsys, ["--db", url, *_as(monkeypatch, "senior"), *argv], message)
    assert _accounts(Session) == before


def test_a_new_password_is_long_enough_and_never_guessed(demo, capsys, monkeypatch):
    url, Session = demo  # noqa: N806
    senior = ["--db", url, *_as(monkeypatch, "senior")]
    before = _accounts(Session)
    # Not a terminal, and no GRIDDESK_NEW_PASSWORD: nothing to ask, nothing changes.
    monkeypatch.setattr("sys.stdin", None)
    _refused(capsys, [*senior, "user", "reset", "analyst"], "set GRIDDESK_NEW_PASSWORD")
    monkeypatch.setenv("GRIDDESK_NEW_PASSWORD", "short")
    _refused(capsys, [*senior, "user", "reset", "analyst"], "at least 8 characters")
    assert _accounts(Session) == before


def test_five_wrong_passwords_lock_the_account_on_the_command_line(demo, capsys, monkeypatch):
    url, _ = demo
    report = ["history", "--limit", "1"]
    for _ in range(4):
        _refused(capsys, ["--db", url, *_as(monkeypatch, "analyst", "nope"), *report],
                 "wrong user name or password")  # fmt: skip
    _refused(capsys, ["--db", url, *_as(monkeypatch, "analyst", "nope"), *report],
             "locked, try again in 15 minutes")  # fmt: skip
    # The right password waits too; other users do not.
    _refused(capsys, ["--db", url, *_as(monkeypatch, "analyst"), *report], "try again in")
    _ok(capsys, ["--db", url, *_as(monkeypatch, "supervisor"), *report])
    # A new password from a senior supervisor lifts the lock.
    monkeypatch.setenv("GRIDDESK_NEW_PASSWORD", "fresh-start-1")
    _ok(capsys, ["--db", url, *_as(monkeypatch, "senior"), "user", "reset", "analyst"])
    _ok(capsys, ["--db", url, *_as(monkeypatch, "analyst", "fresh-start-1"), *report])


def test_the_first_account_needs_no_sign_in_and_must_be_a_senior_supervisor(
    tmp_path, capsys, monkeypatch
):
    from app.db import make_engine, migrate
    from app.services.database.unit_of_work import sessionmaker as session_factory

    url = f"sqlite:///{tmp_path / 'new.db'}"
    engine = make_engine(url)
    migrate(engine)
    Session = session_factory(engine)  # noqa: N806
    with Session() as s, s.begin():
        branch = Branch(code="CD", name="成都分公司", city="成都")
        s.add(branch)
        s.flush()
        s.add(Team(branch_id=branch.id, code="T1", name="一队"))
    monkeypatch.setenv("GRIDDESK_NEW_PASSWORD", "first-boss-1")
    add = ["--db", url, "user", "add"]
    _refused(capsys, [*add, "ana", "--name", "A", "--role", "analyst"],
             "the first account must be a senior supervisor")  # fmt: skip
    out = _ok(capsys, [*add, "boss", "--name", "王经理", "--role", "senior_supervisor"])
    assert out.strip() == "user boss added (senior_supervisor)"
    # From now on the database has a user: nobody is trusted without signing in.
    _refused(capsys, [*add, "boss2", "--name", "B", "--role", "senior_supervisor"],
             "say who you are with --user")  # fmt: skip
    monkeypatch.setenv("GRIDDESK_NEW_PASSWORD", "first-sup-1")
    boss = ["--db", url, *_as(monkeypatch, "boss", "first-boss-1")]
    _ok(capsys, [*boss, "user", "add", "sup", "--name", "S", "--role", "supervisor",
                 "--team", "T1"])  # fmt: skip
    assert [r[:3] for r in _accounts(Session)] == [
        ("boss", "senior_supervisor", True),
        ("sup", "supervisor", True),
    ]
    engine.dispose()
