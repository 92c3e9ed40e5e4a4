"""The command line signs its user in and enforces their role: nobody is trusted by name alone,
and every action a role may not take is refused with one readable line, changing nothing."""

from __future__ import annotations

import csv
import hashlib
import re
import sqlite3

import pytest
from sqlalchemy import func, select

from app.cli import main
from app.models import AssignmentEvent, ChangeBatch, Customer, Notification, Team

AS_OF = "2026-11-20"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The small demo (users senior, supervisor, analyst; password demo1234) in a SQLite file."""
    from app.db import make_engine, migrate
    from app.services.database.unit_of_work import sessionmaker as session_factory
    from app.services.demo import build_demo

    path = tmp_path_factory.mktemp("roles") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    Session = session_factory(engine)  # noqa: N806
    with Session() as s, s.begin():
        build_demo(s, size="small", seed=7)
    yield f"sqlite:///{path}", Session
    engine.dispose()


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    for name in ("GRIDDESK_DB", "GRIDDESK_USER", "GRIDDESK_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def _as(monkeypatch, login: str | None, password: str = "demo1234") -> list[str]:
    monkeypatch.setenv("GRIDDESK_PASSWORD", password)
    return [] if login is None else ["--user", login]


def _counts(Session) -> tuple[int, ...]:  # noqa: N803
    with Session() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m))
            for m in (Customer, AssignmentEvent, ChangeBatch, Notification, Team)
        )


def _refused(capsys, argv: list[str], message: str) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert message in err, err
    assert "\n" not in err and "Traceback" not in err


def test_a_user_name_alone_is_never_trusted(demo, capsys, monkeypatch):
    url, _ = demo
    report = ["metrics", "persistency", "--period", "2026-Q2", "--as-of", AS_OF]
    _refused(capsys, ["--db", url, *report], "say who you are with --user")
    _refused(capsys, ["--db", url, "--user", "senior", *report], "no password for senior")
    who = _as(monkeypatch, "senior", "not-the-password")
    _refused(capsys, ["--db", url, *who, *report], "wrong user name or password")
    who = _as(monkeypatch, "senior")
    assert main(["--db", url, *who, *report]) == 0


@pytest.mark.parametrize(
    ("login", "argv", "message"),
    [
        ("analyst", ["import", "teams", "{tmp}/teams.csv"], "analyst (analyst) may not import"),
        ("supervisor", ["import", "teams", "{tmp}/teams.csv"], "may not import files"),
        ("analyst", ["intake", "--agent", "A0001"], "may not run an intake"),
        ("supervisor", ["intake", "--agent", "A0001"], "may not run an intake"),
        ("analyst", ["outbox", "export", "--out", "{tmp}/o.csv"], "may not hand the SMS"),
        ("supervisor", ["outbox", "import", "{tmp}/o.csv"], "may not hand the SMS"),
        ("analyst", ["rebalance", "undo"], "may not change assignments"),
        (
            "supervisor",
            [
                "rebalance",
                "propose",
                "--scope",
                "branch",
                "--as-of",
                AS_OF,
                "--out",
                "{tmp}/p.json",
            ],
            "sees only their own team",
        ),
    ],
)
def test_each_role_is_refused_what_it_may_not_do(
    demo, tmp_path, capsys, monkeypatch, login, argv, message
):
    url, Session = demo  # noqa: N806
    (tmp_path / "teams.csv").write_text("team_code,team_name\nTX,新队\n", encoding="utf-8")
    (tmp_path / "o.csv").write_text("id,status\n", encoding="utf-8")
    before = _counts(Session)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    _refused(capsys, ["--db", url, *_as(monkeypatch, login), *argv], message)
    assert _counts(Session) == before
    assert not (tmp_path / "p.json").exists()


def test_a_supervisor_cannot_apply_a_plan_made_for_another_team(
    demo, tmp_path, capsys, monkeypatch
):
    url, Session = demo  # noqa: N806
    with Session() as s:
        teams = s.execute(select(Team.code).order_by(Team.code)).scalars().all()
    plan = tmp_path / "plan.json"
    senior = _as(monkeypatch, "senior")
    mine = _supervisor_team(Session)
    other = next(code for code in teams if code != mine)
    propose = ["rebalance", "propose", "--scope", f"team:{other}", "--as-of", AS_OF]
    assert main(["--db", url, *senior, *propose, "--pick", "balance", "--out", str(plan)]) == 0
    before = _counts(Session)
    sup = _as(monkeypatch, "supervisor")
    _refused(capsys, ["--db", url, *sup, "rebalance", "apply", str(plan)], "outside your teams")
    assert _counts(Session) == before


def _supervisor_team(Session) -> str:  # noqa: N803
    from app.models import User

    with Session() as s:
        user = s.scalars(select(User).where(User.login == "supervisor")).one()
        return user.teams[0].code


def test_the_supervisors_report_holds_their_team_only(demo, capsys, monkeypatch):
    url, Session = demo  # noqa: N806
    report = ["metrics", "persistency", "--period", "2026", "--as-of", AS_OF, "--by", "team"]
    report += ["--format", "csv"]
    assert main(["--db", url, *_as(monkeypatch, "senior"), *report]) == 0
    branch = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert main(["--db", url, *_as(monkeypatch, "supervisor"), *report]) == 0
    team = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    with Session() as s:
        name = s.scalar(select(Team.name).where(Team.code == _supervisor_team(Session)))
    assert len(branch) > 1
    assert [r["group"] for r in team] == [name]


@pytest.mark.slow
def test_an_analysts_offline_copy_from_the_command_line_is_masked(
    demo, tmp_path, capsys, monkeypatch
):
    url, _ = demo
    out = tmp_path / "copy.sqlite"
    assert main(["--db", url, *_as(monkeypatch, "analyst"), "snapshot", "--to", str(out)]) == 0
    capsys.readouterr()
    with sqlite3.connect(out) as conn:
        phones = [r[0] for r in conn.execute("SELECT phone FROM customer WHERE phone IS NOT NULL")]
        users = conn.execute("SELECT login, password_hash FROM app_user").fetchall()
    assert phones and not any(re.fullmatch(r"1\d{10}", p) for p in phones)
    assert users == [("analyst", "!offline-copy")]
    # The copy is read-only: every change is refused; reports run as whoever took it.
    copy = f"sqlite:///{out}"
    _refused(
        capsys, ["--db", copy, "intake", "--agent", "A0001"], "offline copy, which is read-only"
    )
    _refused(capsys, ["--db", copy, "rebalance", "undo"], "read-only")
    report = ["metrics", "persistency", "--period", "2026-Q2", "--as-of", AS_OF]
    assert main(["--db", copy, *report]) == 0


def test_a_missing_or_foreign_database_is_never_created_or_changed(tmp_path, capsys):
    report = ["metrics", "persistency", "--period", "2026-Q2"]
    typo = tmp_path / "typo" / "branch.db"
    _refused(capsys, ["--db", f"sqlite:///{typo}", *report], f"no database at {typo}")
    assert not typo.parent.exists()
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    digest = hashlib.sha256(other.read_bytes()).hexdigest()
    _refused(capsys, ["--db", f"sqlite:///{other}", *report], "is not a GridDesk database")
    _refused(capsys, ["--db", f"sqlite:///{other}", "init"], "is not a GridDesk database")
    assert hashlib.sha256(other.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db", "settings"] or sorted(
        p.name for p in tmp_path.iterdir()
    ) == ["other.db"]


def test_a_demo_is_not_built_into_a_database_with_users_by_nobody(demo, capsys, monkeypatch):
    url, Session = demo  # noqa: N806
    before = _counts(Session)
    _refused(capsys, ["--db", url, "demo"], "say who you are with --user")
    _refused(capsys, ["--db", url, *_as(monkeypatch, "analyst"), "demo"], "may not build a demo")
    assert _counts(Session) == before


def test_only_a_senior_supervisor_changes_the_branchs_amount_limit(demo, monkeypatch, capsys):
    url, Session = demo  # noqa: N806
    _refused(
        capsys,
        ["--db", url, *_as(monkeypatch, "supervisor"), "branch", "--max-amount", "5"],
        "may not change the branch's settings",
    )
    assert (
        main(["--db", url, *_as(monkeypatch, "senior"), "branch", "--max-amount", "2000000"]) == 0
    )
    assert "2,000,000 yuan" in capsys.readouterr().out
    assert main(["--db", url, *_as(monkeypatch, "analyst"), "branch"]) == 0
    assert "2,000,000 yuan" in capsys.readouterr().out
    assert (
        main(["--db", url, *_as(monkeypatch, "senior"), "branch", "--max-amount", "100000000"]) == 0
    )


def test_the_senior_supervisor_sets_the_hand_off_targets_from_the_command_line(
    demo, monkeypatch, capsys
):
    url, Session = demo  # noqa: N806
    senior = ["--db", url, *_as(monkeypatch, "senior"), "branch"]
    _refused(
        capsys,
        ["--db", url, *_as(monkeypatch, "supervisor"), "branch", "--handoff-targets", "2,10,40"],
        "may not change the branch's settings",
    )
    _refused(capsys, [*senior, "--handoff-targets", "2,10"], "three whole numbers of days")
    _refused(capsys, [*senior, "--handoff-targets", "2,40,10"], "must come in order")
    assert main([*senior, "--handoff-targets", "2,10,40"]) == 0
    assert "first contact within 10, first service within 40" in capsys.readouterr().out
    assert main([*senior, "--handoff-targets", "1,7,30"]) == 0
    assert "SMS sent within 1 days of pool entry, first contact within 7" in (
        capsys.readouterr().out
    )


def test_an_imported_history_records_who_imported_it(demo, monkeypatch, capsys, tmp_path):
    from app.models import ChangeBatch, Specialist

    url, Session = demo  # noqa: N806
    with Session() as s:
        customer = s.scalar(select(Customer.customer_no).order_by(Customer.id))
        employee = s.scalar(select(Specialist.employee_no).order_by(Specialist.id.desc()))
    path = tmp_path / "history.csv"
    path.write_text(
        f"customer_no,employee_no,effective_on,reason\n{customer},{employee},2026-11-01,manual\n",
        encoding="utf-8",
    )
    argv = ["--db", url, *_as(monkeypatch, "senior"), "import", "assignments", str(path)]
    assert main(argv) == 0, capsys.readouterr().err
    with Session() as s:
        last = s.scalars(select(ChangeBatch).order_by(ChangeBatch.id.desc())).first()
        actors = set(
            s.scalars(select(AssignmentEvent.actor).where(AssignmentEvent.batch_id == last.id))
        )
    assert (last.actor, actors) == ("senior", {"senior"})


def test_a_supervisor_of_two_teams_proposes_for_one_team_at_a_time(tmp_path, capsys, monkeypatch):
    """One plan over two teams would move grids between them, which a supervisor may not
    apply: ``propose`` says to choose a team, and plans the team chosen."""
    from app.db import make_engine, migrate
    from app.models import User
    from app.services.database.unit_of_work import sessionmaker as session_factory
    from app.services.demo import build_demo

    path = tmp_path / "two.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    Session = session_factory(engine)  # noqa: N806
    with Session() as s, s.begin():
        build_demo(s, size="small", seed=7)
        sup = s.scalars(select(User).where(User.login == "supervisor")).one()
        sup.teams = list(s.scalars(select(Team).order_by(Team.code).limit(2)))
        codes = [t.code for t in sup.teams]
    url = f"sqlite:///{path}"
    out = tmp_path / "p.json"
    sup = _as(monkeypatch, "supervisor")
    propose = ["--db", url, *sup, "rebalance", "propose", "--as-of", AS_OF, "--out", str(out)]
    _refused(capsys, propose, "leads several teams: propose for one of them with --scope team:")
    assert not out.exists()
    assert main([*propose, "--scope", f"team:{codes[0]}", "--pick", "balance"]) == 0
    capsys.readouterr()
    assert main(["--db", url, *sup, "rebalance", "apply", str(out)]) == 0
    engine.dispose()


def test_an_offline_copy_of_a_team_not_yours_or_not_there_is_refused_by_name(
    demo, tmp_path, capsys, monkeypatch
):
    """snapshot --team reads the team codes as every command does (resolve_scope): an unknown
    code is named, and a supervisor cannot ask for another supervisor's team."""
    url, Session = demo  # noqa: N806
    out = tmp_path / "copy.sqlite"
    with Session() as s:
        codes = list(s.scalars(select(Team.code).order_by(Team.code)))
    senior = ["--db", url, *_as(monkeypatch, "senior"), "snapshot", "--to", str(out)]
    _refused(capsys, [*senior, "--team", "NOPE"], "no team with code 'NOPE' in this branch")
    assert not out.exists()
    from app.services.people.auth import authenticate

    with Session() as s:
        mine = authenticate(s, "supervisor", "demo1234").team_scope()
        others = [c for c in codes if s.scalar(select(Team.id).where(Team.code == c)) not in mine]
    assert others
    supervisor = ["--db", url, *_as(monkeypatch, "supervisor"), "snapshot", "--to", str(out)]
    _refused(
        capsys, [*supervisor, "--team", others[0]], f"team '{others[0]}' is not one of your teams"
    )
    assert not out.exists()
