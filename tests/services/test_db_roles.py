"""Roles enforced where the data is: on a real PostgreSQL server secured by
``app.services.database.roles``, each GridDesk user connects as their own database role (as they
would from psql) and tries what their role forbids; the app's services, run on those
connections, give what they give the owner for the same scope."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from app.db import make_engine, migrate
from app.models import Branch, Customer, Specialist, Team, User
from app.models.enums import Role
from app.services.database.roles import (
    group_role,
    login_role,
    per_user_url,
    secure,
    signed_in_user,
)
from app.services.database.unit_of_work import sessionmaker as session_factory
from app.services.people.accounts import add_account, deactivate_account, reset_password
from app.services.people.auth import SignInFailed, mask_id_number, mask_phone, user_info

# Database roles and their grants exist on PostgreSQL only.
pytestmark = pytest.mark.pg_only

AS_OF = date(2025, 6, 30)
PASSWORD = "P@ss:w0rd%/#?"  # every character a URL or a config file could trip on


@pytest.fixture(scope="module")
def server(request):
    return request.config.getoption("--pg")


@pytest.fixture(scope="module")
def branch_db(server):
    """A demo branch on a database of its own, secured, with one account per role (and a
    senior supervisor of a second branch), each with a database login."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"griddesk_roles_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    owner_url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(owner_url)
    tag = uuid.uuid4().hex[:6]
    logins = {r: f"{r.value[:3]}{tag}" for r in Role} | {"other": f"oth{tag}"}
    try:
        migrate(engine)
        Session = session_factory(engine)  # noqa: N806
        from app.services.demo import build_demo

        with Session() as s, s.begin():
            build_demo(s, size="small", seed=11, as_of=AS_OF)
        secure(engine)
        with Session() as s, s.begin():
            senior = user_info(s.scalars(select(User).where(User.login == "senior")).one())
            first_team = s.scalars(select(Team.code).order_by(Team.code)).first()
            for role in Role:
                add_account(
                    s,
                    actor=senior,
                    login=logins[role],
                    display_name=role.value,
                    role=role,
                    password=PASSWORD,
                    team_codes=[first_team] if role is Role.SUPERVISOR else (),
                )
            other = Branch(code=f"B{tag}", name="另一分公司", city="成都")
            s.add(other)
            s.flush()
            s.add(
                User(
                    branch_id=other.id,
                    login=logins["other"],
                    display_name="other",
                    role=Role.SENIOR_SUPERVISOR,
                    password_hash="x",
                )
            )
            s.flush()
            from app.services.database.roles import sync_login

            sync_login(s, logins["other"], PASSWORD)
        yield {
            "owner_url": owner_url,
            "engine": engine,
            "Session": Session,
            "logins": logins,
            "name": name,
        }
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            for login in [*logins.values(), "senior", "supervisor", "analyst"]:
                conn.execute(text(f'DROP ROLE IF EXISTS "{login_role(login, name)}"'))
            for role in Role:
                conn.execute(text(f'DROP ROLE IF EXISTS "{group_role(role, name)}"'))
        admin.dispose()


def connect(db, who, password=PASSWORD):
    """An engine signed in as the database role of ``who`` (a Role or "other")."""
    base = make_url(db["owner_url"]).set(username=None, password=None)
    url = per_user_url(base.render_as_string(hide_password=False), db["logins"][who], password)
    return make_engine(url)


def owner_scalar(db, sql, **params):
    with db["engine"].connect() as conn:
        return conn.scalar(text(sql), params)


def team_of_supervisor(db):
    with db["Session"]() as s:
        return s.scalar(
            select(Team.id).where(
                Team.id.in_(
                    select(User.teams.property.secondary.c.team_id)
                    .join(User, User.id == User.teams.property.secondary.c.user_id)
                    .where(User.login == db["logins"][Role.SUPERVISOR])
                )
            )
        )


# --- connecting -------------------------------------------------------------------------------


def test_each_role_signs_in_with_its_password_and_not_with_another(branch_db):
    for who in [*Role, "other"]:
        engine = connect(branch_db, who)
        with session_factory(engine)() as s:
            assert signed_in_user(s).login == branch_db["logins"][who]
            s.commit()  # recording the sign-in is allowed to everyone
        engine.dispose()
    wrong = connect(branch_db, Role.ANALYST, password="not-the-password")
    with pytest.raises(OperationalError, match="password authentication failed"):
        wrong.connect()
    wrong.dispose()


def test_a_deactivated_account_cannot_reach_the_database(branch_db):
    db = branch_db
    with db["Session"]() as s, s.begin():
        senior = user_info(s.scalars(select(User).where(User.login == "senior")).one())
        add_account(
            s,
            actor=senior,
            login=f"gone{db['logins']['other']}",
            display_name="gone",
            role=Role.ANALYST,
            password=PASSWORD,
        )
    db["logins"]["gone"] = f"gone{db['logins']['other']}"
    engine = connect(db, "gone")
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT 1")) == 1
    engine.dispose()
    with db["Session"]() as s, s.begin():
        deactivate_account(s, actor=senior, login=db["logins"]["gone"])
    engine = connect(db, "gone")
    with pytest.raises(OperationalError, match="not permitted to log in"):
        engine.connect()
    engine.dispose()


def test_a_new_password_replaces_the_old_one_on_the_database_too(branch_db):
    db = branch_db
    with db["Session"]() as s, s.begin():
        senior = user_info(s.scalars(select(User).where(User.login == "senior")).one())
        reset_password(s, actor=senior, login=db["logins"][Role.ANALYST], password="n3w-Passw0rd")
    try:
        old = connect(db, Role.ANALYST)
        with pytest.raises(OperationalError):
            old.connect()
        old.dispose()
        new = connect(db, Role.ANALYST, password="n3w-Passw0rd")
        with new.connect() as conn:
            assert conn.scalar(text("SELECT 1")) == 1
        new.dispose()
    finally:
        with db["Session"]() as s, s.begin():
            reset_password(s, actor=senior, login=db["logins"][Role.ANALYST], password=PASSWORD)


# --- what each role may not do, from psql ---------------------------------------------------------

DENIED = "permission denied|row-level security|must be owner|may not manage"

# (role, statement, what must happen): "denied" raises; "nothing" changes or returns no row.
FORBIDDEN = [
    *[(r, "SELECT password_hash FROM public.app_user", "denied") for r in Role],
    *[(r, "DELETE FROM assignment_event", "denied") for r in Role],
    *[
        (r, "UPDATE assignment_event SET actor = 'x'", "denied")
        for r in (Role.SUPERVISOR, Role.ANALYST)
    ],
    (Role.ANALYST, "SELECT phone FROM public.customer", "denied"),
    (Role.ANALYST, "SELECT id_number FROM public.customer", "denied"),
    (Role.ANALYST, "SELECT phone FROM public.specialist", "denied"),
    (Role.ANALYST, "UPDATE customer SET locked = true", "denied"),
    (Role.ANALYST, "UPDATE public.customer SET locked = true", "denied"),
    (
        Role.ANALYST,
        "INSERT INTO change_batch (branch_id, kind, actor, created_at, plan) "
        "VALUES (1, 'x', 'x', now(), '{{}}')",
        "denied",
    ),
    (Role.ANALYST, "UPDATE app_user SET role = 'senior_supervisor'", "denied"),
    (Role.SUPERVISOR, "UPDATE app_user SET role = 'senior_supervisor'", "denied"),
    (
        Role.SUPERVISOR,
        "INSERT INTO app_user (branch_id, login, display_name, role, "
        "password_hash, active, created_at, failed_logins) VALUES (1, 'x', 'x', 'analyst', 'x', "
        "true, now(), 0)",
        "denied",
    ),
    (Role.SUPERVISOR, "DELETE FROM customer", "denied"),
    (
        Role.SUPERVISOR,
        "INSERT INTO customer (branch_id, customer_no, name, address, step, "
        "locked, version) VALUES (1, 'x', 'x', 'x', 0, false, 1)",
        "denied",
    ),
    (Role.SUPERVISOR, "UPDATE team SET name = 'x'", "denied"),
    (Role.SUPERVISOR, "UPDATE branch SET grace_days = 1", "denied"),
    (Role.SUPERVISOR, "SELECT griddesk_sync_login('senior', NULL)", "denied"),
    (Role.ANALYST, "SELECT griddesk_sync_login('senior', NULL)", "denied"),
    (Role.SUPERVISOR, "CREATE TABLE public.mine (x int)", "denied"),
    (Role.SUPERVISOR, "ALTER TABLE customer DISABLE ROW LEVEL SECURITY", "denied"),
    (Role.SUPERVISOR, 'SET ROLE "{senior_group}"', "denied"),
    # Rows of other teams are not there for a supervisor: changing them changes nothing.
    (Role.SUPERVISOR, "UPDATE customer SET locked = NOT locked WHERE {other_team}", "nothing"),
    (
        Role.SUPERVISOR,
        "UPDATE grid SET locked = NOT locked WHERE owner_id IN "
        "(SELECT id FROM specialist WHERE team_id <> {team})",
        "nothing",
    ),
    (Role.SUPERVISOR, "UPDATE task SET outcome = 'x'", "denied"),  # not a column the app writes
    (
        Role.SUPERVISOR,
        "UPDATE task SET specialist_id = specialist_id WHERE specialist_id IN "
        "(SELECT id FROM specialist WHERE team_id <> {team})",
        "nothing",
    ),
    (Role.SUPERVISOR, "SELECT id FROM customer WHERE {other_team}", "nothing"),
    (
        Role.SUPERVISOR,
        "SELECT id FROM policy WHERE customer_id IN (SELECT id FROM customer WHERE {other_team})",
        "nothing",
    ),
    (
        Role.SUPERVISOR,
        "SELECT id FROM notification WHERE specialist_id IN "
        "(SELECT id FROM specialist WHERE team_id <> {team})",
        "nothing",
    ),
    # ... nor can they give their own to another team.
    (
        Role.SUPERVISOR,
        "UPDATE customer SET specialist_id = (SELECT min(id) FROM specialist "
        "WHERE team_id <> {team}) WHERE id = (SELECT min(id) FROM customer)",
        "denied",
    ),
    (
        Role.SUPERVISOR,
        "UPDATE grid SET owner_id = (SELECT min(id) FROM specialist "
        "WHERE team_id <> {team}) WHERE id = (SELECT min(id) FROM grid WHERE owner_id = ANY "
        "(griddesk_specialist_ids()))",
        "denied",
    ),
    (
        Role.SUPERVISOR,
        "UPDATE specialist SET team_id = (SELECT min(id) FROM team WHERE id <> "
        "{team}) WHERE team_id = {team}",
        "denied",
    ),
    # Only a senior supervisor marks addresses outside coverage or puts them back.
    *[
        (
            r,
            "INSERT INTO coverage_mark (branch_id, customer_id, reason, note, marked_by, "
            "marked_at) SELECT branch_id, id, 'other', 'x', 'x', now() FROM customer LIMIT 1",
            "denied",
        )
        for r in (Role.SUPERVISOR, Role.ANALYST)
    ],
    (Role.SUPERVISOR, "UPDATE coverage_mark SET cleared_at = now()", "denied"),
    (Role.ANALYST, "DELETE FROM coverage_mark", "denied"),
    ("other", "SELECT id FROM coverage_mark", "nothing"),
    # Another branch is not there for a senior supervisor.
    ("other", "SELECT id FROM customer", "nothing"),
    ("other", "SELECT id FROM specialist", "nothing"),
    ("other", "UPDATE customer SET locked = true", "nothing"),
    ("other", "SELECT id FROM app_user WHERE login = 'senior'", "nothing"),
]


@pytest.mark.parametrize(("who", "sql", "outcome"), FORBIDDEN)
def test_a_role_cannot_read_or_change_more_than_the_app_shows_it(branch_db, who, sql, outcome):
    team = team_of_supervisor(branch_db)
    other_team = f"specialist_id IN (SELECT id FROM specialist WHERE team_id <> {team})"
    senior_group = group_role(Role.SENIOR_SUPERVISOR, branch_db["name"])
    statement = sql.format(team=team, other_team=other_team, senior_group=senior_group)
    before = owner_scalar(
        branch_db, "SELECT md5(string_agg(c::text, ',' ORDER BY c.id)) FROM customer c"
    )
    engine = connect(branch_db, who)
    try:
        with engine.connect() as conn:
            if outcome == "denied":
                with pytest.raises(DBAPIError, match=DENIED):
                    conn.execute(text(statement))
            else:
                result = conn.execute(text(statement))
                assert (result.rowcount if not result.returns_rows else len(result.all())) == 0
            conn.rollback()
    finally:
        engine.dispose()
    after = owner_scalar(
        branch_db, "SELECT md5(string_agg(c::text, ',' ORDER BY c.id)) FROM customer c"
    )
    assert after == before


def test_a_supervisor_sees_exactly_their_teams_customers(branch_db):
    team = team_of_supervisor(branch_db)
    theirs = owner_scalar(
        branch_db,
        "SELECT count(*) FROM customer c JOIN specialist s ON s.id = c.specialist_id "
        "WHERE s.team_id = :t",
        t=team,
    )
    total = owner_scalar(branch_db, "SELECT count(*) FROM customer")
    engine = connect(branch_db, Role.SUPERVISOR)
    with engine.connect() as conn:
        seen = conn.scalar(text("SELECT count(*) FROM customer"))
    engine.dispose()
    assert 0 < theirs < total
    assert seen == theirs


def test_an_analyst_reads_contact_numbers_masked_as_the_app_masks_them(branch_db):
    with branch_db["Session"]() as s:
        real = s.execute(
            select(Customer.id, Customer.phone, Customer.id_number)
            .where(Customer.phone.is_not(None))
            .order_by(Customer.id)
            .limit(50)
        ).all()
    engine = connect(branch_db, Role.ANALYST)
    with session_factory(engine)() as s:
        # The app's own query, unchanged: the analyst's search path finds the masked view.
        seen = {
            r.id: (r.phone, r.id_number)
            for r in s.execute(
                select(Customer.id, Customer.phone, Customer.id_number).where(
                    Customer.id.in_([r.id for r in real])
                )
            )
        }
        branch_total = s.scalar(select(func.count()).select_from(Customer))
    engine.dispose()
    assert real
    for r in real:
        assert seen[r.id] == (mask_phone(r.phone), mask_id_number(r.id_number) or r.id_number)
        assert seen[r.id][0] != r.phone
    assert branch_total == owner_scalar(branch_db, "SELECT count(*) FROM customer")


# --- the app's services on those connections -------------------------------------------------


def test_the_apps_figures_for_each_role_are_the_owners_for_its_scope(branch_db):
    from app.services.metrics.persistency import persistency_report
    from app.services.periods import Period

    team = team_of_supervisor(branch_db)
    period = Period.parse("2024")
    reports = {}
    for who in ("owner", Role.SUPERVISOR, "branch", Role.ANALYST):
        owner = who in ("owner", "branch")
        engine = branch_db["engine"] if owner else connect(branch_db, who)
        with session_factory(engine)() as s:
            if owner:
                branch_id = s.scalar(select(Team.branch_id).where(Team.id == team))
                teams = {team} if who == "owner" else None
            else:
                user = signed_in_user(s)
                branch_id, teams = user.branch_id, user.team_scope()
            reports[who] = [
                persistency_report(
                    s, period=period, as_of=AS_OF, by=by, branch_id=branch_id, team_ids=teams
                )
                for by in ("specialist", "grid", None)
            ]
        if not owner:
            engine.dispose()
    assert all(reports["owner"])
    assert reports[Role.SUPERVISOR] == reports["owner"]
    assert reports["branch"] != reports["owner"]
    assert reports[Role.ANALYST] == reports["branch"]


def test_a_supervisor_applies_and_undoes_their_teams_plan_through_the_app(branch_db):
    from app.services.rebalance.apply import apply_plan
    from app.services.rebalance.make import make_plan
    from app.services.rebalance.undo import undo_batch

    engine = connect(branch_db, Role.SUPERVISOR)
    Session = session_factory(engine)  # noqa: N806
    with Session() as s:
        user = signed_in_user(s)
        plan = make_plan(
            s, branch_id=user.branch_id, as_of=AS_OF, team_ids=user.team_scope(), max_moves=3
        )
    assert plan.moves, "the demo team should have something to rebalance"
    with Session() as s, s.begin():
        applied = apply_plan(
            s,
            plan,
            actor=user.login,
            user_may_cross_teams=False,
            team_scope=user.team_scope(),
            branch_scope=user.branch_id,
        )
    assert applied.customers_moved > 0
    with branch_db["Session"]() as s:  # the owner sees the change
        moved_to = {m.grid_code: m.to_no for m in plan.moves if m.kind == "grid"}
        owners = dict(
            s.execute(
                text(
                    "SELECT g.code, s.employee_no FROM grid g JOIN specialist s "
                    "ON s.id = g.owner_id WHERE g.code = ANY(:c)"
                ),
                {"c": list(moved_to)},
            ).all()
        )
    assert owners == moved_to
    with Session() as s, s.begin():
        undone = undo_batch(s, actor=user.login, team_scope=user.team_scope())
    assert undone.customers_restored == applied.customers_moved
    engine.dispose()


def test_a_senior_supervisor_cannot_move_customers_of_another_branch(branch_db):
    """Even with the services' own checks bypassed, the database refuses."""
    engine = connect(branch_db, "other")
    with session_factory(engine)() as s:
        moved = s.execute(update(Specialist).values(capacity=1)).rowcount
        s.rollback()
    engine.dispose()
    assert moved == 0


def test_a_role_griddesk_did_not_make_is_left_alone(branch_db, server):
    db = branch_db
    taken = f"taken{db['logins']['other']}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{login_role(taken, db["name"])}" LOGIN'))
    try:
        with db["Session"]() as s:
            senior = user_info(s.scalars(select(User).where(User.login == "senior")).one())
            with pytest.raises(DBAPIError, match="not a GridDesk login"):
                add_account(
                    s,
                    actor=senior,
                    login=taken,
                    display_name="x",
                    role=Role.ANALYST,
                    password=PASSWORD,
                )
            s.rollback()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{login_role(taken, db["name"])}"'))
        admin.dispose()


def test_a_role_whose_account_is_gone_signs_in_as_nobody(branch_db):
    db = branch_db
    engine = connect(db, Role.ANALYST)
    with session_factory(engine)() as s:
        s.execute(text("SET LOCAL search_path = public"))
        assert signed_in_user(s).role is Role.ANALYST
        s.rollback()
    with db["Session"]() as s, s.begin():
        s.execute(update(User).where(User.login == db["logins"][Role.ANALYST]).values(active=False))
    try:
        with session_factory(engine)() as s, pytest.raises(SignInFailed):
            signed_in_user(s)
    finally:
        with db["Session"]() as s, s.begin():
            s.execute(
                update(User).where(User.login == db["logins"][Role.ANALYST]).values(active=True)
            )
        engine.dispose()


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    for name in ("GRIDDESK_DB", "GRIDDESK_USER", "GRIDDESK_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def shared_url(db) -> str:
    """The database's URL as desktops keep it: no user, so each person signs in as theirs."""
    owner = make_url(db["owner_url"])
    url = URL.create(owner.drivername, host=owner.host, port=owner.port, database=owner.database)
    assert url.username is None
    return url.render_as_string(hide_password=False)


def test_the_command_line_signs_in_as_the_users_database_role(branch_db, cli_env, capsys):
    from app.cli import main

    db = branch_db
    cli_env.setenv("GRIDDESK_PASSWORD", PASSWORD)
    argv = ["--db", shared_url(db), "--user", db["logins"][Role.SUPERVISOR]]
    assert main([*argv, "metrics", "persistency", "--period", "2024", "--by", "team"]) == 0
    out = capsys.readouterr().out
    with db["Session"]() as s:
        team = s.get(Team, team_of_supervisor(db))
        others = s.scalars(select(Team.name).where(Team.id != team.id)).all()
    assert team.name in out
    assert others and not any(name in out for name in others)
    cli_env.setenv("GRIDDESK_PASSWORD", "wrong-password")
    assert main([*argv, "metrics", "persistency", "--period", "2024"]) == 1
    err = capsys.readouterr().err
    assert "wrong user name or password" in err
    assert "wrong-password" not in err and "Traceback" not in err
    # The demo supervisor's password matches their hash, but their database role has none:
    # it is the server that checks.
    cli_env.setenv("GRIDDESK_PASSWORD", "demo1234")
    assert main(["--db", shared_url(db), "--user", "supervisor", "metrics", "persistency",
                 "--period", "2024"]) == 1  # fmt: skip
    assert "wrong user name or password" in capsys.readouterr().err


def test_a_supervisor_cannot_secure_the_database_and_the_owner_can_again(
    branch_db, cli_env, capsys
):
    from app.cli import main

    db = branch_db
    cli_env.setenv("GRIDDESK_PASSWORD", PASSWORD)
    assert main(["--db", shared_url(db), "--user", db["logins"][Role.SUPERVISOR], "secure"]) == 1
    assert "may not enforce database roles" in capsys.readouterr().err
    # The owner's URL, signed in as a senior supervisor: securing again changes nothing.
    cli_env.setenv("GRIDDESK_PASSWORD", "demo1234")
    assert main(["--db", db["owner_url"], "--user", "senior", "secure"]) == 0
    out = capsys.readouterr().out
    assert "enforces GridDesk's roles" in out and login_role("analyst", db["name"]) in out
    engine = connect(db, Role.SUPERVISOR)
    with engine.connect() as conn, pytest.raises(DBAPIError, match=DENIED):
        conn.execute(text("SELECT password_hash FROM app_user"))
    engine.dispose()


# --- the desktop --------------------------------------------------------------------------------


def test_the_desktop_signs_in_as_the_users_database_role(branch_db, qtbot, tmp_path, monkeypatch):
    """Settings name the shared database without a user: the app connects to nothing before
    the sign-in, and then as whoever signed in, with what their role shows."""
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.delenv("GRIDDESK_DB", raising=False)
    from app.settings import Preferences
    from app.views.signin import SignInDialog
    from app.views.startup import open_database, sign_in_as_database_role

    db = branch_db
    opened = open_database(shared_url(db), Preferences())
    assert opened is not None and opened.per_user and opened.Session is None
    dialog = SignInDialog(
        None,
        db_label=opened.label,
        authenticate=lambda login, pw: sign_in_as_database_role(opened, login, pw),
    )
    qtbot.addWidget(dialog)
    dialog.login.setText(db["logins"][Role.ANALYST])
    dialog.password.setText("wrong-password")
    dialog.try_sign_in()
    assert dialog.user is None and opened.Session is None
    assert dialog.error.text() and "wrong-password" not in dialog.error.text()
    dialog.password.setText(PASSWORD)
    dialog.try_sign_in()
    assert dialog.user is not None and dialog.user.role is Role.ANALYST
    assert opened.Session is not None
    with opened.Session() as s:
        assert s.scalar(text("SELECT session_user")) == login_role(
            db["logins"][Role.ANALYST], db["name"]
        )
        phones = s.scalars(select(Customer.phone).where(Customer.phone.is_not(None)).limit(5))
        assert all("****" in p for p in phones)


def test_a_supervisor_reads_and_keeps_only_their_teams_scenarios_from_sql(branch_db):
    from app.services.rebalance.make import make_plan
    from app.services.rebalance.scenarios import keep_scenario, list_scenarios

    team = team_of_supervisor(branch_db)
    with branch_db["Session"]() as s, s.begin():
        other = s.scalar(select(Team.id).where(Team.id != team).order_by(Team.id))
        branch_id = s.scalar(select(Team.branch_id).where(Team.id == team))
        for name, team_id in (("他队方案", other), ("全分公司方案", None)):
            s.execute(
                text(
                    "INSERT INTO rebalance_scenario (branch_id, team_id, name, author, "
                    "created_at, plan) VALUES (:b, :t, :n, 'senior', now(), '{}')"
                ),
                {"b": branch_id, "t": team_id, "n": name},
            )
    engine = connect(branch_db, Role.SUPERVISOR)
    Session = session_factory(engine)  # noqa: N806
    try:
        with Session() as s:
            user = signed_in_user(s)
            plan = make_plan(
                s, branch_id=user.branch_id, as_of=AS_OF, team_ids=user.team_scope(), max_moves=2
            )
        with Session() as s, s.begin():
            keep_scenario(
                s,
                plan,
                name="本队方案",
                author=user.login,
                team_scope=user.team_scope(),
                branch_scope=user.branch_id,
            )
        with engine.connect() as conn:
            seen = set(conn.scalars(text("SELECT name FROM rebalance_scenario")))
            changed = conn.execute(
                text("UPDATE rebalance_scenario SET name = 'x' WHERE team_id IS DISTINCT FROM :t"),
                {"t": team},
            ).rowcount
            conn.rollback()
            with pytest.raises(DBAPIError, match=DENIED):
                conn.execute(
                    text(
                        "INSERT INTO rebalance_scenario (branch_id, team_id, name, author, "
                        "created_at, plan) VALUES (:b, :t, 'mine now', 'x', now(), '{}')"
                    ),
                    {"b": branch_id, "t": other},
                )
        with Session() as s:
            listed = [i.name for i in list_scenarios(s, branch_id=branch_id, team_scope=None)]
    finally:
        engine.dispose()
    assert seen == {"本队方案"} and changed == 0
    # Even asking the service for the whole branch, the database gives only the team's.
    assert listed == ["本队方案"]
    with branch_db["Session"]() as s:
        assert s.scalar(select(func.count()).select_from(text("rebalance_scenario"))) == 3


def test_a_senior_supervisor_marks_addresses_outside_coverage_through_the_app(branch_db):
    """The senior supervisor's role marks and puts back through the services; an analyst
    reads the list; a supervisor and another branch see no mark."""
    from app.services.intake.coverage import (
        mark_outside_coverage,
        outside_coverage,
        restore_to_queue,
    )
    from app.services.intake.unmatched import unmatched_queue

    engine = connect(branch_db, Role.SENIOR_SUPERVISOR)
    Session = session_factory(engine)  # noqa: N806
    with Session() as s, s.begin():
        user = signed_in_user(s)
        ids = [r.customer_id for r in unmatched_queue(s, user.branch_id, limit=3)]
        assert len(ids) == 3, "the demo should have unmatched addresses"
        mark_outside_coverage(
            s, customer_ids=ids, reason="no_grid_district", actor=user.login, user=user
        )
    analyst = connect(branch_db, Role.ANALYST)
    with session_factory(analyst)() as s:
        assert {r.customer_id for r in outside_coverage(s, user.branch_id)} == set(ids)
    analyst.dispose()
    for who in (Role.SUPERVISOR, "other"):
        other = connect(branch_db, who)
        with other.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM coverage_mark")) == 0
        other.dispose()
    with Session() as s, s.begin():
        restore_to_queue(s, customer_ids=ids, actor=user.login, user=user)
    with Session() as s:
        assert outside_coverage(s, user.branch_id) == []
    engine.dispose()


def test_marks_left_by_a_large_change_stop_nobody_elses_commits(branch_db, monkeypatch):
    """A senior supervisor's large change commits first and leaves its customers' figures to a
    background job. Until that job runs, an analyst signing in and a supervisor saving their own
    team's change must still commit: neither may (or need) settle another user's marks."""
    from sqlalchemy import update

    from app.models import Customer, Specialist
    from app.services.database import unit_of_work

    monkeypatch.setattr(unit_of_work, "DEFER_FROM", 20)  # "large" on a small demo
    senior = connect(branch_db, Role.SENIOR_SUPERVISOR)
    Senior = session_factory(senior)  # noqa: N806
    with Senior() as s:
        unit_of_work.may_defer(s)
        with s.begin():
            team = team_of_supervisor(branch_db)
            other = s.scalars(
                select(Customer.id)
                .join(Specialist, Specialist.id == Customer.specialist_id)
                .where(Specialist.team_id != team)
                .order_by(Customer.id)
                .limit(40)
            ).all()
            target = s.scalar(select(Specialist.id).where(Specialist.team_id == team).limit(1))
            # A move from other teams into the supervisor's, large enough to be deferred.
            s.execute(update(Customer).where(Customer.id.in_(other)).values(specialist_id=target))
        assert unit_of_work.deferred(s)
    for who in (Role.ANALYST, Role.SUPERVISOR):
        engine = connect(branch_db, who)
        with session_factory(engine)() as s:
            assert signed_in_user(s).login == branch_db["logins"][who]
            s.commit()  # recording the sign-in
        engine.dispose()
    engine = connect(branch_db, Role.SUPERVISOR)
    with session_factory(engine)() as s, s.begin():  # the supervisor's own small change
        mine = s.scalar(select(Customer.id).where(Customer.specialist_id == target).limit(1))
        s.execute(update(Customer).where(Customer.id == mine).values(locked=True))
    engine.dispose()
    assert owner_scalar(branch_db, "SELECT count(*) FROM persistency_dirty") > 0
    assert unit_of_work.settle_everything(Senior) == len(set(other))
    assert owner_scalar(branch_db, "SELECT count(*) FROM persistency_dirty") == 0
    senior.dispose()
