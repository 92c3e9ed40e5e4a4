"""Per kind: resolve a chunk of parsed rows (references by number to ids, checks across
columns) into database rows, and write them by key.

Each writer gets the chunk and returns the problems it found as (row, column, message); it
writes only when asked to and nothing was found wrong, so a file that already failed is still
checked to the end for more problems.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.models import (
    AssignmentEvent,
    Customer,
    DepartedAgent,
    Grid,
    Policy,
    PremiumDue,
    Specialist,
    Task,
    Team,
)
from app.models.base import utcnow
from app.models.enums import (
    TERMINATED_BY_EVENT,
    AssignmentReason,
    Channel,
    ContractType,
    SpecialistStatus,
    TaskStatus,
)
from app.services.importer.assignments import write_assignments
from app.services.importer.context import Context, Pending, RowProblem
from app.services.importer.scope import ids_in_branch, owned_elsewhere, policies_in_branch
from app.services.importer.store import Target, save, table_of
from app.services.importer.values import to_utc


def _optional(ctx: Context, row: dict, values: dict, column: str, db_column: str) -> None:
    """Copy an optional column into the database row when the file has it (None if empty)."""
    if column in ctx.present:
        row[db_column] = values.get(column)


TEAMS = Target(table_of(Team), ("branch_id", "code"), "code")
AGENTS = Target(table_of(DepartedAgent), ("agent_code",), "agent_code", insert_only=("branch_id",))
SPECIALISTS = Target(
    table_of(Specialist),
    ("employee_no",),
    "employee_no",
    defaults={"contract_type": ContractType.LABOUR, "status": SpecialistStatus.ACTIVE,
              "capacity": 400},
    insert_only=("branch_id",),
    versioned=True,
)  # fmt: skip
CUSTOMERS = Target(
    table_of(Customer), ("customer_no",), "customer_no", insert_only=("branch_id",), versioned=True
)
POLICIES = Target(table_of(Policy), ("policy_no",), "policy_no")
DUES = Target(table_of(PremiumDue), ("policy_id", "due_date"), "policy_id")
TASKS = Target(
    table_of(Task), ("task_no",), "task_no", defaults={"channel": Channel.OFFLINE}, versioned=True
)


def write_teams(ctx: Context, chunk: list[Pending]) -> list[RowProblem]:
    rows = []
    for p in chunk:
        v = p.values
        row = {"branch_id": ctx.branch_id, "code": v["team_code"], "name": v["team_name"]}
        _optional(ctx, row, v, "supervisor", "supervisor_name")
        rows.append(row)
    if ctx.write:
        ctx.count(*_counts(save(ctx.session, TEAMS, rows)))
    return []


def write_agents(ctx: Context, chunk: list[Pending]) -> list[RowProblem]:
    problems = _elsewhere(ctx, chunk, DepartedAgent.agent_code, "agent_code", "agent")
    rows = []
    for p in chunk:
        v = p.values
        row = {"branch_id": ctx.branch_id, "agent_code": v["agent_code"], "name": v["name"]}
        _optional(ctx, row, v, "left_on", "left_on")
        rows.append(row)
    if problems or not ctx.write:
        return problems
    ctx.count(*_counts(save(ctx.session, AGENTS, rows)))
    return []


def write_specialists(ctx: Context, chunk: list[Pending]) -> list[RowProblem]:
    s, bid = ctx.session, ctx.branch_id
    teams = ids_in_branch(s, Team.code, (p.values["team_code"] for p in chunk), bid)
    listed = {g for p in chunk for g in p.values.get("grids") or ()}
    grids = ids_in_branch(s, Grid.code, listed, bid)
    problems = _elsewhere(ctx, chunk, Specialist.employee_no, "employee_no", "specialist")
    rows, owners = [], []
    for p in chunk:
        v = p.values
        team_id = teams.get(v["team_code"])
        if team_id is None:
            msg = f"no team '{v['team_code']}' in this branch (import the teams first)"
            problems.append((p.row, "team_code", msg))
        unknown = [g for g in v.get("grids") or () if g not in grids]
        if unknown:
            msg = f"no grid {', '.join(unknown)} in this branch (import the grids first)"
            problems.append((p.row, "grids", msg))
        row = {"branch_id": bid, "employee_no": v["employee_no"], "name": v["name"], "team_id": team_id}  # fmt: skip
        for col in ("phone", "contract_type", "hire_date", "status", "capacity"):
            _optional(ctx, row, v, col, col)
        rows.append(row)
        if v.get("grids"):
            owners.append((v["employee_no"], [grids.get(g) for g in v["grids"]]))
    if problems or not ctx.write:
        return problems
    gone = _keep_recorded_leavings(ctx, rows)
    saved = save(s, SPECIALISTS, rows, want_ids=True)
    ctx.count(saved.inserted, saved.updated)
    # A leaver's grids stay with whoever took them over.
    _set_owners(s, [(saved.ids[(e,)], gids) for e, gids in owners if e not in gone])
    return []


def _keep_recorded_leavings(ctx: Context, rows: list[dict]) -> set[str]:
    """A file that still lists as active a specialist whose leaving GridDesk recorded (HR
    extracts lag): the leaving stands, and the result says so; return their employee numbers.
    One back from leave is back."""
    said_active = {r["employee_no"]: r for r in rows if r.get("status") == SpecialistStatus.ACTIVE}
    gone: set[str] = set()
    if not said_active:
        return gone
    recorded = ctx.session.execute(
        select(
            Specialist.employee_no, Specialist.name, Specialist.status, Specialist.left_on
        ).where(
            Specialist.employee_no.in_(sorted(said_active)), Specialist.branch_id == ctx.branch_id
        )
    ).all()
    for no, name, status, left_on in recorded:
        if status == SpecialistStatus.LEFT:
            gone.add(no)
            said_active[no]["status"] = SpecialistStatus.LEFT
            ctx.notices.append(
                f"{no} {name}: the file says active, but GridDesk recorded their leaving"
                + (f" on {left_on.isoformat()}" if left_on else "")
                + "; kept as left, their grids with whoever took them over"
            )
        elif status == SpecialistStatus.LEAVE:
            ctx.notices.append(f"{no} {name}: back from leave, as the file says")
    return gone


def _set_owners(session: Session, owners: list[tuple[int, list]]) -> None:
    """Make each specialist the owner of the grids listed with them (a later row wins),
    recording every change of owner in the assignment history."""
    final: dict[int, int] = {}
    for specialist_id, grid_ids in owners:
        for gid in grid_ids:
            final[gid] = specialist_id
    if not final:
        return
    grid = table_of(Grid)
    before = dict(
        session.execute(select(grid.c.id, grid.c.owner_id).where(grid.c.id.in_(list(final)))).all()
    )
    changes = [(gid, before.get(gid), sid) for gid, sid in final.items() if before.get(gid) != sid]
    if not changes:
        return
    session.execute(
        update(grid)
        .where(grid.c.id == bindparam("g"))
        .values(owner_id=bindparam("o"), version=grid.c.version + 1),
        [{"g": gid, "o": sid} for gid, _old, sid in changes],
    )
    now = utcnow()
    session.execute(
        insert(table_of(AssignmentEvent)),
        [{"grid_id": gid, "customer_id": None, "task_id": None, "from_specialist_id": old,
          "to_specialist_id": sid, "reason": AssignmentReason.IMPORT, "actor": "import",
          "at": now, "batch_id": None}
         for gid, old, sid in changes],
    )  # fmt: skip


def write_customers(ctx: Context, chunk: list[Pending]) -> list[RowProblem]:
    agents = ids_in_branch(ctx.session, DepartedAgent.agent_code, (p.values["agent_code"] for p in chunk), ctx.branch_id)  # fmt: skip
    problems = _elsewhere(ctx, chunk, Customer.customer_no, "customer_no", "customer")
    rows = []
    for p in chunk:
        v = p.values
        agent_id = agents.get(v["agent_code"])
        if agent_id is None:
            msg = f"no departed agent '{v['agent_code']}' in this branch (import the agents first)"
            problems.append((p.row, "agent_code", msg))
        if (v.get("lon") is None) != (v.get("lat") is None):
            missing = "lat" if v.get("lat") is None else "lon"
            problems.append((p.row, missing, "a location needs both longitude and latitude"))
        row = {"branch_id": ctx.branch_id, "customer_no": v["customer_no"], "name": v["name"],
               "address": v["address"], "agent_id": agent_id}  # fmt: skip
        for col in ("phone", "id_number", "lon", "lat"):
            _optional(ctx, row, v, col, col)
        rows.append(row)
    if problems or not ctx.write:
        return problems
    ctx.count(*_counts(save(ctx.session, CUSTOMERS, rows)))
    return []


def write_policies(ctx: Context, chunk: list[Pending]) -> list[RowProblem]:
    customers = ids_in_branch(ctx.session, Customer.customer_no, (p.values["customer_no"] for p in chunk), ctx.branch_id)  # fmt: skip
    problems = _elsewhere(ctx, chunk, Policy.policy_no, "policy_no", "policy")
    rows = []
    for p in chunk:
        v = p.values
        customer_id = customers.get(v["customer_no"])
        if customer_id is None:
            msg = f"no customer '{v['customer_no']}' in this branch (import the customers first)"
            problems.append((p.row, "customer_no", msg))
        if v["status"] in TERMINATED_BY_EVENT and v.get("status_date") is None:
            # Persistency leaves such a policy out only from its termination date on.
            msg = f"a policy ended by {v['status']} needs the date it ended"
            problems.append((p.row, "status_date", msg))
        row = {"policy_no": v["policy_no"], "customer_id": customer_id,
               "issue_date": v["issue_date"], "payment_mode": v["payment_mode"],
               "modal_premium_fen": v["modal_premium"], "status": v["status"]}  # fmt: skip
        _optional(ctx, row, v, "product", "product")
        _optional(ctx, row, v, "status_date", "status_date")
        rows.append(row)
    if problems or not ctx.write:
        return problems
    saved = save(ctx.session, POLICIES, rows)
    ctx.count(saved.inserted, saved.updated)
    return []


def write_dues(ctx: Context, chunk: list[Pending]) -> list[RowProblem]:
    policies = ids_in_branch(ctx.session, Policy.policy_no, (p.values["policy_no"] for p in chunk), ctx.branch_id)  # fmt: skip
    problems: list[RowProblem] = []
    rows = []
    received_given = "amount_received" in ctx.present
    for p in chunk:
        v = p.values
        policy_id = policies.get(v["policy_no"])
        if policy_id is None:
            problems.append(
                (
                    p.row,
                    "policy_no",
                    f"no policy '{v['policy_no']}' in this branch (import the policies first)",
                )
            )
            continue
        row = {"policy_id": policy_id, "policy_year": v["policy_year"], "due_date": v["due_date"],
               "amount_due_fen": v["amount_due"]}  # fmt: skip
        if received_given:
            # An empty received amount is nothing received (yet), not "keep the old figure".
            row["amount_received_fen"] = v.get("amount_received") or 0
            if row["amount_received_fen"] and v.get("received_date") is None:
                problems.append(
                    (p.row, "received_date", "an amount was received but its date is missing")
                )
        _optional(ctx, row, v, "received_date", "received_on")
        rows.append(row)
    if problems or not ctx.write:
        return problems
    saved = save(ctx.session, DUES, rows)
    ctx.count(saved.inserted, saved.updated)
    return []


def write_tasks(ctx: Context, chunk: list[Pending]) -> list[RowProblem]:
    s, bid = ctx.session, ctx.branch_id
    customers = ids_in_branch(s, Customer.customer_no, (p.values["customer_no"] for p in chunk), bid)  # fmt: skip
    policies = policies_in_branch(s, (p.values.get("policy_no") for p in chunk), bid)
    people = ids_in_branch(s, Specialist.employee_no, (p.values.get("employee_no") for p in chunk), bid)  # fmt: skip
    problems = _elsewhere(ctx, chunk, Task.task_no, "task_no", "task")
    rows = []
    for p in chunk:
        v = p.values
        for col, ids, what in (
            ("customer_no", customers, "customer"),
            ("policy_no", policies, "policy"),
            ("employee_no", people, "specialist"),
        ):
            if v.get(col) is not None and v[col] not in ids:
                problems.append((p.row, col, f"no {what} '{v[col]}' in this branch"))
        problems.extend(_task_problems(ctx, p, policies))
        policy = policies.get(v.get("policy_no"))  # type: ignore[arg-type]
        row = {"task_no": v["task_no"], "kind": v["kind"],
               "customer_id": customers.get(v["customer_no"]),
               "created_at": to_utc(v["created_at"], ctx.tz), "status": v["status"]}  # fmt: skip
        if "policy_no" in ctx.present:
            row["policy_id"] = None if policy is None else policy[0]
        if "employee_no" in ctx.present:
            row["specialist_id"] = people.get(v.get("employee_no"))
        if "completed_at" in ctx.present:
            done = v.get("completed_at")
            row["completed_at"] = None if done is None else to_utc(done, ctx.tz)
        for col in ("channel", "due_date", "outcome"):
            _optional(ctx, row, v, col, col)
        rows.append(row)
    if problems or not ctx.write:
        return problems
    saved = save(s, TASKS, rows)
    ctx.count(saved.inserted, saved.updated)
    ctx.customer_ids.update(r["customer_id"] for r in saved.written)
    return []


def _task_problems(
    ctx: Context, p: Pending, policies: dict[str, tuple[int, int, str]]
) -> list[RowProblem]:
    """Return what contradicts itself in a task row: done without a time or before it was
    created, or about a policy of another customer."""
    v, problems = p.values, []
    done = v.get("completed_at")
    if v["status"] == TaskStatus.DONE and done is None:
        problems.append((p.row, "completed_at", "a done task needs its completion time"))
    if done is not None and to_utc(done, ctx.tz) < to_utc(v["created_at"], ctx.tz):
        msg = f"{done:%Y-%m-%d %H:%M} is before the task was created ({v['created_at']:%Y-%m-%d %H:%M})"  # fmt: skip
        problems.append((p.row, "completed_at", msg))
    policy = policies.get(v.get("policy_no"))  # type: ignore[arg-type]
    if policy is not None and policy[2] != v["customer_no"]:
        msg = f"policy '{v['policy_no']}' belongs to customer '{policy[2]}', not to '{v['customer_no']}'"  # fmt: skip
        problems.append((p.row, "policy_no", msg))
    return problems


def _elsewhere(
    ctx: Context, chunk: list[Pending], column: Any, file_column: str, what: str
) -> list[RowProblem]:
    """Return a problem for every row whose number belongs to another branch."""
    rows = [(p.row, p.values[file_column]) for p in chunk]
    return owned_elsewhere(ctx.session, column, rows, ctx.branch_id, file_column=file_column, what=what)  # fmt: skip


def _counts(saved) -> tuple[int, int]:
    return saved.inserted, saved.updated


WRITERS: dict[str, Callable[[Context, list[Pending]], list[RowProblem]]] = {
    "teams": write_teams,
    "specialists": write_specialists,
    "agents": write_agents,
    "customers": write_customers,
    "policies": write_policies,
    "dues": write_dues,
    "tasks": write_tasks,
    "assignments": write_assignments,
}
