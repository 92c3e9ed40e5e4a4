"""Roles enforced where the data is: PostgreSQL roles, row-level security and column grants.

On a shared PostgreSQL database the owner (the account that runs the migrations) runs
``secure(engine)`` once, and again after each migration (``app.db.migrate`` does); the SQL it runs
is in ``app.services.database.roles_sql`` (roles, functions, grants, masked views) and
``app.services.database.policies`` (row-level security). Then:

- every GridDesk user signs in as a database role of their own, ``<database>.<login>``, with
  their GridDesk password; it belongs to one of three group roles of that database,
  ``<database>:<role>``, which alone may connect to it. Roles belong to the whole server, so
  the database's name keeps two GridDesk databases on one server from sharing a login;
- row-level security policies give a supervisor only the rows of their teams (customers,
  policies, dues, tasks, SMS, history, grids and the cells summing them), and everyone only
  their own branch;
- an analyst reads customers, specialists and SMS texts through views that mask phone and ID
  numbers (schema ``griddesk_masked``, first on the analyst's search path; security barriers,
  so no function of theirs sees a row before the view's own filter); the table columns are
  not granted to them;
- nobody but the owner reads a password hash (``app_user.password_hash`` is not granted);
  history rows (``assignment_event``) are never changed or deleted, and are written only about
  what the writer may change, under their own name, at the time of writing;
- a supervisor changes only the columns the app changes (who serves a customer, who owns a
  grid, a lock, a message's state), never a row's branch, grid or text;
- nobody creates objects in the schema ``public``, and the owner's functions search
  ``pg_catalog`` only, so no planted function runs with the owner's rights.

So an analyst's or supervisor's credentials read and change no more from ``psql`` than the app
shows them. The owner keeps every right: row-level security does not apply to a table's owner.

A database role is made, given its password, moved between groups or barred from signing in
by ``sync_login``, which the account services call; it runs ``griddesk_sync_login``, a
function owned by the database owner, which lets a senior supervisor manage the logins of
their own branch only and nobody take over a role GridDesk did not make for this database. The password
reaches the server as a SCRAM verifier, never in clear.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.services.database.policies import policies_sql
from app.services.database.roles_sql import (
    MASKED_SCHEMA,
    Groups,
    functions_sql,
    grants_sql,
    group_role,
    masked_views_sql,
    roles_sql,
)
from app.services.errors import DomainError

__all__ = ["MASKED_SCHEMA", "group_role"]

# PostgreSQL role names hold at most 63 bytes.
MAX_ROLE_BYTES = 63


class DatabaseRoleError(DomainError):
    """A database role that cannot be made or used as asked, in words."""


def login_role(login: str, database: str) -> str:
    """Return the database role a GridDesk user of ``database`` signs in as."""
    if ":" in login:
        raise DatabaseRoleError("dbrole.colon", login=login)
    role = f"{database}.{login}"
    if len(role.encode()) > MAX_ROLE_BYTES:
        raise DatabaseRoleError(
            "dbrole.too_long",
            login=login,
            database=database,
            maximum=MAX_ROLE_BYTES - len(database.encode()) - 1,
        )
    return role


def signs_in_per_user(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database without a user: then each person signs in
    as their own database role (``per_user_url``)."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "postgresql" and not parsed.username


def per_user_url(url: str, login: str, password: str) -> str:
    """Return ``url`` signed in as the database role of ``login``."""
    parsed = make_url(url)
    role = login_role(login, parsed.database or "")
    return parsed.set(username=role, password=password).render_as_string(hide_password=False)


def refused_sign_in(exc: BaseException) -> bool:
    """Whether the server turned a role away: wrong password, no such role, one that may not
    sign in (deactivated) or may not connect to this database."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in ("28P01", "28000", "42501"):
        return True
    text = str(orig or exc).lower()
    return any(
        words in text
        for words in (
            "password authentication failed",
            "not permitted to log in",
            "permission denied for database",
        )
    )


def is_secured(bind: Engine | Connection | Session) -> bool:
    """Whether the database enforces GridDesk's roles (``secure`` ran on it)."""
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    if engine.dialect.name != "postgresql":
        return False
    query = text(
        "SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE p.proname = 'griddesk_sync_login' AND n.nspname = 'public')"
    )
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return bool(conn.scalar(query))
    return bool(bind.scalar(query))


def sync_login(session: Session, login: str, password: str | None = None) -> None:
    """Bring the database role of ``login`` in line with its account (made if missing, its
    group, allowed to sign in while the account is active) and give it ``password`` if not
    None. Does nothing on a database that does not enforce roles (SQLite included)."""
    if not is_secured(session):
        return
    role = login_role(login, session.scalar(text("SELECT current_database()")))
    verifier = None
    if password is not None:
        raw = session.connection().connection.dbapi_connection
        pgconn = raw.pgconn  # type: ignore[union-attr]
        verifier = pgconn.encrypt_password(
            password.encode(), role.encode(), b"scram-sha-256"
        ).decode()
    session.execute(
        text("SELECT public.griddesk_sync_login(CAST(:login AS text), CAST(:verifier AS text))"),
        {"login": login, "verifier": verifier},
    )


def secure(engine: Engine) -> None:
    """Create the group roles, functions, grants, views and policies (idempotent). Run as the
    database owner on PostgreSQL; raises DatabaseRoleError elsewhere."""
    if engine.dialect.name != "postgresql":
        raise DatabaseRoleError("dbrole.not_postgresql")
    from sqlalchemy.exc import OperationalError

    # Replacing a table's policies takes its strongest lock; a session of the app reading two
    # tables meanwhile can close a cycle with it, and the server then cancels one of the two.
    # Securing is all-or-nothing and idempotent: when it is the one cancelled, it runs again.
    for attempt in range(3):
        try:
            with engine.begin() as conn:
                _secure_once(conn)
            return
        except OperationalError as exc:
            if attempt == 2 or getattr(exc.orig, "sqlstate", None) != "40P01":  # deadlock
                raise


def _secure_once(conn) -> None:
    # One securing at a time: two would race on the server-wide roles.
    conn.execute(text("SELECT pg_advisory_xact_lock(7, 7)"))
    for statement in _statements(conn):
        conn.execute(text(statement))
    # Every account's login, in step with this version of the roles.
    conn.execute(text("SELECT public.griddesk_sync_login(login::text, NULL) FROM public.app_user"))


def signed_in_user(session: Session, *, now=None):
    """Return the GridDesk user the session's database role belongs to, recording the
    sign-in (the caller commits). The server checked the password when it let the role in;
    a role whose account is gone or deactivated raises SignInFailed."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from app.models import User
    from app.models.base import utcnow
    from app.services.people.auth import SignInFailed, clear_failures, user_info

    user_id = session.scalar(text("SELECT public.griddesk_user_id()"))
    if user_id is None:
        raise SignInFailed("auth.wrong")
    user = session.scalars(
        select(User).where(User.id == user_id).options(selectinload(User.teams))
    ).one()
    if user.failed_logins or user.failed_since is not None or user.locked_until is not None:
        clear_failures(user)
    user.last_sign_in = now or utcnow()
    return user_info(user)


# -- the SQL ---------------------------------------------------------------------------------


def _statements(conn: Connection) -> list[str]:
    database = conn.scalar(text("SELECT current_database()"))
    g = Groups(database)
    tables = list(
        conn.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        )
    )
    columns = {
        t: list(
            conn.scalars(
                text(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                    "'public' AND table_name = :t ORDER BY ordinal_position"
                ),
                {"t": t},
            )
        )
        for t in tables
    }
    out = roles_sql(database, g) + functions_sql(database) + grants_sql(g, tables, columns)
    out += masked_views_sql(g, columns)
    out += policies_sql(conn, g)
    return out
