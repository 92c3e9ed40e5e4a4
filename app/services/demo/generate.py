"""Builds the demo branch: a believable, seeded Chengdu branch of the community grid programme."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models import Base, Branch, Team, User
from app.models.base import utcnow
from app.models.enums import AssignmentReason, GridStatus, Role
from app.services.clock import local_date
from app.services.database.sqlfuncs import is_postgres
from app.services.demo.book import AgentPlan, BookWriter, agent_rows, plan_agents
from app.services.demo.bulk import bulk_insert
from app.services.demo.city import CITY, DISTRICTS, GridCell, build_grids
from app.services.demo.dates import pilot_start_for
from app.services.demo.people import People
from app.services.demo.staff import (
    SENIOR_LOGIN,
    SUPERVISOR_LOGIN,
    Ownership,
    SpecPlan,
    TeamPlan,
    plan_ownership,
    plan_specialists,
    plan_teams,
)
from app.services.messages import Message
from app.services.people.auth import hash_password
from app.services.progress import JobState, NullState, check

SIZES = ("small", "city", "large")
DEMO_CODE = "demo"
DEMO_PASSWORD = "demo1234"
ANALYST_LOGIN = "analyst"

_TABLES = (
    "specialist",
    "grid",
    "agent",
    "customer",
    "policy",
    "premium_due",
    "task",
    "notification",
    "assignment_event",
)


# Customers of the agent who left on the demo's today, waiting for intake.
WAITING_CUSTOMERS = 24


@dataclass(frozen=True)
class SizeSpec:
    grids: int
    teams: int
    specialists: int
    customers: int
    extra_policies: float  # mean number of policies a customer holds beside the first
    on_leave: int
    left: int
    gaps: int  # grids the latest departure leaves without an owner
    equity_gaps: int  # specialists who serve customers who buy less worse
    chunk: int  # customers written per batch of inserts


_SPECS: dict[str, SizeSpec] = {
    # "tiny" keeps the tests quick; it is not offered to users.
    "tiny": SizeSpec(20, 2, 6, 600, 0.55, 1, 1, 1, 1, 600),
    "small": SizeSpec(60, 3, 12, 5_000, 0.65, 1, 2, 2, 1, 1_000),
    "city": SizeSpec(400, 12, 80, 60_000, 0.6, 4, 2, 5, 4, 2_000),
    "large": SizeSpec(2_000, 30, 200, 300_000, 2.2, 8, 3, 12, 10, 2_000),
}


@dataclass(frozen=True)
class DemoSummary:
    """What the demo build wrote, and the demo users with their password."""

    branch_id: int
    grids: int
    teams: int
    specialists: int
    customers: int
    policies: int
    dues: int
    tasks: int
    users: list[tuple[str, str, str]]  # (login, role, password)


class _Ids:
    """Hands out primary keys above those already in the database, so rows can reference each
    other before they are inserted in bulk."""

    def __init__(self, session: Session) -> None:
        self.first: dict[str, int] = {}
        self.last: dict[str, int] = {}
        for name in _TABLES:
            table = Base.metadata.tables[name]
            top = session.scalar(select(func.max(table.c.id))) or 0
            self.first[name] = self.last[name] = top

    def __call__(self, table: str) -> int:
        self.last[table] += 1
        return self.last[table]

    def count(self, table: str) -> int:
        return self.last[table] - self.first[table]


def _insert(session: Session, table: str, rows: list[dict[str, Any]], chunk: int = 50_000) -> None:
    target = Base.metadata.tables[table]
    for start in range(0, len(rows), chunk):
        bulk_insert(session, target, rows[start : start + chunk])


def _sync_sequences(session: Session, ids: _Ids) -> None:
    """Move PostgreSQL's id sequences past the keys given explicitly (SQLite needs nothing)."""
    if not is_postgres(session):
        return
    for name in _TABLES:
        if ids.count(name):
            session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), :top)"),
                {"top": ids.last[name]},
            )


def build_demo(
    session: Session,
    *,
    size: str = "small",
    seed: int = 7,
    as_of: date | None = None,
    state: JobState | None = None,
) -> DemoSummary:
    """Return the summary of a demo branch written into ``session`` (the caller commits).

    The same seed and as-of date give the same data; every date is relative to ``as_of``
    (default: today in Chengdu), so the demo always looks current. Raises ValueError when the
    database already holds the demo branch, and Cancelled when ``state`` asks to stop."""
    from app.services.demo.bulk import indexes_suspended

    _spec(size)  # an unknown size is refused before the database is touched
    with indexes_suspended(session, LOADED_TABLES):
        summary = write_demo(session, size=size, seed=seed, as_of=as_of, state=state)
    refresh_derived(session, state=state)
    return summary


# The tables the demo writes by the hundred thousand: their indexes and triggers wait for the
# end of the load (indexes_suspended).
LOADED_TABLES = ("customer", "policy", "premium_due", "task", "assignment_event", "notification")


def _spec(size: str):
    """Return the demo size's specification; raise ValueError for an unknown size."""
    if size not in _SPECS:
        raise ValueError(f"unknown demo size '{size}': choose one of {', '.join(SIZES)}")
    return _SPECS[size]


def refresh_derived(session: Session, *, state: JobState | None = None) -> None:
    """Derive the customers' 4-sell steps, the persistency base with its monthly cells and the
    funnel cells from the rows written, whole (a load's triggers may not have logged them)."""
    from app.services.customers.steps import recompute_steps
    from app.services.database.sqlfuncs import BULK_TABLES, refresh_statistics
    from app.services.metrics import funnel_cells
    from app.services.metrics.base_table import refresh_persistency_base

    state = state or NullState()
    refresh_statistics(session, BULK_TABLES)
    state.report(0.86, Message("progress.deriving_steps"))
    recompute_steps(session)
    check(state)
    state.report(0.93, Message("progress.refreshing_persistency"))
    refresh_persistency_base(session)
    funnel_cells.rebuild(session)
    state.report(1.0, Message("progress.demo_ready"))


def write_demo(
    session: Session,
    *,
    size: str = "small",
    seed: int = 7,
    as_of: date | None = None,
    state: JobState | None = None,
) -> DemoSummary:
    """Return the summary of the demo rows written into ``session``, before anything derived
    from them (steps, persistency base) is refreshed: build_demo without its last stage."""
    spec = _spec(size)
    state = state or NullState()
    if session.scalar(select(Branch.id).where(Branch.code == DEMO_CODE)) is not None:
        raise ValueError(
            f"this database already holds a demo branch (code '{DEMO_CODE}'): "
            "build the demo in a new database"
        )
    logins = (SENIOR_LOGIN, SUPERVISOR_LOGIN, ANALYST_LOGIN)
    taken = session.scalars(select(User.login).where(User.login.in_(logins))).all()
    if taken:
        raise ValueError(f"this database already has users named {', '.join(sorted(taken))}")
    as_of = as_of or local_date(utcnow())
    pilot_start = pilot_start_for(as_of)
    rng = random.Random(seed)
    people = People(random.Random(seed + 101))

    state.report(0.0, Message("progress.drawing_grids"))
    cells, unmatched = build_grids(n_grids=spec.grids, seed=seed)
    check(state)

    state.report(0.03, Message("progress.hiring_teams"))
    branch = Branch(
        code=DEMO_CODE,
        name=f"{CITY}分公司（演示）",
        city=CITY,
        timezone="Asia/Shanghai",
        grace_days=60,
        pilot_start=pilot_start,
    )
    session.add(branch)
    session.flush()
    teams = plan_teams(cells, spec.teams, rng, people)
    team_rows = [
        Team(branch_id=branch.id, code=t.code, name=t.name, supervisor_name=t.supervisor)
        for t in teams
    ]
    session.add_all(team_rows)
    session.flush()
    for t, row in zip(teams, team_rows, strict=True):
        t.id = row.id
    specs = plan_specialists(
        teams,
        n_specs=spec.specialists,
        n_leave=spec.on_leave,
        n_left=spec.left,
        n_equity=spec.equity_gaps,
        pilot_start=pilot_start,
        as_of=as_of,
        rng=rng,
        people=people,
    )
    ids = _Ids(session)
    _write_specialists(session, specs, teams, branch.id, spec.customers, rng, ids)
    ownership = plan_ownership(
        teams,
        specs,
        n_grids=len(cells),
        n_gaps=spec.gaps,
        n_moves=max(1, round(0.04 * len(cells))),
        pilot_start=pilot_start,
        as_of=as_of,
        rng=rng,
        cells=cells,
    )
    grid_ids = _write_grids(session, cells, specs, ownership, branch.id, ids)
    users = _write_users(session, branch.id, teams, people)
    check(state)

    agents = plan_agents(
        n_customers=spec.customers,
        as_of=as_of,
        pilot_start=pilot_start,
        districts=[(d.name, sum(c.district == d.name for c in cells)) for d in DISTRICTS],
        next_id=ids,
        rng=rng,
        people=people,
    )
    _insert(session, "agent", agent_rows(agents, branch.id))
    book = BookWriter(
        seed=seed + 1000,
        branch_id=branch.id,
        as_of=as_of,
        pilot_start=pilot_start,
        cells=cells,
        grid_ids=grid_ids,
        teams=teams,
        specs=specs,
        ownership=ownership,
        unmatched_places=unmatched,
        extra_policies=spec.extra_policies,
        next_id=ids,
    )
    done = buffered = 0
    for agent in agents:
        for _ in range(agent.customers):
            book.customer(agent)
            buffered += 1
        if buffered >= spec.chunk or agent is agents[-1]:
            for table, rows in book.take_rows().items():
                _insert(session, table, rows)
            done += buffered
            buffered = 0
            state.report(0.05 + 0.8 * done / spec.customers, Message("progress.writing_customers"))
            check(state)
    # One agent left this morning: their customers wait for intake, the Intake page's work.
    waiting = AgentPlan(
        id=ids("agent"),
        code="",
        name=people.name()[0],
        left_on=as_of,
        district=DISTRICTS[0].name,
        customers=WAITING_CUSTOMERS,
    )
    waiting = replace(waiting, code=f"DA{waiting.id:06d}")
    _insert(session, "agent", agent_rows([waiting], branch.id))
    for i in range(waiting.customers):
        # The first one's address matches no grid: the Intake page always has that case.
        book.customer(waiting, unmatched=i == 0)
    for table, rows in book.take_rows().items():
        _insert(session, table, rows)
    tasks_taken_back = _leave_waiting(session, waiting.id)
    _sync_sequences(session, ids)
    return DemoSummary(
        branch_id=branch.id,
        grids=len(cells),
        teams=len(teams),
        specialists=len(specs),
        customers=ids.count("customer"),
        policies=ids.count("policy"),
        dues=ids.count("premium_due"),
        tasks=ids.count("task") - tasks_taken_back,
        users=users,
    )


def _leave_waiting(session: Session, agent_id: int) -> int:
    """Leave the agent's customers as a branch finds them the morning after the agent left:
    no grid, specialist, pool entry, task, SMS or history yet (their policies and dues are
    there). Return the number of tasks taken back."""
    from sqlalchemy import delete, update

    from app.models import AssignmentEvent, Customer, Notification, Task

    theirs = select(Customer.id).where(Customer.agent_id == agent_id)
    tasks = session.scalar(
        select(func.count()).select_from(Task).where(Task.customer_id.in_(theirs))
    )
    for model in (Notification, AssignmentEvent, Task):
        session.execute(delete(model).where(model.customer_id.in_(theirs)))
    session.execute(
        update(Customer)
        .where(Customer.agent_id == agent_id)
        .values(
            grid_id=None, match_method=None, specialist_id=None, pool_entered_on=None, step=0,
            pre_sell_on=None, soft_sell_on=None, cross_sell_on=None, up_sell_on=None,
        )
    )  # fmt: skip
    return int(tasks or 0)


def _write_specialists(
    session: Session,
    specs: list[SpecPlan],
    teams: list[TeamPlan],
    branch_id: int,
    customers: int,
    rng: random.Random,
    ids: _Ids,
) -> None:
    active = sum(1 for s in specs if s.active)
    expected = customers * 0.97 / max(1, active)
    rows = []
    for s in specs:
        s.id = ids("specialist")
        s.capacity = int(round(expected * rng.uniform(0.85, 1.3), -1))
        rows.append(
            {
                "id": s.id,
                "branch_id": branch_id,
                "employee_no": s.employee_no,
                "name": s.name,
                "phone": s.phone,
                "team_id": teams[s.team].id,
                "contract_type": s.contract.value,
                "hire_date": s.hire_date,
                "status": s.status.value,
                "left_on": s.left_on,
                "capacity": s.capacity,
                "version": 1,
            }
        )
    _insert(session, "specialist", rows)


def _write_grids(
    session: Session,
    cells: list[GridCell],
    specs: list[SpecPlan],
    ownership: Ownership,
    branch_id: int,
    ids: _Ids,
) -> list[int]:
    """Insert the grids with today's owners and their ownership history; return their ids."""
    grid_ids = [ids("grid") for _ in cells]
    rows, events = [], []
    for k, (cell, gid) in enumerate(zip(cells, grid_ids, strict=True)):
        geom = cell.geometry
        minx, miny, maxx, maxy = geom.bounds
        centroid = geom.centroid
        owner = ownership.current(k)
        rows.append(
            {
                "id": gid,
                "branch_id": branch_id,
                "code": cell.code,
                "name": cell.name,
                "district": cell.district,
                "geometry": cell.geojson(),
                "communities": json.dumps(list(cell.communities), ensure_ascii=False),
                "status": GridStatus.ACTIVE.value,
                "min_lon": minx,
                "min_lat": miny,
                "max_lon": maxx,
                "max_lat": maxy,
                "centroid_lon": centroid.x,
                "centroid_lat": centroid.y,
                "owner_id": None if owner is None else specs[owner].id,
                "locked": False,
                "version": 1,
            }
        )
        for ch in ownership.changes[k]:
            events.append(
                {
                    "id": ids("assignment_event"),
                    "customer_id": None,
                    "grid_id": gid,
                    "task_id": None,
                    "from_specialist_id": None if ch.old is None else specs[ch.old].id,
                    "to_specialist_id": None if ch.new is None else specs[ch.new].id,
                    "reason": AssignmentReason(ch.reason).value,
                    "actor": ch.actor,
                    "at": ch.at,
                    "effective_on": local_date(ch.at),
                    "batch_id": None,
                }
            )
    _insert(session, "grid", rows)
    _insert(session, "assignment_event", events)
    return grid_ids


def _write_users(
    session: Session, branch_id: int, teams: list[TeamPlan], people: People
) -> list[tuple[str, str, str]]:
    """Create the senior supervisor, the first team's supervisor and an analyst."""
    plan = (
        (SENIOR_LOGIN, people.name()[0], Role.SENIOR_SUPERVISOR, ()),
        (SUPERVISOR_LOGIN, teams[0].supervisor, Role.SUPERVISOR, (teams[0].id,)),
        (ANALYST_LOGIN, people.name()[0], Role.ANALYST, ()),
    )
    # One hash for the three: argon2 is slow on purpose (~0.2 s each), the password is public,
    # and a first start should not wait for it three times.
    password_hash = hash_password(DEMO_PASSWORD)
    for login, display, role, team_ids in plan:
        user = User(
            branch_id=branch_id,
            login=login,
            display_name=display,
            role=role,
            password_hash=password_hash,
        )
        user.teams = [session.get_one(Team, tid) for tid in team_ids]
        session.add(user)
    session.flush()
    return [(login, role.value, DEMO_PASSWORD) for login, _, role, _ in plan]
