# ruff: noqa: F811  (pytest fixtures imported from test_db_roles are parameters here)
"""Attacks on the database roles of ``app.services.database.roles``, each as the role would try them
from psql. Each was a hole found by attacking the first version of the roles; each is closed."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import make_engine, migrate
from app.models import Branch, User
from app.models.enums import Role
from app.services.database.roles import login_role, secure, sync_login
from app.services.database.unit_of_work import sessionmaker as session_factory
from tests.services.test_db_roles import (  # noqa: F401  (fixtures)
    PASSWORD,
    branch_db,
    cli_env,
    connect,
    owner_scalar,
    server,
    shared_url,
    team_of_supervisor,
)

# Database roles and their grants exist on PostgreSQL only.
pytestmark = pytest.mark.pg_only


def psql(db, who, password=PASSWORD, notices=None):
    """A psycopg connection signed in as ``who``'s database role, as psql would be."""
    url = make_url(db["owner_url"])
    conn = psycopg.connect(
        host=url.host,
        port=url.port,
        dbname=url.database,
        user=login_role(db["logins"][who], url.database),
        password=password,
    )
    if notices is not None:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary))
    return conn


def owner_exec(db, sql, **params):
    with db["engine"].begin() as conn:
        return conn.execute(text(sql), params)


@pytest.fixture(scope="module")
def second_branch(branch_db):  # noqa: F811
    """A second branch on the same database, with a specialist, a grid and customers."""
    db = branch_db
    tag = uuid.uuid4().hex[:6]
    with db["engine"].begin() as conn:
        branch = conn.scalar(
            text("SELECT branch_id FROM app_user WHERE login = :l"), {"l": db["logins"]["other"]}
        )
        team = conn.scalar(
            text("INSERT INTO team (branch_id, code, name) VALUES (:b, :c, 'x') RETURNING id"),
            {"b": branch, "c": f"X{tag}"},
        )
        spec = conn.scalar(
            text(
                "INSERT INTO specialist (branch_id, employee_no, name, phone, team_id, "
                "contract_type, status, capacity, version) SELECT :b, :e, 'b2spec', "
                "'13900000001', :t, contract_type, status, capacity, 1 FROM specialist "
                "LIMIT 1 RETURNING id"
            ),
            {"b": branch, "e": f"E{tag}", "t": team},
        )
        grid = conn.scalar(
            text(
                "INSERT INTO grid (branch_id, code, name, district, geometry, communities, "
                "status, min_lon, min_lat, max_lon, max_lat, centroid_lon, centroid_lat, "
                "owner_id, locked, version) SELECT :b, :c, 'b2grid', district, geometry, "
                "communities, status, min_lon, min_lat, max_lon, max_lat, centroid_lon, "
                "centroid_lat, :s, false, 1 FROM grid LIMIT 1 RETURNING id"
            ),
            {"b": branch, "c": f"G{tag}", "s": spec},
        )
        conn.execute(
            text(
                "INSERT INTO customer (branch_id, customer_no, name, phone, id_number, address, "
                "grid_id, specialist_id, step, locked, version) SELECT :b, :p || g, "
                "'secret_b2_' || g, '1380000' || lpad(g::text, 4, '0'), "
                "'51010119900101' || lpad(g::text, 4, '0'), 'b2', :g, :s, 0, false, 1 "
                "FROM generate_series(1, 3) g"
            ),
            {"b": branch, "p": f"C{tag}", "g": grid, "s": spec},
        )
        customer = conn.scalar(
            text("SELECT min(id) FROM customer WHERE customer_no LIKE :p"), {"p": f"C{tag}%"}
        )
    return {"branch": branch, "specialist": spec, "grid": grid, "customer": customer}


def other_team_customer(db):
    team = team_of_supervisor(db)
    return owner_scalar(
        db,
        "SELECT min(c.id) FROM customer c JOIN specialist s ON s.id = c.specialist_id "
        "WHERE s.team_id <> :t",
        t=team,
    )


def my_specialist(db):
    team = team_of_supervisor(db)
    return owner_scalar(db, "SELECT min(id) FROM specialist WHERE team_id = :t", t=team)


# --- reading ----------------------------------------------------------------------------------


def test_the_masked_view_shows_an_analyst_no_other_branch(branch_db, second_branch):
    seen: list[str] = []
    with psql(branch_db, Role.ANALYST, notices=seen) as conn:
        conn.execute("SET enable_indexscan = off")
        conn.execute("SET enable_bitmapscan = off")
        try:
            conn.execute(
                "CREATE FUNCTION pg_temp.peek(i int, n text, p text, b int) RETURNS bool "
                "LANGUAGE plpgsql COST 0.0000001 AS $$ BEGIN "
                "IF b <> public.griddesk_branch_id() THEN RAISE NOTICE 'row % % % %', i, n, p, "
                "b; END IF; RETURN true; END $$"
            )
        except psycopg.errors.InsufficientPrivilege:
            return  # refused: an analyst creates no function, not even a temporary one
        conn.execute(
            "SELECT count(*) FROM griddesk_masked.customer "
            "WHERE pg_temp.peek(id, name, phone, branch_id)"
        ).fetchone()
    assert not [m for m in seen if "secret_b2_" in m]


def test_an_analyst_reads_no_unmasked_phone_through_sms_texts(branch_db):
    phones = owner_scalar(
        branch_db, "SELECT array_agg(phone) FROM specialist WHERE phone IS NOT NULL"
    )
    with psql(branch_db, Role.ANALYST) as conn:
        leaked = conn.execute(
            "SELECT count(*) FROM notification n WHERE EXISTS "
            "(SELECT 1 FROM unnest(%s::text[]) p WHERE strpos(n.body, p) > 0)",
            (phones,),
        ).fetchone()[0]
    assert leaked == 0


def test_an_analyst_cannot_filter_or_sort_on_a_hidden_column(branch_db):
    for sql in (
        "SELECT id FROM public.customer WHERE phone = '1'",
        "SELECT id FROM public.customer ORDER BY id_number LIMIT 1",
        "COPY public.customer (phone) TO STDOUT",
        "UPDATE public.app_user SET last_sign_in = now() WHERE id = griddesk_user_id() "
        "RETURNING password_hash",
    ):
        with (
            psql(branch_db, Role.ANALYST) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(sql)


# --- writing ------------------------------------------------------------------------------------


def test_a_supervisor_cannot_queue_an_sms_to_another_teams_customer(branch_db, second_branch):
    db = branch_db
    for customer in (other_team_customer(db), second_branch["customer"]):
        with psql(db, Role.SUPERVISOR) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO notification (customer_id, template, body, created_at, status, "
                "specialist_id) SELECT %s, template, 'phish http://evil.example', now(), "
                "'queued', %s FROM notification LIMIT 1",
                (customer, my_specialist(db)),
            )
            conn.rollback()


def test_a_supervisor_cannot_forge_another_teams_history(branch_db):
    with (
        psql(branch_db, Role.SUPERVISOR) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(
            "INSERT INTO assignment_event (customer_id, reason, actor, at, effective_on) "
            "VALUES (%s, 'manual', 'senior', now() - interval '1 year', '2020-01-01')",
            (other_team_customer(branch_db),),
        )
        conn.rollback()


def test_a_supervisor_cannot_read_or_rewrite_someone_elses_batch(branch_db):
    db = branch_db
    batch = owner_exec(
        db,
        "INSERT INTO change_batch (branch_id, kind, actor, created_at, plan) SELECT branch_id, "
        "'rebalance', 'senior', now(), '{\"secret\": 1}' FROM team WHERE id = :t RETURNING id",
        t=team_of_supervisor(db),
    ).scalar()
    with psql(db, Role.SUPERVISOR) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO assignment_event (reason, actor, at, effective_on, batch_id, "
                "to_specialist_id) VALUES ('manual', 'x', now(), now(), %s, %s)",
                (batch, my_specialist(db)),
            )
        conn.rollback()
        assert (
            conn.execute("SELECT count(*) FROM change_batch WHERE id = %s", (batch,)).fetchone()[0]
            == 0
        )
        rewritten = conn.execute(
            "UPDATE change_batch SET plan = '{}', undone_by = 'senior', undone_at = now() "
            "WHERE id = %s",
            (batch,),
        ).rowcount
        conn.rollback()
    assert rewritten == 0


def test_a_supervisor_cannot_reach_another_teams_grid_cells(branch_db):
    db = branch_db
    team = team_of_supervisor(db)
    grid = owner_scalar(
        db,
        "SELECT g.id FROM grid g JOIN specialist s ON s.id = g.owner_id WHERE s.team_id <> :t "
        "AND NOT EXISTS (SELECT 1 FROM customer c JOIN specialist s2 ON s2.id = c.specialist_id "
        "WHERE c.grid_id = g.id AND s2.team_id = :t) AND EXISTS (SELECT 1 FROM "
        "persistency_month p WHERE p.grain = 'G' AND p.key_id = g.id) ORDER BY g.id LIMIT 1",
        t=team,
    )
    with psql(db, Role.SUPERVISOR) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "UPDATE customer SET grid_id = %s WHERE id = (SELECT min(id) FROM customer)",
                (grid,),
            )
        conn.rollback()
        deleted = conn.execute(
            "DELETE FROM persistency_month WHERE grain = 'G' AND key_id = %s", (grid,)
        ).rowcount
        conn.rollback()
    assert deleted == 0


def test_a_supervisor_cannot_move_rows_into_another_branch(branch_db, second_branch):
    db = branch_db
    for sql in (
        "UPDATE customer SET branch_id = %s WHERE id = (SELECT min(id) FROM customer)",
        "UPDATE grid SET branch_id = %s WHERE id = (SELECT min(id) FROM grid "
        "WHERE owner_id = ANY (griddesk_specialist_ids()))",
    ):
        with psql(db, Role.SUPERVISOR) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql, (second_branch["branch"],))
            conn.rollback()


def test_a_senior_of_another_branch_cannot_plant_customers_in_this_one(branch_db, second_branch):
    db = branch_db
    with psql(db, "other") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(
            "INSERT INTO customer (branch_id, customer_no, name, address, specialist_id, step, "
            "locked, version) VALUES (griddesk_branch_id(), %s, 'planted', 'x', %s, 0, false, 1)",
            (f"P{uuid.uuid4().hex[:8]}", my_specialist(db)),
        )
        conn.rollback()


def test_a_supervisor_cannot_give_a_task_to_another_team(branch_db):
    team = team_of_supervisor(branch_db)
    other = owner_scalar(branch_db, "SELECT min(id) FROM specialist WHERE team_id <> :t", t=team)
    with (
        psql(branch_db, Role.SUPERVISOR) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(
            "UPDATE task SET specialist_id = %s WHERE id = (SELECT min(id) FROM task "
            "WHERE specialist_id = ANY (griddesk_specialist_ids()))",
            (other,),
        )


# --- the roles themselves -------------------------------------------------------------------------


def test_another_database_on_the_server_cannot_take_over_a_login(branch_db, server):  # noqa: F811
    db = branch_db
    login = db["logins"][Role.SUPERVISOR]
    theirs = owner_scalar(
        db,
        "SELECT count(*) FROM customer c JOIN specialist s ON s.id = c.specialist_id "
        "WHERE s.team_id = :t",
        t=team_of_supervisor(db),
    )
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"griddesk_other_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    other = make_engine(make_url(server).set(database=name).render_as_string(hide_password=False))
    try:
        migrate(other)
        secure(other)
        with session_factory(other)() as s, s.begin():
            b = Branch(code="Z", name="z", city="z")
            s.add(b)
            s.flush()
            s.add(
                User(
                    branch_id=b.id,
                    login=login,
                    display_name="mallory",
                    role=Role.SENIOR_SUPERVISOR,
                    password_hash="x",
                )
            )
            s.flush()
            sync_login(s, login, "mallory-Passw0rd")
        try:
            engine = connect(db, Role.SUPERVISOR, password="mallory-Passw0rd")
            with engine.connect() as conn:
                seen = conn.scalar(text("SELECT count(*) FROM customer"))
            engine.dispose()
        except Exception:  # refused: the login was not taken over
            seen = None
        # Signed in with the other database's password, as a senior supervisor of this one.
        assert seen is None or seen <= theirs
    finally:
        other.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        with db["Session"]() as s, s.begin():
            sync_login(s, login, PASSWORD)


def test_a_planted_function_never_runs_as_the_owner(branch_db):
    db = branch_db
    owner_exec(db, "GRANT CREATE ON SCHEMA public TO PUBLIC")  # PostgreSQL <= 14's default
    try:
        secure(db["engine"])  # what a branch on PostgreSQL 14 would run
        with psql(db, Role.SUPERVISOR) as conn:
            conn.autocommit = True
            try:
                conn.execute(
                    "CREATE FUNCTION public.shobj_description(o oid, c text) RETURNS text "
                    "LANGUAGE plpgsql AS $$ BEGIN IF current_user <> session_user THEN "
                    "RAISE EXCEPTION 'ran as %', current_user; END IF; "
                    "RETURN pg_catalog.shobj_description(o, c::name); END $$"
                )
            except psycopg.errors.InsufficientPrivilege:
                return  # refused: nothing planted
            with pytest.raises(psycopg.Error) as caught:
                conn.execute("SELECT griddesk_sync_login(griddesk_login(), NULL)")
            assert "ran as" not in str(caught.value)
    finally:
        owner_exec(db, "DROP FUNCTION IF EXISTS public.shobj_description(oid, text)")
        owner_exec(db, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")


def test_a_deactivated_users_open_session_sees_nothing(branch_db):
    db = branch_db
    login = db["logins"][Role.ANALYST]
    with psql(db, Role.ANALYST) as conn:
        assert conn.execute("SELECT count(*) FROM customer").fetchone()[0] > 0
        conn.commit()
        owner_exec(db, "UPDATE app_user SET active = false WHERE login = :l", l=login)
        try:
            assert conn.execute("SELECT count(*) FROM customer").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM griddesk_masked.customer").fetchone()[0] == 0
        finally:
            owner_exec(db, "UPDATE app_user SET active = true WHERE login = :l", l=login)


# --- the app's services on those connections -----------------------------------------------------


@pytest.mark.parametrize("who", [Role.SUPERVISOR, Role.ANALYST, Role.SENIOR_SUPERVISOR])
def test_each_role_takes_its_snapshot_of_the_shared_database(
    branch_db,
    cli_env,
    tmp_path,
    capsys,
    who,  # noqa: F811
):
    from app.cli import main

    cli_env.setenv("GRIDDESK_PASSWORD", PASSWORD)
    argv = ["--db", shared_url(branch_db), "--user", branch_db["logins"][who]]
    code = main([*argv, "snapshot", "--to", str(tmp_path / "copy.sqlite")])
    assert code == 0, capsys.readouterr().err


def test_every_role_signs_in_from_psql(branch_db):
    """Sanity: the fixtures sign in, so the attacks above are refused for their own reason."""
    for who in [*Role, "other"]:
        with psql(branch_db, who) as conn:
            login = conn.execute("SELECT griddesk_login()").fetchone()[0]
        assert login == branch_db["logins"][who]


def test_securing_runs_again_when_a_working_session_deadlocks_with_it(branch_db):
    """Replacing a table's policies takes its strongest lock: an app session that read one
    table and then reads another can close a cycle with `griddesk secure`. The server cancels
    one of them; when it is the securing, it runs again and completes."""
    import threading

    db = branch_db
    url = make_url(db["owner_url"])
    worker = psycopg.connect(host=url.host, port=url.port, dbname=url.database, user=url.username)
    failures: list[BaseException] = []

    def run_secure() -> None:
        try:
            secure(db["engine"])
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    try:
        worker.execute("SET deadlock_timeout = '5s'")  # the securing notices the cycle first
        worker.execute("SELECT count(*) FROM public.persistency_base").fetchone()
        securing = threading.Thread(target=run_secure)
        securing.start()
        with db["engine"].connect() as watch:
            for _ in range(200):  # until the securing waits for the worker's table
                waiting = watch.execute(
                    text(
                        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                        "WHERE NOT l.granted AND c.relname = 'persistency_base'"
                    )
                ).scalar()
                if waiting:
                    break
                threading.Event().wait(0.05)
            assert waiting, "the securing never waited for the worker's table"
        # Now the worker wants a table the securing has already taken: a cycle.
        worker.execute("SELECT count(*) FROM public.app_user").fetchone()
        worker.commit()
        securing.join(timeout=60)
        assert not securing.is_alive()
        assert failures == []
    finally:
        worker.close()
    with db["engine"].connect() as conn:
        assert conn.scalar(
            text("SELECT count(*) FROM pg_policies WHERE tablename = 'persistency_base'")
        )
