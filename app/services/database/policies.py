"""The row-level security policies of a database that enforces GridDesk's roles
(``app.services.database.roles``): who reads and writes which rows."""

from __future__ import annotations

from sqlalchemy import Connection, text

from app.services.database.roles_sql import Groups

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


def policies_sql(conn: Connection, g: Groups) -> list[str]:
    existing = conn.execute(
        text(
            "SELECT policyname, tablename FROM pg_policies WHERE schemaname = 'public' "
            "AND policyname LIKE 'gd\\_%'"
        )
    ).all()
    out = [f"DROP POLICY {name} ON public.{table}" for name, table in existing]
    for policies in (_org_policies, _customer_policies, _history_policies, _cell_policies):
        out += policies(g)
    secured = sorted(
        {s.split(" ON public.")[1].split(" ")[0] for s in out if s.startswith("CREATE POLICY")}
    )
    out += [f"ALTER TABLE public.{t} ENABLE ROW LEVEL SECURITY" for t in secured]
    return out


def _org_policies(g: Groups) -> list[str]:
    """Branches, teams, specialists, departed agents and accounts."""
    my_branch_id = "id = (SELECT public.griddesk_branch_id())"
    p = _policy
    return [
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
    ]


def _customer_policies(g: Groups) -> list[str]:
    """Customers and what hangs on them: policies, dues, grids, address rules, tasks, SMS."""
    seen_customer = _seen("customer", "customer_id")
    p = _policy
    return [
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
        # Addresses marked outside coverage: read with the customers one sees; marked and put
        # back by a senior supervisor, who files unmatched addresses.
        p("coverage_mark_read", "coverage_mark", "SELECT", g.readers, _BRANCH),
        p(
            "coverage_mark_senior",
            "coverage_mark",
            "ALL",
            g.senior,
            f"{_BRANCH} AND {seen_customer}",
        ),
        p(
            "coverage_mark_supervisor",
            "coverage_mark",
            "SELECT",
            g.supervisor,
            f"{_BRANCH} AND {seen_customer}",
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
    ]


def _history_policies(g: Groups) -> list[str]:
    """The assignment history and its change batches."""
    seen_customer = _seen("customer", "customer_id")
    p = _policy
    return [
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
    ]


def _cell_policies(g: Groups) -> list[str]:
    """The cells adding up customers and dues, and the rebalancing scenarios."""
    p = _policy
    return [
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
        # Plans waiting for their effective day: as the scenarios.
        p("scheduled_plan_read", "scheduled_plan", "SELECT", g.readers, _BRANCH),
        p("scheduled_plan_senior", "scheduled_plan", "ALL", g.senior, _BRANCH),
        p(
            "scheduled_plan_supervisor",
            "scheduled_plan",
            "ALL",
            g.supervisor,
            f"{_BRANCH} AND team_id = ANY {_MY_TEAMS}",
        ),
        # The customers whose base rows are stale: marked by the triggers of whoever moved
        # them, settled (read and deleted) by the same transaction.
        p(
            "persistency_dirty_seen",
            "persistency_dirty",
            "ALL",
            g.all,
            _seen("customer", "customer_id"),
        ),
        # The policies whose base rows are stale: marked by the triggers of whoever wrote
        # their dues (an import), settled by the same transaction.
        p("policy_dirty_seen", "policy_dirty", "ALL", g.all, _seen("policy", "policy_id")),
        p("funnel_dirty_branch", "funnel_dirty", "ALL", g.readers, _BRANCH),
        p(
            "funnel_dirty_supervisor",
            "funnel_dirty",
            "ALL",
            g.supervisor,
            f"{_BRANCH} AND {_mine('specialist_key')}",
        ),
    ]
