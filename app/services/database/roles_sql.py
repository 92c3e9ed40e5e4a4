"""The SQL that makes a PostgreSQL database enforce GridDesk's roles (``app.services.database.roles``):
group roles, the owner's functions, grants and the analyst's masked views. The row-level
security policies are in ``app.services.database.policies``."""

from __future__ import annotations

from app.models.enums import Role

MASKED_SCHEMA = "griddesk_masked"
# PostgreSQL role names hold at most 63 bytes.
MAX_ROLE_BYTES = 63
LOGIN_COMMENT = "GridDesk login of {db}"
GROUP_COMMENT = "GridDesk group of {db}"


def group_role(role: Role, database: str) -> str:
    """Return the group role of ``database`` that a GridDesk role's logins belong to."""
    return f"{database}:{role.value}"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Groups:
    """The three group roles of one database, quoted for SQL."""

    def __init__(self, database: str) -> None:
        self.names = {role: group_role(role, database) for role in Role}
        self.senior = _quoted(self.names[Role.SENIOR_SUPERVISOR])
        self.supervisor = _quoted(self.names[Role.SUPERVISOR])
        self.analyst = _quoted(self.names[Role.ANALYST])
        self.all = f"{self.senior}, {self.supervisor}, {self.analyst}"
        self.writers = f"{self.senior}, {self.supervisor}"
        self.readers = f"{self.senior}, {self.analyst}"


def roles_sql(database: str, g: Groups) -> list[str]:
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


def functions_sql(database: str) -> list[str]:
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
        # Masking as the app does it (app.services.people.auth.mask_phone / mask_id_number, and the
        # phone numbers inside SMS texts as app.services.files.snapshot masks them).
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
        + Groups(database).all,
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
    "persistency_dirty": "INSERT, DELETE",
    # A supervisor writes no policy or due; the job after a large change settles (deletes)
    # the policies' marks it sees, whoever left them.
    "policy_dirty": "DELETE",
    "rebalance_scenario": "INSERT, UPDATE, DELETE",
    "scheduled_plan": "INSERT, UPDATE (status, decided_at, decided_by, batch_id, outcome)",
}
# What signing in writes on one's own account.
_SIGN_IN_COLUMNS = "last_sign_in, failed_logins, failed_since, locked_until"


def grants_sql(g: Groups, tables: list[str], columns: dict[str, list[str]]) -> list[str]:
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


def masked_views_sql(g: Groups, columns: dict[str, list[str]]) -> list[str]:
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
