"""Rebalancing scenarios: a proposal kept in the database under a name, with its settings (the
plan file's JSON holds them: weights, limits, move costs, the step kept in place), who kept it
and when; listed, loaded back, compared side by side with another scenario or with today, and
deleted.

A supervisor keeps and sees the scenarios of their own teams only (a plan limited to one of
them); a senior supervisor those of the whole branch. Applying a scenario is applying its plan
(:func:`app.services.rebalance.apply.apply_plan`), so one no longer based on the current
assignments is refused with StaleData naming the moves that were overtaken.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.models import Grid, Scenario, Specialist, Team
from app.models.base import utcnow
from app.services.errors import NotAllowed, NotFound
from app.services.messages import Message
from app.services.rebalance.plan import Plan, PlanError
from app.services.rebalance.plan_file import plan_from_json
from app.services.rebalance.problem import GRID
from app.services.rebalance.workload import workloads

NAME_MAX = 100
# What ``compare`` takes, in place of a scenario's name, for the assignments as they are.
TODAY = "today"


@dataclass(frozen=True)
class ScenarioInfo:
    """A kept scenario as the list shows it."""

    id: int
    name: str
    author: str
    created_at: datetime
    team_code: str | None  # None: the whole branch (or several teams)
    as_of: date
    moves: int
    customers_moved: int
    largest_before: float
    largest_after: float
    max_moves: int | None
    max_distance_km: float | None
    keep_from_step: int | None


def keep_scenario(
    session: Session,
    plan: Plan,
    *,
    name: str,
    author: str,
    team_scope: Collection[int] | None,
    branch_scope: int | None,
) -> ScenarioInfo:
    """Store ``plan`` as a scenario named ``name`` in the caller's transaction and return it.

    Raises PlanError for a name that is empty, too long or taken in the branch, NotAllowed for
    a plan of another branch than ``branch_scope`` or, for a user limited to ``team_scope``,
    one not limited to one of their teams."""
    name = " ".join(name.split())
    if not name:
        raise PlanError("scenario.name_empty")
    if len(name) > NAME_MAX:
        raise PlanError("scenario.name_too_long", maximum=NAME_MAX)
    if branch_scope is not None and plan.branch_id != branch_scope:
        raise NotAllowed("scenario.other_branch", branch=plan.branch_code)
    teams = dict(
        session.execute(
            select(Team.code, Team.id).where(
                Team.branch_id == plan.branch_id, Team.code.in_(list(plan.scope))
            )
        ).all()
    )
    if set(teams) != set(plan.scope):
        raise PlanError("scenario.other_database_teams")
    team_id = teams[plan.scope[0]] if len(plan.scope) == 1 else None
    outside = {s.team_code for s in plan.specialists} - set(plan.scope)
    if team_scope is not None and (team_id not in team_scope or (plan.scope and outside)):
        raise NotAllowed("scenario.own_team_only")
    taken = session.scalar(
        select(Scenario.id).where(Scenario.branch_id == plan.branch_id, Scenario.name == name)
    )
    if taken is not None:
        raise PlanError("scenario.name_taken", name=name)
    row = Scenario(
        branch_id=plan.branch_id,
        team_id=team_id,
        name=name,
        author=author,
        created_at=utcnow(),
        plan=json.dumps(plan.to_json(), ensure_ascii=False),
    )
    session.add(row)
    session.flush()
    return _info(row, plan, plan.scope[0] if team_id is not None else None)


def list_scenarios(
    session: Session, *, branch_id: int, team_scope: Collection[int] | None
) -> list[ScenarioInfo]:
    """Return the scenarios the user may see, newest first."""
    query = (
        select(Scenario, Team.code)
        .outerjoin(Team, Team.id == Scenario.team_id)
        .where(*_visible(branch_id, team_scope))
        .order_by(Scenario.created_at.desc(), Scenario.id.desc())
    )
    return [_info(row, _plan(row), code) for row, code in session.execute(query)]


def load_scenario(
    session: Session, name: str, *, branch_id: int, team_scope: Collection[int] | None
) -> Plan:
    """Return the plan kept as scenario ``name``; NotFound when the user has none of that
    name."""
    return _plan(_row(session, name, branch_id, team_scope))


def rename_scenario(
    session: Session,
    name: str,
    new_name: str,
    *,
    branch_id: int,
    team_scope: Collection[int] | None,
) -> str:
    """Rename scenario ``name`` in the caller's transaction and return the new name (spaces
    tidied). Raises NotFound when the user has none of that name, PlanError for a new name
    that is empty, too long or taken in the branch."""
    row = _row(session, name, branch_id, team_scope)
    new = " ".join(new_name.split())
    if not new:
        raise PlanError("scenario.name_empty")
    if len(new) > NAME_MAX:
        raise PlanError("scenario.name_too_long", maximum=NAME_MAX)
    if new != row.name:
        taken = session.scalar(
            select(Scenario.id).where(Scenario.branch_id == row.branch_id, Scenario.name == new)
        )
        if taken is not None:
            raise PlanError("scenario.name_taken", name=new)
        row.name = new
        session.flush()
    return new


def delete_scenario(
    session: Session, name: str, *, branch_id: int, team_scope: Collection[int] | None
) -> None:
    """Delete scenario ``name`` in the caller's transaction (NotFound when the user has none
    of that name)."""
    session.delete(_row(session, name, branch_id, team_scope))
    session.flush()


# --- comparing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a scenario once applied, or today."""

    name: str  # the scenario's, or TODAY
    as_of: date
    moves: int
    customers_moved: int
    sms: int
    relationships_broken: int
    largest: float
    # Customers above capacity, added up over specialists, and who is above it.
    above_capacity: int
    over_capacity: tuple[str, ...]  # employee numbers

    @property
    def is_today(self) -> bool:
        return self.name == TODAY


@dataclass(frozen=True)
class CompareRow:
    """One specialist's customers and workload on each side (None: not in that side's scope)."""

    employee_no: str
    name: str
    team_code: str
    capacity: int
    left_customers: int | None
    left_load: float | None
    right_customers: int | None
    right_load: float | None


@dataclass(frozen=True)
class OwnerDiff:
    """A grid whose owner differs between the two sides (employee numbers and names)."""

    grid_code: str
    left_no: str | None
    left_name: str
    right_no: str | None
    right_name: str


@dataclass(frozen=True)
class Comparison:
    left: Side
    right: Side
    rows: tuple[CompareRow, ...]
    grids: tuple[OwnerDiff, ...]


@dataclass(frozen=True)
class _State:
    side: Side
    specialists: dict[str, tuple[str, str, int]]  # employee no -> name, team code, capacity
    customers: dict[str, int]
    loads: dict[str, float]
    owners: dict[int, str]  # grid id -> employee no, for the grids the plan moves


def compare(
    session: Session,
    left: str,
    right: str,
    *,
    branch_id: int,
    team_scope: Collection[int] | None,
    as_of: date,
) -> Comparison:
    """Return scenario ``left`` against scenario ``right`` (or TODAY, the assignments as they
    are on ``as_of``), each as it would be once applied: every specialist's customers and
    workload, who ends above capacity, customers moved, SMS, and the grids whose owner
    differs. A scenario's figures are those its plan was made with; today's are read now, with
    the weights of the scenario it is compared with."""
    if left == TODAY and right == TODAY:
        raise PlanError("scenario.compare_with_today_twice")
    if left == TODAY:
        flipped = compare(
            session, right, left, branch_id=branch_id, team_scope=team_scope, as_of=as_of
        )
        return _flip(flipped)
    first = load_scenario(session, left, branch_id=branch_id, team_scope=team_scope)
    a = _scenario_state(left, first)
    if right == TODAY:
        b = _today_state(session, first, branch_id, team_scope, as_of)
    else:
        second = load_scenario(session, right, branch_id=branch_id, team_scope=team_scope)
        b = _scenario_state(right, second)
    return Comparison(
        left=a.side,
        right=b.side,
        rows=_rows(a, b),
        grids=_owner_diffs(session, a, b, {**b.specialists, **a.specialists}),
    )


def _scenario_state(name: str, plan: Plan) -> _State:
    after = plan.customers_after()
    loads = plan.loads_after()
    specialists = {s.employee_no: (s.name, s.team_code, s.capacity) for s in plan.specialists}
    over = tuple(sorted(no for no, (_n, _t, cap) in specialists.items() if after[no] > cap))
    side = Side(
        name=name,
        as_of=plan.as_of,
        moves=len(plan.moves),
        customers_moved=plan.customers_moved,
        sms=plan.customers_moved,
        relationships_broken=plan.relationships_broken,
        largest=plan.after_max,
        above_capacity=plan.above_capacity,
        over_capacity=over,
    )
    owners = {m.grid_id: m.to_no for m in plan.moves if m.kind == GRID}
    return _State(side, specialists, after, loads, owners)


def _today_state(
    session: Session,
    plan: Plan,
    branch_id: int,
    team_scope: Collection[int] | None,
    as_of: date,
) -> _State:
    ids = [s.id for s in plan.specialists]
    people = workloads(
        session, branch_id=branch_id, as_of=as_of, weights=plan.weights, specialist_ids=ids
    )
    if team_scope is not None:
        people = [p for p in people if p.team_id in team_scope]
    specialists = {p.employee_no: (p.name, p.team_code, p.capacity) for p in people}
    customers = {p.employee_no: p.customers for p in people}
    over = tuple(sorted(p.employee_no for p in people if p.customers > p.capacity))
    side = Side(
        name=TODAY,
        as_of=as_of,
        moves=0,
        customers_moved=0,
        sms=0,
        relationships_broken=0,
        largest=max((p.load for p in people), default=0.0),
        above_capacity=sum(max(0, p.customers - p.capacity) for p in people),
        over_capacity=over,
    )
    return _State(side, specialists, customers, {p.employee_no: p.load for p in people}, {})


def _rows(a: _State, b: _State) -> tuple[CompareRow, ...]:
    merged = {**b.specialists, **a.specialists}
    order = sorted(merged, key=lambda no: (merged[no][1], no))
    return tuple(
        CompareRow(
            employee_no=no,
            name=merged[no][0],
            team_code=merged[no][1],
            capacity=merged[no][2],
            left_customers=a.customers.get(no),
            left_load=a.loads.get(no),
            right_customers=b.customers.get(no),
            right_load=b.loads.get(no),
        )
        for no in order
    )


def _owner_diffs(
    session: Session, a: _State, b: _State, names: dict[str, tuple[str, str, int]]
) -> tuple[OwnerDiff, ...]:
    """The grids either side gives to someone else, whose owners then differ; a grid a side
    does not move keeps today's owner there."""
    grid_ids = sorted(set(a.owners) | set(b.owners))
    if not grid_ids:
        return ()
    owner = aliased(Specialist)
    today = {
        gid: (code, no, name)
        for gid, code, no, name in session.execute(
            select(Grid.id, Grid.code, owner.employee_no, owner.name)
            .outerjoin(owner, owner.id == Grid.owner_id)
            .where(Grid.id.in_(grid_ids))
        )
    }
    out = []
    for gid in grid_ids:
        if gid not in today:
            continue  # deleted since: nothing to show
        code, now_no, now_name = today[gid]
        left, right = a.owners.get(gid, now_no), b.owners.get(gid, now_no)
        if left != right:
            out.append(
                OwnerDiff(
                    code,
                    left,
                    _name(left, names, now_no, now_name),
                    right,
                    _name(right, names, now_no, now_name),
                )
            )
    return tuple(sorted(out, key=lambda d: d.grid_code))


def _name(
    no: str | None, names: dict[str, tuple[str, str, int]], now_no: str | None, now_name: str
) -> str:
    """Return the name of specialist ``no`` (empty for nobody)."""
    if no is None:
        return ""
    if no in names:
        return names[no][0]
    return now_name if no == now_no else no


def _flip(c: Comparison) -> Comparison:
    return Comparison(
        left=c.right,
        right=c.left,
        rows=tuple(
            CompareRow(
                r.employee_no,
                r.name,
                r.team_code,
                r.capacity,
                r.right_customers,
                r.right_load,
                r.left_customers,
                r.left_load,
            )
            for r in c.rows
        ),
        grids=tuple(
            OwnerDiff(d.grid_code, d.right_no, d.right_name, d.left_no, d.left_name)
            for d in c.grids
        ),
    )


# --- reading rows ---------------------------------------------------------------------------


def _visible(branch_id: int, team_scope: Collection[int] | None) -> list:
    where = [Scenario.branch_id == branch_id]
    if team_scope is not None:
        where.append(Scenario.team_id.in_(sorted(team_scope)))
    return where


def _row(
    session: Session, name: str, branch_id: int, team_scope: Collection[int] | None
) -> Scenario:
    row = session.scalar(
        select(Scenario).where(
            *_visible(branch_id, team_scope), Scenario.name == " ".join(name.split())
        )
    )
    if row is None:
        raise NotFound("scenario.not_found", name=name)
    return row


def _plan(row: Scenario) -> Plan:
    try:
        data = json.loads(row.plan)
    except json.JSONDecodeError:
        raise PlanError("scenario.unreadable", name=row.name) from None
    return plan_from_json(data, source=Message("named.scenario", name=row.name))


def _info(row: Scenario, plan: Plan, team_code: str | None) -> ScenarioInfo:
    return ScenarioInfo(
        id=row.id,
        name=row.name,
        author=row.author,
        created_at=row.created_at,
        team_code=team_code,
        as_of=plan.as_of,
        moves=len(plan.moves),
        customers_moved=plan.customers_moved,
        largest_before=plan.before_max,
        largest_after=plan.after_max,
        max_moves=plan.max_moves,
        max_distance_km=plan.max_distance_km,
        keep_from_step=plan.keep_from_step,
    )
