"""Writing parsed rows of each kind: references resolved a chunk at a time, rows upserted by
their key so a nightly re-import updates instead of duplicating."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
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
from app.models.enums import AssignmentReason


@dataclass
class Pending:
    """A parsed row waiting to be written, with where it came from (for messages)."""

    row: int
    values: dict[str, object]


@dataclass
class ChunkResult:
    inserted: int = 0
    updated: int = 0
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # row, column, message
    policy_ids: set[int] = field(default_factory=set)
    customer_ids: set[int] = field(default_factory=set)


def upsert(session: Session, table: Table, rows: list[dict], keys: Sequence[str]) -> None:
    """Insert rows, updating the existing ones with the same key (SQLite and PostgreSQL)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = make(table)
    updates = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    if updates:
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    session.execute(stmt, rows)


def _lookup(session: Session, column, values: set) -> dict:
    """Return {value: id} for the given key values, in chunks."""
    out = {}
    vals = sorted(v for v in values if v)
    model_id = column.class_.id
    for i in range(0, len(vals), 2000):
        out.update(
            dict(
                session.execute(
                    select(column, model_id).where(column.in_(vals[i : i + 2000]))
                ).all()
            )
        )
    return out


def _count_existing(result: ChunkResult, existing: set, keys: list) -> None:
    for k in keys:
        if k in existing:
            result.updated += 1
        else:
            result.inserted += 1


def write_teams(
    session: Session, branch_id: int, chunk: list[Pending], result: ChunkResult
) -> None:
    codes = {p.values["team_code"] for p in chunk}
    existing = set(
        session.scalars(select(Team.code).where(Team.branch_id == branch_id, Team.code.in_(codes)))
    )
    rows = [
        {"branch_id": branch_id, "code": p.values["team_code"], "name": p.values["team_name"],
         "supervisor_name": p.values.get("supervisor") or None}
        for p in chunk
    ]  # fmt: skip
    _count_existing(result, existing, [r["code"] for r in rows])
    upsert(session, Team.__table__, rows, ["branch_id", "code"])


def write_agents(
    session: Session, branch_id: int, chunk: list[Pending], result: ChunkResult
) -> None:
    existing = _lookup(session, DepartedAgent.agent_code, {p.values["agent_code"] for p in chunk})
    rows = [
        {"branch_id": branch_id, "agent_code": p.values["agent_code"], "name": p.values["name"],
         "left_on": p.values.get("left_on")}
        for p in chunk
    ]  # fmt: skip
    _count_existing(result, set(existing), [r["agent_code"] for r in rows])
    upsert(session, DepartedAgent.__table__, rows, ["agent_code"])


def write_specialists(
    session: Session, branch_id: int, chunk: list[Pending], result: ChunkResult
) -> None:
    teams = dict(
        session.execute(select(Team.code, Team.id).where(Team.branch_id == branch_id)).all()
    )
    grids = dict(
        session.execute(select(Grid.code, Grid.id).where(Grid.branch_id == branch_id)).all()
    )
    existing = _lookup(session, Specialist.employee_no, {p.values["employee_no"] for p in chunk})
    rows, owners = [], []
    for p in chunk:
        v = p.values
        team_id = teams.get(v["team_code"])
        if team_id is None:
            result.problems.append(
                (p.row, "team_code", f"no team '{v['team_code']}' (import the teams first)")
            )
            continue
        unknown = [g for g in v.get("grids") or () if g not in grids]
        if unknown:
            result.problems.append((p.row, "grids", f"no grid {', '.join(unknown)} in this branch"))
            continue
        row = {
            "branch_id": branch_id,
            "employee_no": v["employee_no"],
            "name": v["name"],
            "team_id": team_id,
        }
        for col in ("phone", "contract_type", "hire_date", "status", "capacity"):
            if v.get(col) is not None:
                row[col] = v[col]
        row.setdefault("contract_type", "labour")
        row.setdefault("status", "active")
        row.setdefault("capacity", 400)
        rows.append(row)
        owners.append((v["employee_no"], [grids[g] for g in v.get("grids") or ()]))
    if result.problems:
        return
    # One statement needs the same columns on every row: fill what a row did not give.
    for r in rows:
        r.setdefault("phone", None)
        r.setdefault("hire_date", None)
    _count_existing(result, set(existing), [r["employee_no"] for r in rows])
    upsert(session, Specialist.__table__, rows, ["employee_no"])
    ids = _lookup(session, Specialist.employee_no, {e for e, _ in owners})
    now = utcnow()
    for employee_no, grid_ids in owners:
        sid = ids[employee_no]
        for gid, old in session.execute(
            select(Grid.id, Grid.owner_id).where(Grid.id.in_(grid_ids))
        ).all():
            if old != sid:
                session.execute(
                    Grid.__table__.update()
                    .where(Grid.id == gid)
                    .values(owner_id=sid, version=Grid.version + 1)
                )
                session.execute(
                    AssignmentEvent.__table__.insert(),
                    [{"grid_id": gid, "from_specialist_id": old, "to_specialist_id": sid,
                      "reason": AssignmentReason.IMPORT.value, "actor": "import", "at": now}],
                )  # fmt: skip


def write_customers(
    session: Session, branch_id: int, chunk: list[Pending], result: ChunkResult
) -> None:
    agents = _lookup(session, DepartedAgent.agent_code, {p.values["agent_code"] for p in chunk})
    existing = _lookup(session, Customer.customer_no, {p.values["customer_no"] for p in chunk})
    rows = []
    for p in chunk:
        v = p.values
        if v["agent_code"] not in agents:
            result.problems.append(
                (
                    p.row,
                    "agent_code",
                    f"no departed agent '{v['agent_code']}' (import the agents first)",
                )
            )
            continue
        rows.append(
            {"branch_id": branch_id, "customer_no": v["customer_no"], "name": v["name"],
             "phone": v.get("phone"), "id_number": v.get("id_number"), "address": v["address"],
             "lon": v.get("lon"), "lat": v.get("lat"), "agent_id": agents[v["agent_code"]]}
        )  # fmt: skip
    if result.problems:
        return
    _count_existing(result, set(existing), [r["customer_no"] for r in rows])
    upsert(session, Customer.__table__, rows, ["customer_no"])


def write_policies(
    session: Session, branch_id: int, chunk: list[Pending], result: ChunkResult
) -> None:
    customers = _lookup(session, Customer.customer_no, {p.values["customer_no"] for p in chunk})
    existing = _lookup(session, Policy.policy_no, {p.values["policy_no"] for p in chunk})
    rows = []
    for p in chunk:
        v = p.values
        if v["customer_no"] not in customers:
            result.problems.append(
                (
                    p.row,
                    "customer_no",
                    f"no customer '{v['customer_no']}' (import the customers first)",
                )
            )
            continue
        rows.append(
            {"policy_no": v["policy_no"], "customer_id": customers[v["customer_no"]],
             "product": v.get("product") or None, "issue_date": v["issue_date"],
             "payment_mode": v["payment_mode"], "modal_premium_fen": v["modal_premium"],
             "status": v["status"], "status_date": v.get("status_date")}
        )  # fmt: skip
    if result.problems:
        return
    _count_existing(result, set(existing), [r["policy_no"] for r in rows])
    upsert(session, Policy.__table__, rows, ["policy_no"])
    result.policy_ids.update(
        _lookup(session, Policy.policy_no, {r["policy_no"] for r in rows}).values()
    )


def write_dues(session: Session, branch_id: int, chunk: list[Pending], result: ChunkResult) -> None:
    policies = _lookup(session, Policy.policy_no, {p.values["policy_no"] for p in chunk})
    rows = []
    for p in chunk:
        v = p.values
        pid = policies.get(v["policy_no"])
        if pid is None:
            result.problems.append(
                (p.row, "policy_no", f"no policy '{v['policy_no']}' (import the policies first)")
            )
            continue
        received = v.get("amount_received") or 0
        if received and v.get("received_date") is None:
            result.problems.append(
                (p.row, "received_date", "an amount was received but the date is missing")
            )
            continue
        rows.append(
            {"policy_id": pid, "policy_year": v["policy_year"], "due_date": v["due_date"],
             "amount_due_fen": v["amount_due"], "amount_received_fen": received,
             "received_on": v.get("received_date")}
        )  # fmt: skip
    if result.problems:
        return
    keys = [(r["policy_id"], r["due_date"]) for r in rows]
    existing: set = set()
    pids = sorted({k[0] for k in keys})
    for i in range(0, len(pids), 2000):
        existing.update(
            (a, b)
            for a, b in session.execute(
                select(PremiumDue.policy_id, PremiumDue.due_date).where(
                    PremiumDue.policy_id.in_(pids[i : i + 2000])
                )
            )
        )
    _count_existing(result, existing, keys)
    upsert(session, PremiumDue.__table__, rows, ["policy_id", "due_date"])
    result.policy_ids.update(pid for pid, _ in keys)


def write_tasks(
    session: Session, branch_id: int, chunk: list[Pending], result: ChunkResult
) -> None:
    customers = _lookup(session, Customer.customer_no, {p.values["customer_no"] for p in chunk})
    policies = _lookup(session, Policy.policy_no, {p.values.get("policy_no") for p in chunk})
    people = _lookup(session, Specialist.employee_no, {p.values.get("employee_no") for p in chunk})
    existing = _lookup(session, Task.task_no, {p.values["task_no"] for p in chunk})
    rows = []
    for p in chunk:
        v = p.values
        if v["customer_no"] not in customers:
            result.problems.append((p.row, "customer_no", f"no customer '{v['customer_no']}'"))
            continue
        if v.get("policy_no") and v["policy_no"] not in policies:
            result.problems.append((p.row, "policy_no", f"no policy '{v['policy_no']}'"))
            continue
        if v.get("employee_no") and v["employee_no"] not in people:
            result.problems.append((p.row, "employee_no", f"no specialist '{v['employee_no']}'"))
            continue
        if v["status"].value == "done" and v.get("completed_at") is None:
            result.problems.append((p.row, "completed_at", "a done task needs its completion time"))
            continue
        rows.append(
            {"task_no": v["task_no"], "kind": v["kind"], "customer_id": customers[v["customer_no"]],
             "policy_id": policies.get(v.get("policy_no")), "specialist_id": people.get(v.get("employee_no")),
             "channel": v.get("channel") or "offline", "created_at": v["created_at"],
             "due_date": v.get("due_date"), "status": v["status"], "outcome": v.get("outcome") or None,
             "completed_at": v.get("completed_at")}
        )  # fmt: skip
    if result.problems:
        return
    _count_existing(result, set(existing), [r["task_no"] for r in rows])
    upsert(session, Task.__table__, rows, ["task_no"])
    result.customer_ids.update(r["customer_id"] for r in rows)


WRITERS: dict[str, Callable[[Session, int, list[Pending], ChunkResult], None]] = {
    "teams": write_teams,
    "specialists": write_specialists,
    "agents": write_agents,
    "customers": write_customers,
    "policies": write_policies,
    "dues": write_dues,
    "tasks": write_tasks,
}

# The key column of each kind: a key twice in one file is a mistake to report.
KEYS = {
    "teams": ("team_code",),
    "specialists": ("employee_no",),
    "agents": ("agent_code",),
    "customers": ("customer_no",),
    "policies": ("policy_no",),
    "dues": ("policy_no", "due_date"),
    "tasks": ("task_no",),
}
