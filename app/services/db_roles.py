"""Roles enforced where the data is: PostgreSQL roles, row-level security and column grants.

On a shared PostgreSQL database the owner (the account that runs the migrations) runs
``secure(engine)`` once, and again after each migration (``app.db.migrate`` does). Then:

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

from app.models.enums import Role

MASKED_SCHEMA = "griddesk_masked"
# PostgreSQL role names hold at most 63 bytes.
MAX_ROLE_BYTES = 63
LOGIN_COMMENT = "GridDesk login of {db}"
GROUP_COMMENT = "GridDesk group of {db}"


class DatabaseRoleError(Exception):
    """A database role that cannot be made or used as asked, in words."""


def login_role(login: str, database: str) -> str:
    """Return the database role a GridDesk user of ``database`` signs in as."""
    if ":" in login:
        raise DatabaseRoleError(f"the user name '{login}' cannot be a database role: it holds ':'")
    role = f"{database}.{login}"
    if len(role.encode()) > MAX_ROLE_BYTES:
        raise DatabaseRoleError(
            f"the user name '{login}' is too long for a database role: with the database's "
            f"name '{database}' it may take {MAX_ROLE_BYTES - len(database.encode()) - 1} bytes"
        )
    return role


def group_role(role: Role, database: str) -> str:
    """Return the group role of ``database`` that a GridDesk role's logins belong to."""
    return f"{database}:{role.value}"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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
        raise DatabaseRoleError(
            "database roles are for a shared PostgreSQL database; a SQLite file is one "
            "person's, and GridDesk checks each role itself there"
        )
    with engine.begin() as conn:
        # One securing at a time: two would race on the server-wide roles.
        conn.execute(text("SELECT pg_advisory_xact_lock(7, 7)"))
        for statement in _statements(conn):
            conn.execute(text(statement))
        # Every account's login, in step with this version of the roles.
        conn.execute(
            text("SELECT public.griddesk_sync_login(login::text, NULL) FROM public.app_user")
        )


def signed_in_user(session: Session, *, now=None):
    """Return the GridDesk user the session's database role belongs to, recording the
    sign-in (the caller commits). The server checked the password when it let the role in;
    a role whose account is gone or deactivated raises SignInFailed."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from app.models import User
    from app.models.base import utcnow
    from app.services.auth import SignInFailed, clear_failures, user_info

    user_id = session.scalar(text("SELECT public.griddesk_user_id()"))
    if user_id is None:
        raise SignInFailed("wrong user name or password")
    user = session.scalars(
        select(User).where(User.id == user_id).options(selectinload(User.teams))
    ).one()
    if user.failed_logins or user.failed_since is not None or user.locked_until is not None:
        clear_failures(user)
    user.last_sign_in = now or utcnow()
    return user_info(user)


# -- the SQL ---------------------------------------------------------------------------------


class _Groups:
    """The three group roles of one database, quoted for SQL."""

    def __init__(self, database: str) -> None:
        self.names = {role: group_role(role, database) for role in Role}
        self.senior = _quoted(self.names[Role.SENIOR_SUPERVISOR])
        self.supervisor = _quoted(self.names[Role.SUPERVISOR])
        self.analyst = _quoted(self.names[Role.ANALYST])
        self.all = f"{self.senior}, {self.supervisor}, {self.analyst}"
        self.writers = f"{self.senior}, {self.supervisor}"
        self.readers = f"{self.senior}, {self.analyst}"


def _statements(conn: Connection) -> list[str]:
    database = conn.scalar(text("SELECT current_database()"))
    g = _Groups(database)
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
    out = _roles(database, g) + _functions(database) + _grants(g, tables, columns)
    out += _masked_views(g, columns)
    out += _policies(conn, g)
    return out


def _roles(database: str, g: _Groups) -> list[str]:
    comment = GROUP_COMMENT.format(db=database)
    out = []
    for name in g.names.values():
        q, lit = _quoted(name), _literal(name)
        out.append(
            f"DO $$ DECLARE c text; BEGIN "
            f"IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {lit}) THEN "
            f"CREATE ROLE {q} NOLOGIN; COMMENT ON ROLE {q} IS {_literal(comment)}; END IF; "
            f"SELECT pg_catalog.shobj_description(oid, 'pg_authid'::name) INTO c "
            f"FROM pg_catalog.pg_roles WHERE rolname = {lit}; "
            f"IF c IS DISTINCT FROM {_literal(comment)} THEN RAISE EXCEPTION "
            f"'the role % exists and is not GridDesk''s: GridDesk leaves it alone', {lit}; "
            f"END IF; END $$"
        )
    db = _quoted(database)
    out += [
        # Only this database's GridDesk roles (and the owner) connect to it; nobody creates
        # objects in public, where the owner's functions would otherwise look for names.
        f"REVOKE CONNECT, TEMPORARY ON DATABASE {db} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {db} TO {g.all}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    ]
    return out


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# Functions that run with the owner's rights search pg_catalog only and name everything else
# in full: nothing anyone else created can stand in for what they call.
_DEFINER = "STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
_ME = "u.active AND pg_catalog.current_database() || '.' || u.login = session_user"


def _functions(database: str) -> list[str]:
    return [
        # Who is signed in (session_user: SET ROLE does not change it).
        f"CREATE OR REPLACE FUNCTION public.griddesk_user_id() RETURNS integer LANGUAGE sql "
        f"{_DEFINER} AS $$ SELECT u.id FROM public.app_user u WHERE {_ME} $$",
        f"CREATE OR REPLACE FUNCTION public.griddesk_branch_id() RETURNS integer LANGUAGE sql "
        f"{_DEFINER} AS $$ SELECT u.branch_id FROM public.app_user u WHERE {_ME} $$",
        f"CREATE OR REPLACE FUNCTION public.griddesk_login() RETURNS text LANGUAGE sql "
        f"{_DEFINER} AS $$ SELECT u.login::text FROM public.app_user u WHERE {_ME} $$",
        # The teams and specialists the user works with: a supervisor's teams, else the branch.
        f"CREATE OR REPLACE FUNCTION public.griddesk_team_ids() RETURNS integer[] LANGUAGE sql "
        f"{_DEFINER} AS $$ SELECT coalesce(array_agg(t.id ORDER BY t.id), '{{}}') "
        f"FROM public.team t JOIN public.app_user u ON u.branch_id = t.branch_id WHERE {_ME} "
        "AND (u.role <> 'supervisor' OR t.id IN "
        "(SELECT ut.team_id FROM public.user_team ut WHERE ut.user_id = u.id)) $$",
        f"CREATE OR REPLACE FUNCTION public.griddesk_specialist_ids() RETURNS integer[] "
        f"LANGUAGE sql {_DEFINER} AS $$ SELECT coalesce(array_agg(s.id ORDER BY s.id), '{{}}') "
        f"FROM public.specialist s JOIN public.app_user u ON u.branch_id = s.branch_id "
        f"WHERE {_ME} AND (u.role <> 'supervisor' OR s.team_id IN "
        "(SELECT ut.team_id FROM public.user_team ut WHERE ut.user_id = u.id)) $$",
        # Masking as the app does it (app.services.auth.mask_phone / mask_id_number, and the
        # phone numbers inside SMS texts as app.services.snapshot masks them).
        "CREATE OR REPLACE FUNCTION public.griddesk_mask_phone(p text) RETURNS text "
        "LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$ SELECT CASE "
        "WHEN p IS NULL OR p = '' THEN p WHEN length(p) < 7 THEN repeat('*', length(p)) "
        "ELSE left(p, 3) || repeat('*', length(p) - 7) || right(p, 4) END $$",
        "CREATE OR REPLACE FUNCTION public.griddesk_mask_id(p text) RETURNS text "
        "LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$ SELECT CASE "
        "WHEN p IS NULL OR p = '' THEN p WHEN length(p) <= 10 THEN repeat('*', length(p)) "
        "ELSE left(p, 6) || repeat('*', length(p) - 10) || right(p, 4) END $$",
        "CREATE OR REPLACE FUNCTION public.griddesk_mask_text(p text) RETURNS text "
        "LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$ SELECT regexp_replace(p, "
        "'(?<![0-9])(1[0-9]{2})[0-9]{4}([0-9]{4})(?![0-9])', '\\1****\\2', 'g') $$",
        _SYNC_LOGIN.replace(
            "{login_comment}", LOGIN_COMMENT.format(db=database).replace("'", "''")
        ),
        "REVOKE ALL ON FUNCTION public.griddesk_sync_login(text, text) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION public.griddesk_sync_login(text, text) TO "
        + _Groups(database).all,
    ]


_SYNC_LOGIN = """
CREATE OR REPLACE FUNCTION public.griddesk_sync_login(p_login text, p_verifier text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  target public.app_user%ROWTYPE;
  caller public.app_user%ROWTYPE;
  db text := pg_catalog.current_database();
  r text := pg_catalog.current_database() || '.' || p_login;
  existing oid;
  g text;
  owner_name text;
BEGIN
  IF pg_catalog.strpos(p_login, ':') > 0 THEN
    RAISE EXCEPTION 'the user name % cannot be a database role', p_login;
  END IF;
  SELECT * INTO target FROM public.app_user WHERE login = p_login;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'there is no GridDesk user %', p_login USING ERRCODE = 'no_data_found';
  END IF;
  SELECT pg_catalog.pg_get_userbyid(relowner) INTO owner_name FROM pg_catalog.pg_class
   WHERE oid = 'public.app_user'::pg_catalog.regclass;
  IF NOT pg_catalog.pg_has_role(session_user, owner_name, 'MEMBER') THEN
    SELECT u.* INTO caller FROM public.app_user u
     WHERE u.active AND db || '.' || u.login = session_user;
    IF NOT FOUND OR NOT (
         (caller.role = 'senior_supervisor' AND caller.branch_id = target.branch_id)
         OR (caller.id = target.id AND target.active)) THEN
      RAISE EXCEPTION 'you may not manage the database login of %', p_login
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  SELECT oid INTO existing FROM pg_catalog.pg_roles WHERE rolname = r;
  IF existing IS NULL THEN
    EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
    EXECUTE pg_catalog.format('COMMENT ON ROLE %I IS %L', r, '{login_comment}');
  ELSIF pg_catalog.shobj_description(existing, 'pg_authid'::pg_catalog.name)
        IS DISTINCT FROM '{login_comment}' THEN
    RAISE EXCEPTION 'the database role % exists and is not a GridDesk login of this database: GridDesk leaves it alone', r
      USING ERRCODE = 'duplicate_object';
  END IF;
  IF p_verifier IS NOT NULL THEN
    EXECUTE pg_catalog.format('ALTER ROLE %I PASSWORD %L', r, p_verifier);
  END IF;
  FOREACH g IN ARRAY ARRAY['senior_supervisor', 'supervisor', 'analyst'] LOOP
    IF g = target.role THEN
      EXECUTE pg_catalog.format('GRANT %I TO %I', db || ':' || g, r);
    ELSE
      EXECUTE pg_catalog.format('REVOKE %I FROM %I', db || ':' || g, r);
    END IF;
  END LOOP;
  EXECUTE pg_catalog.format('ALTER ROLE %I SET search_path = %s', r,
    CASE WHEN target.role = 'analyst' THEN 'griddesk_masked, public' ELSE 'public' END);
  -- Row-level security makes the app's larger queries look costly, and compiling them (JIT)
  -- then takes seconds where running them takes a fraction of one.
  EXECUTE pg_catalog.format('ALTER ROLE %I SET jit = off', r);
  EXECUTE pg_catalog.format('ALTER ROLE %I %s', r,
    CASE WHEN target.active THEN 'LOGIN' ELSE 'NOLOGIN' END);
  RETURN r;
END $$"""

# Columns a group does not read: password hashes for everyone; contact data for the analyst,
# who reads the masked views instead.
_HIDDEN = {
    Role.SENIOR_SUPERVISOR: {"app_user": {"password_hash"}},
    Role.SUPERVISOR: {"app_user": {"password_hash"}},
    Role.ANALYST: {
        "app_user": {"password_hash"},
        "customer": {"phone", "id_number"},
        "specialist": {"phone"},
        "notification": {"body"},
    },
}
# What a supervisor writes: exactly the columns the app's changes write (apply, undo, a task
# handed on, a hand-over, a lock, a message withdrawn), so no row changes branch, grid or text.
_SUPERVISOR_WRITES = {
    "customer": "UPDATE (specialist_id, locked, version)",
    "grid": "UPDATE (owner_id, locked, version)",
    "specialist": "UPDATE (status, left_on, capacity, version)",
    "task": "UPDATE (specialist_id, version)",
    "notification": "INSERT, UPDATE (status, error)",
    "assignment_event": "INSERT",
    "change_batch": "INSERT, UPDATE (plan, undone_at, undone_by)",
    "persistency_base": "INSERT, UPDATE, DELETE",
    "persistency_month": "INSERT, UPDATE, DELETE",
    "funnel_month": "INSERT, UPDATE, DELETE",
    "funnel_dirty": "INSERT, DELETE",
    "rebalance_scenario": "INSERT, UPDATE, DELETE",
}
# What signing in writes on one's own account.
_SIGN_IN_COLUMNS = "last_sign_in, failed_logins, failed_since, locked_until"


def _grants(g: _Groups, tables: list[str], columns: dict[str, list[str]]) -> list[str]:
    out = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {g.all}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {g.all}",
        f"GRANT USAGE ON SCHEMA public TO {g.all}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {g.writers}",
    ]
    quoted = {
        Role.SENIOR_SUPERVISOR: g.senior,
        Role.SUPERVISOR: g.supervisor,
        Role.ANALYST: g.analyst,
    }
    for role, hidden in _HIDDEN.items():
        for table in tables:
            if table in hidden:
                shown = [c for c in columns[table] if c not in hidden[table]]
                out.append(f"GRANT SELECT ({', '.join(shown)}) ON public.{table} TO {quoted[role]}")
            else:
                out.append(f"GRANT SELECT ON public.{table} TO {quoted[role]}")
    for table in tables:
        if table == "alembic_version":
            continue
        # History is written, never changed or deleted.
        rights = "INSERT" if table == "assignment_event" else "INSERT, UPDATE, DELETE"
        out.append(f"GRANT {rights} ON public.{table} TO {g.senior}")
    for table, rights in _SUPERVISOR_WRITES.items():
        if table in tables:
            out.append(f"GRANT {rights} ON public.{table} TO {g.supervisor}")
    out.append(
        f"GRANT UPDATE ({_SIGN_IN_COLUMNS}) ON public.app_user TO {g.supervisor}, {g.analyst}"
    )
    return out


def _masked_views(g: _Groups, columns: dict[str, list[str]]) -> list[str]:
    masks = {
        "customer": {"phone": "griddesk_mask_phone", "id_number": "griddesk_mask_id"},
        "specialist": {"phone": "griddesk_mask_phone"},
        "notification": {"body": "griddesk_mask_text"},
    }
    # The branch each view keeps to (a view reads as its owner, past row-level security).
    branch = {
        "customer": "t.branch_id = public.griddesk_branch_id()",
        "specialist": "t.branch_id = public.griddesk_branch_id()",
        "notification": "EXISTS (SELECT 1 FROM public.customer c WHERE c.id = t.customer_id "
        "AND c.branch_id = public.griddesk_branch_id())",
    }
    out = [
        f"CREATE SCHEMA IF NOT EXISTS {MASKED_SCHEMA}",
        f"REVOKE ALL ON SCHEMA {MASKED_SCHEMA} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {MASKED_SCHEMA} TO {g.analyst}",
    ]
    for table, masked in masks.items():
        select = ", ".join(
            f"public.{masked[c]}(t.{c}) AS {c}" if c in masked else f"t.{c}" for c in columns[table]
        )
        # A security barrier: a function in the reader's WHERE sees only rows the view's own
        # filter let through.
        out += [
            f"DROP VIEW IF EXISTS {MASKED_SCHEMA}.{table}",
            f"CREATE VIEW {MASKED_SCHEMA}.{table} WITH (security_barrier = true) AS "
            f"SELECT {select} FROM public.{table} t WHERE {branch[table]}",
            f"GRANT SELECT ON {MASKED_SCHEMA}.{table} TO {g.analyst}",
        ]
    return out


# Expressions the policies share; "(SELECT f())" makes the planner call f once per statement.
_BRANCH = "branch_id = (SELECT public.griddesk_branch_id())"
_MY_TEAMS = "((SELECT public.griddesk_team_ids())::integer[])"
_MY_PEOPLE = "((SELECT public.griddesk_specialist_ids())::integer[])"
_ME_LOGIN = "(SELECT public.griddesk_login())"
# History is written at the time it happens (stored as naive UTC), give or take a clock.
_NOW = (
    "at BETWEEN (now() AT TIME ZONE 'UTC') - interval '10 minutes' "
    "AND (now() AT TIME ZONE 'UTC') + interval '10 minutes'"
)


def _mine(column: str) -> str:
    return f"{column} = ANY {_MY_PEOPLE}"


def _mine_or_none(column: str) -> str:
    return f"({column} IS NULL OR {_mine(column)})"


def _seen(table: str, column: str, key: str = "id") -> str:
    """Rows whose parent the user sees (the parent's own policies decide)."""
    return f"EXISTS (SELECT 1 FROM public.{table} p WHERE p.{key} = {column})"


def _policy(
    name: str,
    table: str,
    command: str,
    to: str,
    using: str,
    check: str | None = None,
    *,
    restrictive: bool = False,
):
    """Return a CREATE POLICY; a permissive one widens what the role may (any permissive
    policy suffices), a restrictive one narrows it (every restrictive policy must hold)."""
    kind = "RESTRICTIVE" if restrictive else "PERMISSIVE"
    parts = [f"CREATE POLICY gd_{name} ON public.{table} AS {kind} FOR {command} TO {to}"]
    if command != "INSERT":
        parts.append(f"USING ({using})")
    if check is not None or command == "INSERT":
        parts.append(f"WITH CHECK ({check if check is not None else using})")
    return " ".join(parts)


def _policies(conn: Connection, g: _Groups) -> list[str]:
    existing = conn.execute(
        text(
            "SELECT policyname, tablename FROM pg_policies WHERE schemaname = 'public' "
            "AND policyname LIKE 'gd\\_%'"
        )
    ).all()
    out = [f"DROP POLICY {name} ON public.{table}" for name, table in existing]
    seen_customer = _seen("customer", "customer_id")
    my_branch_id = "id = (SELECT public.griddesk_branch_id())"
    p = _policy
    out += [
        p("branch_read", "branch", "SELECT", g.all, my_branch_id),
        p("branch_senior", "branch", "UPDATE", g.senior, my_branch_id),
        # Names of the branch's teams, specialists and departed agents: everyone of the branch.
        p("team_read", "team", "SELECT", g.all, _BRANCH),
        p("team_senior", "team", "ALL", g.senior, _BRANCH),
        p("specialist_read", "specialist", "SELECT", g.all, _BRANCH),
        p(
            "specialist_senior",
            "specialist",
            "ALL",
            g.senior,
            f"{_BRANCH} AND team_id = ANY {_MY_TEAMS}",
        ),
        p(
            "specialist_supervisor",
            "specialist",
            "UPDATE",
            g.supervisor,
            f"{_BRANCH} AND team_id = ANY {_MY_TEAMS}",
        ),
        p("agent_read", "agent", "SELECT", g.all, _BRANCH),
        p("agent_senior", "agent", "ALL", g.senior, _BRANCH),
        # Accounts: read the branch's (no hashes: the column is not granted); a senior
        # supervisor manages them; anyone writes their own sign-in columns.
        p("app_user_read", "app_user", "SELECT", g.all, _BRANCH),
        p("app_user_senior", "app_user", "ALL", g.senior, _BRANCH),
        p(
            "app_user_self",
            "app_user",
            "UPDATE",
            f"{g.supervisor}, {g.analyst}",
            "id = (SELECT public.griddesk_user_id())",
        ),
        p("user_team_read", "user_team", "SELECT", g.all, _seen("app_user", "user_id")),
        p(
            "user_team_senior",
            "user_team",
            "ALL",
            g.senior,
            f"{_seen('app_user', 'user_id')} AND team_id = ANY {_MY_TEAMS}",
        ),
        # Customers: the branch's, or a supervisor's teams'; served and placed inside it.
        p("customer_read", "customer", "SELECT", g.readers, _BRANCH),
        p(
            "customer_senior",
            "customer",
            "ALL",
            g.senior,
            _BRANCH,
            f"{_BRANCH} AND {_mine_or_none('specialist_id')} "
            f"AND (grid_id IS NULL OR {_seen('grid', 'grid_id')})",
        ),
        p(
            "customer_supervisor",
            "customer",
            "ALL",
            g.supervisor,
            f"{_BRANCH} AND {_mine('specialist_id')}",
        ),
        p("policy_seen", "policy", "ALL", g.all, seen_customer),
        p("premium_due_seen", "premium_due", "ALL", g.all, _seen("policy", "policy_id")),
        p("persistency_base_branch", "persistency_base", "ALL", g.readers, _BRANCH),
        p(
            "persistency_base_supervisor",
            "persistency_base",
            "ALL",
            g.supervisor,
            f"{_BRANCH} AND ({_mine('specialist_id')} OR {seen_customer})",
        ),
        # Grids: a supervisor sees their teams' and those where their customers live, and
        # changes only their teams' grids, among their teams.
        p("grid_read", "grid", "SELECT", g.readers, _BRANCH),
        p(
            "grid_senior",
            "grid",
            "ALL",
            g.senior,
            _BRANCH,
            f"{_BRANCH} AND {_mine_or_none('owner_id')}",
        ),
        p(
            "grid_supervisor_read",
            "grid",
            "SELECT",
            g.supervisor,
            f"{_BRANCH} AND ({_mine('owner_id')} OR {_seen('customer', 'grid.id', 'grid_id')})",
        ),
        p("grid_supervisor", "grid", "UPDATE", g.supervisor, f"{_BRANCH} AND {_mine('owner_id')}"),
        p("address_rule_branch", "address_rule", "SELECT", g.readers, _BRANCH),
        p(
            "address_rule_senior",
            "address_rule",
            "ALL",
            g.senior,
            f"{_BRANCH} AND {_seen('grid', 'grid_id')}",
        ),
        p(
            "address_rule_supervisor",
            "address_rule",
            "SELECT",
            g.supervisor,
            f"{_BRANCH} AND {_seen('grid', 'grid_id')}",
        ),
        # Tasks: those of the customers one sees (and a supervisor's specialists' own), held
        # by one's own specialists or nobody.
        # Held by one of mine (the branch's, for a senior supervisor or an analyst), or by
        # nobody and for a customer one sees: the subquery runs for unheld tasks only.
        p(
            "task_read",
            "task",
            "SELECT",
            g.readers,
            f"{_mine('specialist_id')} OR (specialist_id IS NULL AND {seen_customer})",
        ),
        p(
            "task_senior",
            "task",
            "ALL",
            g.senior,
            f"{_mine('specialist_id')} OR (specialist_id IS NULL AND {seen_customer})",
            f"{seen_customer} AND {_mine_or_none('specialist_id')}",
        ),
        p(
            "task_supervisor",
            "task",
            "ALL",
            g.supervisor,
            f"{_mine('specialist_id')} OR (specialist_id IS NULL AND {seen_customer})",
        ),
        # SMS: to the customers one serves, naming one's own specialists.
        p("notification_read", "notification", "SELECT", g.readers, seen_customer),
        p(
            "notification_supervisor_read",
            "notification",
            "SELECT",
            g.supervisor,
            f"{seen_customer} OR {_mine('specialist_id')}",
        ),
        *(
            p(
                f"notification_{command.lower()}",
                "notification",
                command,
                g.writers,
                seen_customer,
                f"{seen_customer} AND {_mine_or_none('specialist_id')} "
                f"AND {_mine_or_none('known_specialist_id')}",
            )
            for command in ("INSERT", "UPDATE")
        ),
        # History: what touched one's customers, grids, tasks or specialists; written only
        # about what one may change, by oneself, now. Never changed afterwards.
        # Every change names who it was from or to (nobody to nobody is no change), so
        # "from or to one of mine" is what touched one's specialists: the branch's, for a
        # senior supervisor or an analyst. No subquery: history is the biggest table read.
        p(
            "assignment_event_read",
            "assignment_event",
            "SELECT",
            g.all,
            f"{_mine('from_specialist_id')} OR {_mine('to_specialist_id')}",
        ),
        p(
            "assignment_event_write",
            "assignment_event",
            "INSERT",
            g.writers,
            "",
            f"{_mine_or_none('from_specialist_id')} AND {_mine_or_none('to_specialist_id')} "
            f"AND (customer_id IS NULL OR {seen_customer}) "
            f"AND (grid_id IS NULL OR {_seen('grid', 'grid_id')}) "
            f"AND (task_id IS NULL OR {_seen('task', 'task_id')}) "
            f"AND (batch_id IS NULL OR {_seen('change_batch', 'batch_id')}) AND {_NOW}",
        ),
        p(
            "assignment_event_by_self",
            "assignment_event",
            "INSERT",
            g.supervisor,
            "",
            f"actor = {_ME_LOGIN}",
            restrictive=True,
        ),
        # Change batches: a branch's; a supervisor's own.
        p("change_batch_branch", "change_batch", "ALL", g.readers, _BRANCH),
        p(
            "change_batch_supervisor",
            "change_batch",
            "ALL",
            g.supervisor,
            f"{_BRANCH} AND actor = {_ME_LOGIN}",
        ),
        # The cells adding up customers and dues: per specialist, or per grid. A supervisor
        # reads the grids' where their customers live, and writes their own only.
        p("persistency_month_branch", "persistency_month", "ALL", g.readers, _BRANCH),
        p(
            "persistency_month_supervisor_read",
            "persistency_month",
            "SELECT",
            g.supervisor,
            f"{_BRANCH} AND ((grain = 'S' AND {_mine('key_id')}) "
            f"OR (grain = 'G' AND {_seen('grid', 'key_id')}))",
        ),
        *(
            p(
                f"persistency_month_supervisor_{command.lower()}",
                "persistency_month",
                command,
                g.supervisor,
                f"{_BRANCH} AND ((grain = 'S' AND {_mine('key_id')}) OR (grain = 'G' AND "
                f"EXISTS (SELECT 1 FROM public.grid p WHERE p.id = key_id AND "
                f"{_mine('p.owner_id')})))",
            )
            for command in ("INSERT", "UPDATE", "DELETE")
        ),
        p("funnel_month_branch", "funnel_month", "ALL", g.readers, _BRANCH),
        p(
            "funnel_month_supervisor",
            "funnel_month",
            "ALL",
            g.supervisor,
            f"{_BRANCH} AND {_mine('specialist_key')}",
        ),
        # Rebalancing scenarios: the branch's; a supervisor's, those kept for their teams.
        p("rebalance_scenario_read", "rebalance_scenario", "SELECT", g.readers, _BRANCH),
        p("rebalance_scenario_senior", "rebalance_scenario", "ALL", g.senior, _BRANCH),
        p(
            "rebalance_scenario_supervisor",
            "rebalance_scenario",
            "ALL",
            g.supervisor,
            f"{_BRANCH} AND team_id = ANY {_MY_TEAMS}",
        ),
        p("funnel_dirty_branch", "funnel_dirty", "ALL", g.readers, _BRANCH),
        p(
            "funnel_dirty_supervisor",
            "funnel_dirty",
            "ALL",
            g.supervisor,
            f"{_BRANCH} AND {_mine('specialist_key')}",
        ),
    ]
    secured = sorted(
        {s.split(" ON public.")[1].split(" ")[0] for s in out if s.startswith("CREATE POLICY")}
    )
    out += [f"ALTER TABLE public.{t} ENABLE ROW LEVEL SECURITY" for t in secured]
    return out
