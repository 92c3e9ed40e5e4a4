"""Roles enforced where the data is: PostgreSQL roles, row-level security and column grants.

On a shared PostgreSQL database the owner (the account that runs the migrations) runs
``secure(engine)`` once, and again after each migration (``app.db.migrate`` does). Then:

- every GridDesk user signs in as a database role of their own, ``gd_<login>``, with their
  GridDesk password; it belongs to one of three group roles, one per GridDesk role;
- row-level security policies give a supervisor only the rows of their teams (customers,
  policies, dues, tasks, SMS, history, grids and the cells summing them), and everyone only
  their own branch;
- an analyst reads customers and specialists through views that mask phone and ID numbers
  (schema ``griddesk_masked``, first on the analyst's search path); the table columns are not
  granted to them;
- nobody but the owner reads a password hash (``app_user.password_hash`` is not granted), and
  audit rows (``assignment_event``) are never deleted.

So an analyst's or supervisor's credentials read and change no more from ``psql`` than the app
shows them. The owner keeps every right: row-level security does not apply to a table's owner.

A database role is made, given its password, moved between groups or barred from signing in
by ``sync_login``, which the account services call; it runs ``griddesk_sync_login``, a
function owned by the database owner, which lets a senior supervisor manage the logins of
their own branch only and nobody take over a role GridDesk did not create. The password
reaches the server as a SCRAM verifier, never in clear.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.models.enums import Role

LOGIN_PREFIX = "gd_"
MASKED_SCHEMA = "griddesk_masked"
GROUPS = {role: f"griddesk_{role.value}" for role in Role}
SENIOR, SUPERVISOR, ANALYST = (
    GROUPS[Role.SENIOR_SUPERVISOR],
    GROUPS[Role.SUPERVISOR],
    GROUPS[Role.ANALYST],
)
ALL = f"{SENIOR}, {SUPERVISOR}, {ANALYST}"
# PostgreSQL role names hold at most 63 bytes.
MAX_ROLE_BYTES = 63
ROLE_COMMENT = "GridDesk login"


class DatabaseRoleError(Exception):
    """A database role that cannot be made or used as asked, in words."""


def login_role(login: str) -> str:
    """Return the database role a GridDesk user signs in as."""
    role = LOGIN_PREFIX + login
    if len(role.encode()) > MAX_ROLE_BYTES:
        raise DatabaseRoleError(
            f"the user name '{login}' is too long for a database role "
            f"({MAX_ROLE_BYTES - len(LOGIN_PREFIX)} bytes at most)"
        )
    return role


def signs_in_per_user(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database without a user: then each person signs in
    as their own database role (``per_user_url``)."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "postgresql" and not parsed.username


def per_user_url(url: str, login: str, password: str) -> str:
    """Return ``url`` signed in as the database role of ``login``."""
    parsed = make_url(url).set(username=login_role(login), password=password)
    return parsed.render_as_string(hide_password=False)


def refused_sign_in(exc: BaseException) -> bool:
    """Whether the server turned a role away: wrong password, no such role, or one that may
    not sign in (deactivated)."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in ("28P01", "28000"):
        return True
    text = str(orig or exc).lower()
    return "password authentication failed" in text or "not permitted to log in" in text


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
    role = login_role(login)
    verifier = None
    if password is not None:
        raw = session.connection().connection.dbapi_connection
        pgconn = raw.pgconn  # type: ignore[union-attr]
        verifier = pgconn.encrypt_password(
            password.encode(), role.encode(), b"scram-sha-256"
        ).decode()
    session.execute(
        text("SELECT griddesk_sync_login(:login, :verifier)"),
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
        # One securing at a time: two would race on the cluster-wide roles.
        conn.execute(text("SELECT pg_advisory_xact_lock(7, 7)"))
        for statement in _statements(conn):
            conn.execute(text(statement))


# -- the SQL ---------------------------------------------------------------------------------


def _statements(conn: Connection) -> list[str]:
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
        for t in ("app_user", "customer", "specialist")
    }
    out = _roles() + _functions() + _grants(tables, columns) + _masked_views(columns)
    out += _policies(conn)
    return out


def _roles() -> list[str]:
    return [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{g}') THEN "
        f"CREATE ROLE {g} NOLOGIN; END IF; END $$"
        for g in GROUPS.values()
    ]


_DEFINER = "STABLE SECURITY DEFINER SET search_path = public, pg_temp"
_ME = f"u.active AND '{LOGIN_PREFIX}' || u.login = session_user"


def _functions() -> list[str]:
    return [
        # Who is signed in (session_user: SET ROLE does not change it).
        f"CREATE OR REPLACE FUNCTION public.griddesk_user_id() RETURNS integer LANGUAGE sql "
        f"{_DEFINER} AS $$ SELECT u.id FROM public.app_user u WHERE {_ME} $$",
        f"CREATE OR REPLACE FUNCTION public.griddesk_branch_id() RETURNS integer LANGUAGE sql "
        f"{_DEFINER} AS $$ SELECT u.branch_id FROM public.app_user u WHERE {_ME} $$",
        f"CREATE OR REPLACE FUNCTION public.griddesk_login() RETURNS text LANGUAGE sql "
        f"{_DEFINER} AS $$ SELECT u.login FROM public.app_user u WHERE {_ME} $$",
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
        # Masking as the app does it (app.services.auth.mask_phone / mask_id_number).
        "CREATE OR REPLACE FUNCTION public.griddesk_mask_phone(p text) RETURNS text "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN p IS NULL OR p = '' THEN p "
        "WHEN length(p) < 7 THEN repeat('*', length(p)) "
        "ELSE left(p, 3) || repeat('*', length(p) - 7) || right(p, 4) END $$",
        "CREATE OR REPLACE FUNCTION public.griddesk_mask_id(p text) RETURNS text "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN p IS NULL OR p = '' THEN p "
        "WHEN length(p) <= 10 THEN repeat('*', length(p)) "
        "ELSE left(p, 6) || repeat('*', length(p) - 10) || right(p, 4) END $$",
        _SYNC_LOGIN,
        "REVOKE ALL ON FUNCTION public.griddesk_sync_login(text, text) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION public.griddesk_sync_login(text, text) TO {ALL}",
    ]


_SYNC_LOGIN = f"""
CREATE OR REPLACE FUNCTION public.griddesk_sync_login(p_login text, p_verifier text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  target public.app_user%ROWTYPE;
  caller public.app_user%ROWTYPE;
  r text := '{LOGIN_PREFIX}' || p_login;
  existing oid;
  g text;
  owner_name text;
BEGIN
  SELECT * INTO target FROM public.app_user WHERE login = p_login;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'there is no GridDesk user %', p_login USING ERRCODE = 'no_data_found';
  END IF;
  SELECT pg_get_userbyid(relowner) INTO owner_name FROM pg_class
   WHERE oid = 'public.app_user'::regclass;
  IF NOT pg_has_role(session_user, owner_name, 'MEMBER') THEN
    SELECT u.* INTO caller FROM public.app_user u
     WHERE u.active AND '{LOGIN_PREFIX}' || u.login = session_user;
    IF NOT FOUND OR NOT (
         (caller.role = 'senior_supervisor' AND caller.branch_id = target.branch_id)
         OR (caller.id = target.id AND target.active)) THEN
      RAISE EXCEPTION 'you may not manage the database login of %', p_login
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  SELECT oid INTO existing FROM pg_roles WHERE rolname = r;
  IF existing IS NULL THEN
    EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    EXECUTE format('COMMENT ON ROLE %I IS %L', r, '{ROLE_COMMENT}');
  ELSIF coalesce(shobj_description(existing, 'pg_authid'), '') <> '{ROLE_COMMENT}' THEN
    RAISE EXCEPTION 'the database role % exists and is not a GridDesk login: GridDesk leaves it alone', r
      USING ERRCODE = 'duplicate_object';
  END IF;
  IF p_verifier IS NOT NULL THEN
    EXECUTE format('ALTER ROLE %I PASSWORD %L', r, p_verifier);
  END IF;
  FOREACH g IN ARRAY ARRAY[{", ".join(f"'{g}'" for g in GROUPS.values())}] LOOP
    IF g = 'griddesk_' || target.role THEN
      EXECUTE format('GRANT %I TO %I', g, r);
    ELSE
      EXECUTE format('REVOKE %I FROM %I', g, r);
    END IF;
  END LOOP;
  EXECUTE format('ALTER ROLE %I SET search_path = %s', r,
    CASE WHEN target.role = 'analyst' THEN '{MASKED_SCHEMA}, public' ELSE 'public' END);
  EXECUTE format('ALTER ROLE %I %s', r, CASE WHEN target.active THEN 'LOGIN' ELSE 'NOLOGIN' END);
  RETURN r;
END $$"""

# What each group may do beyond reading (reading is granted on every table, but for the
# columns listed in _HIDDEN). Row-level security then limits the rows.
_WRITES = {
    SENIOR: None,  # everything but deleting history
    SUPERVISOR: {
        "customer": "UPDATE",
        "grid": "UPDATE",
        "specialist": "UPDATE",
        "task": "INSERT, UPDATE",
        "notification": "INSERT, UPDATE",
        "assignment_event": "INSERT",
        "change_batch": "INSERT, UPDATE",
        "persistency_base": "INSERT, UPDATE, DELETE",
        "persistency_month": "INSERT, UPDATE, DELETE",
        "funnel_month": "INSERT, UPDATE, DELETE",
        "funnel_dirty": "INSERT, DELETE",
        "rebalance_scenario": "INSERT, UPDATE, DELETE",
    },
    ANALYST: {},
}
# Columns a group does not read: password hashes for everyone; contact data for the analyst
# (they read the masked views instead).
_HIDDEN = {
    SENIOR: {"app_user": {"password_hash"}},
    SUPERVISOR: {"app_user": {"password_hash"}},
    ANALYST: {
        "app_user": {"password_hash"},
        "customer": {"phone", "id_number"},
        "specialist": {"phone"},
    },
}
# What signing in writes on one's own account.
_SIGN_IN_COLUMNS = "last_sign_in, failed_logins, failed_since, locked_until"


def _grants(tables: list[str], columns: dict[str, list[str]]) -> list[str]:
    out = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ALL}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ALL}",
        f"GRANT USAGE ON SCHEMA public TO {ALL}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {SENIOR}, {SUPERVISOR}",
    ]
    for group, hidden in _HIDDEN.items():
        for table in tables:
            if table in hidden:
                shown = [c for c in columns[table] if c not in hidden[table]]
                out.append(f"GRANT SELECT ({', '.join(shown)}) ON public.{table} TO {group}")
            else:
                out.append(f"GRANT SELECT ON public.{table} TO {group}")
    for table in tables:
        if table == "alembic_version":
            continue
        rights = "INSERT, UPDATE" if table == "assignment_event" else "INSERT, UPDATE, DELETE"
        out.append(f"GRANT {rights} ON public.{table} TO {SENIOR}")
    for table, rights in (_WRITES[SUPERVISOR] or {}).items():
        if table in tables:
            out.append(f"GRANT {rights} ON public.{table} TO {SUPERVISOR}")
    out.append(f"GRANT UPDATE ({_SIGN_IN_COLUMNS}) ON public.app_user TO {SUPERVISOR}, {ANALYST}")
    return out


def _masked_views(columns: dict[str, list[str]]) -> list[str]:
    masks = {
        "customer": {"phone": "griddesk_mask_phone", "id_number": "griddesk_mask_id"},
        "specialist": {"phone": "griddesk_mask_phone"},
    }
    out = [
        f"CREATE SCHEMA IF NOT EXISTS {MASKED_SCHEMA}",
        f"REVOKE ALL ON SCHEMA {MASKED_SCHEMA} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {MASKED_SCHEMA} TO {ANALYST}",
    ]
    for table, masked in masks.items():
        select = ", ".join(
            f"public.{masked[c]}(t.{c}) AS {c}" if c in masked else f"t.{c}" for c in columns[table]
        )
        # The view reads as its owner, past row-level security: it keeps to the branch itself.
        out += [
            f"DROP VIEW IF EXISTS {MASKED_SCHEMA}.{table}",
            f"CREATE VIEW {MASKED_SCHEMA}.{table} AS SELECT {select} FROM public.{table} t "
            "WHERE t.branch_id = public.griddesk_branch_id()",
            f"GRANT SELECT ON {MASKED_SCHEMA}.{table} TO {ANALYST}",
        ]
    return out


# Expressions the policies share; "(SELECT f())" makes the planner call f once per statement.
_BRANCH = "branch_id = (SELECT public.griddesk_branch_id())"
_MY_TEAMS = "((SELECT public.griddesk_team_ids())::integer[])"
_MY_PEOPLE = "((SELECT public.griddesk_specialist_ids())::integer[])"


def _mine(column: str) -> str:
    return f"{column} = ANY {_MY_PEOPLE}"


def _seen(table: str, column: str, key: str = "id") -> str:
    """Rows whose parent the user sees (the parent's own policies decide)."""
    return f"EXISTS (SELECT 1 FROM public.{table} p WHERE p.{key} = {column})"


def _policy(name: str, table: str, command: str, to: str, using: str, check: str | None = None):
    parts = [f"CREATE POLICY gd_{name} ON public.{table} FOR {command} TO {to}"]
    if command != "INSERT":
        parts.append(f"USING ({using})")
    if check is not None or command == "INSERT":
        parts.append(f"WITH CHECK ({check if check is not None else using})")
    return " ".join(parts)


def _policies(conn: Connection) -> list[str]:
    existing = conn.execute(
        text(
            "SELECT policyname, tablename FROM pg_policies WHERE schemaname = 'public' "
            "AND policyname LIKE 'gd\\_%'"
        )
    ).all()
    out = [f"DROP POLICY {name} ON public.{table}" for name, table in existing]
    senior_analyst = f"{SENIOR}, {ANALYST}"
    everyone_seen_customer = _seen("customer", "customer_id")
    p = _policy
    out += [
        p("branch_read", "branch", "SELECT", ALL, "id = (SELECT public.griddesk_branch_id())"),
        p("branch_senior", "branch", "UPDATE", SENIOR, "id = (SELECT public.griddesk_branch_id())"),
        # Names of the branch's teams, specialists and departed agents: everyone of the branch.
        p("team_read", "team", "SELECT", ALL, _BRANCH),
        p("team_senior", "team", "ALL", SENIOR, _BRANCH),
        p("specialist_read", "specialist", "SELECT", ALL, _BRANCH),
        p("specialist_senior", "specialist", "ALL", SENIOR, _BRANCH),
        p(
            "specialist_supervisor",
            "specialist",
            "UPDATE",
            SUPERVISOR,
            f"team_id = ANY {_MY_TEAMS}",
        ),
        p("agent_read", "agent", "SELECT", ALL, _BRANCH),
        p("agent_senior", "agent", "ALL", SENIOR, _BRANCH),
        # Accounts: read the branch's (no hashes: the column is not granted); a senior
        # supervisor manages them; anyone writes their own sign-in columns.
        p("app_user_read", "app_user", "SELECT", ALL, _BRANCH),
        p("app_user_senior", "app_user", "ALL", SENIOR, _BRANCH),
        p(
            "app_user_self",
            "app_user",
            "UPDATE",
            f"{SUPERVISOR}, {ANALYST}",
            "id = (SELECT public.griddesk_user_id())",
        ),
        p("user_team_read", "user_team", "SELECT", ALL, _seen("app_user", "user_id")),
        p(
            "user_team_senior",
            "user_team",
            "ALL",
            SENIOR,
            f"{_seen('app_user', 'user_id')} AND team_id = ANY {_MY_TEAMS}",
        ),
        # Customers: the branch's, or a supervisor's teams'.
        p("customer_branch", "customer", "ALL", senior_analyst, _BRANCH),
        p("customer_supervisor", "customer", "ALL", SUPERVISOR, _mine("specialist_id")),
        p("policy_seen", "policy", "ALL", ALL, everyone_seen_customer),
        p("premium_due_seen", "premium_due", "ALL", ALL, _seen("policy", "policy_id")),
        p("persistency_base_branch", "persistency_base", "ALL", senior_analyst, _BRANCH),
        p(
            "persistency_base_supervisor",
            "persistency_base",
            "ALL",
            SUPERVISOR,
            f"{_mine('specialist_id')} OR {everyone_seen_customer}",
        ),
        # Grids: a supervisor sees their teams' and those where their customers live, and
        # changes only their teams' grids, among their teams.
        p("grid_branch", "grid", "ALL", senior_analyst, _BRANCH),
        p(
            "grid_supervisor_read",
            "grid",
            "SELECT",
            SUPERVISOR,
            f"{_mine('owner_id')} OR {_seen('customer', 'grid.id', 'grid_id')}",
        ),
        p("grid_supervisor", "grid", "UPDATE", SUPERVISOR, _mine("owner_id")),
        p("address_rule_branch", "address_rule", "ALL", senior_analyst, _BRANCH),
        p(
            "address_rule_supervisor",
            "address_rule",
            "SELECT",
            SUPERVISOR,
            _seen("grid", "grid_id"),
        ),
        # Tasks, SMS: those of the customers one sees (and a supervisor's specialists' own).
        p("task_branch", "task", "ALL", senior_analyst, everyone_seen_customer),
        p(
            "task_supervisor",
            "task",
            "ALL",
            SUPERVISOR,
            f"{_mine('specialist_id')} OR {everyone_seen_customer}",
            f"{_mine('specialist_id')} OR (specialist_id IS NULL AND {everyone_seen_customer})",
        ),
        p("notification_branch", "notification", "ALL", senior_analyst, everyone_seen_customer),
        p(
            "notification_supervisor",
            "notification",
            "ALL",
            SUPERVISOR,
            f"{everyone_seen_customer} OR {_mine('specialist_id')}",
        ),
        # History: what touched one's customers, grids, tasks or specialists; written only
        # between one's own specialists (the branch's, for a senior supervisor).
        p(
            "assignment_event_read",
            "assignment_event",
            "SELECT",
            ALL,
            f"{_mine('from_specialist_id')} OR {_mine('to_specialist_id')} "
            f"OR (customer_id IS NOT NULL AND {everyone_seen_customer}) "
            f"OR (grid_id IS NOT NULL AND {_seen('grid', 'grid_id')}) "
            f"OR (task_id IS NOT NULL AND {_seen('task', 'task_id')})",
        ),
        p(
            "assignment_event_write",
            "assignment_event",
            "INSERT",
            f"{SENIOR}, {SUPERVISOR}",
            "",
            f"(from_specialist_id IS NULL OR {_mine('from_specialist_id')}) "
            f"AND (to_specialist_id IS NULL OR {_mine('to_specialist_id')})",
        ),
        p(
            "assignment_event_senior",
            "assignment_event",
            "UPDATE",
            SENIOR,
            f"{_mine('from_specialist_id')} OR {_mine('to_specialist_id')} "
            f"OR (customer_id IS NOT NULL AND {everyone_seen_customer})",
        ),
        p("change_batch_branch", "change_batch", "ALL", senior_analyst, _BRANCH),
        p(
            "change_batch_supervisor",
            "change_batch",
            "ALL",
            SUPERVISOR,
            f"{_BRANCH} AND (actor = (SELECT public.griddesk_login()) OR "
            f"{_seen('assignment_event', 'change_batch.id', 'batch_id')})",
            _BRANCH,
        ),
        # The cells adding up customers and dues: per specialist, or per grid.
        p("persistency_month_branch", "persistency_month", "ALL", senior_analyst, _BRANCH),
        p(
            "persistency_month_supervisor",
            "persistency_month",
            "ALL",
            SUPERVISOR,
            f"{_BRANCH} AND ((grain = 'S' AND {_mine('key_id')}) "
            f"OR (grain = 'G' AND {_seen('grid', 'key_id')}))",
        ),
        p("funnel_month_branch", "funnel_month", "ALL", senior_analyst, _BRANCH),
        p("funnel_month_supervisor", "funnel_month", "ALL", SUPERVISOR, _mine("specialist_key")),
        p("funnel_dirty_branch", "funnel_dirty", "ALL", senior_analyst, _BRANCH),
        # Rebalancing scenarios: the branch's; a supervisor's, those kept for their teams.
        p("rebalance_scenario_branch", "rebalance_scenario", "ALL", senior_analyst, _BRANCH),
        p(
            "rebalance_scenario_supervisor",
            "rebalance_scenario",
            "ALL",
            SUPERVISOR,
            f"{_BRANCH} AND team_id = ANY {_MY_TEAMS}",
        ),
        p("funnel_dirty_supervisor", "funnel_dirty", "ALL", SUPERVISOR, _mine("specialist_key")),
    ]
    secured = sorted(
        {s.split(" ON public.")[1].split(" ")[0] for s in out if s.startswith("CREATE POLICY")}
    )
    out += [f"ALTER TABLE public.{t} ENABLE ROW LEVEL SECURITY" for t in secured]
    return out


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
