"""A specialist leaves (or goes on leave): a plan that hands all their grids and customers to
the others in scope (their team, or the branch when a senior supervisor widens it), balancing
the workloads with the rebalancer's optimiser. It is an ordinary :class:`Plan`, applied and
undone like any rebalance.

Each of the leaver's unlocked grids may go to a specialist owning a grid next to it (or within
the distance limit); a grid with no such neighbour may go to the owners of the three nearest
grids. Their customers elsewhere go to the owner of the grid they live in when that owner is in
scope, otherwise to whoever carries least. What a plan cannot move is reported, not hidden:
locked grids and customers, customers without a grid, and open tasks held for customers who
stay. The supervisor may then give the unlocked customers left behind (those in locked grids or
without a grid) to one specialist in scope: :func:`~.left_behind.with_left_behind` adds them to the plan as
single-customer moves, applied and undone with the rest (:mod:`.left_behind`).
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Branch, Customer, Grid, Specialist, Team
from app.models.base import utcnow
from app.services.database.sqlfuncs import chunks
from app.services.errors import NotFound
from app.services.leaving.left_behind import Handover, LeftBehind, customer_loads, tasks_staying
from app.services.messages import Message
from app.services.progress import JobState, NullState
from app.services.rebalance.capacity import capacity_limits, fit_capacity
from app.services.rebalance.followers import followers
from app.services.rebalance.optimise import lp_bound
from app.services.rebalance.plan import Plan, PlanError, PlanMove, PlanSpecialist, sequence
from app.services.rebalance.problem import (
    CUSTOMER,
    GRID,
    SAFETY_LIMIT_S,
    Problem,
    clock_stops,
    distance_km,
)
from app.services.rebalance.workload import (
    GridLoad,
    SpecialistLoad,
    Weights,
    due_premium,
    grid_loads,
    grid_versions,
    workloads,
)

NEAREST_OWNERS = 3


def make_handover_plan(
    session: Session,
    *,
    specialist_id: int,
    as_of: date,
    team_ids: Collection[int] | None,
    weights: Weights = Weights(),  # noqa: B008 - frozen
    max_distance_km: float | None = None,
    time_limit_s: float = SAFETY_LIMIT_S,
    state: JobState | None = None,
) -> Handover:
    """Return the plan that hands everything the specialist holds to the active specialists of
    ``team_ids`` (None: the whole branch), keeping the largest workload as low as it can, and
    what it leaves behind. Raises NotFound, or PlanError when nobody is there to take over."""
    state = state or NullState()
    row = session.execute(
        select(Specialist.branch_id, Specialist.employee_no).where(Specialist.id == specialist_id)
    ).first()
    if row is None:
        raise NotFound("specialist.not_found", specialist=specialist_id)
    branch_id, leaver_no = row
    branch = session.get(Branch, branch_id)
    assert branch is not None
    state.report(0.05, Message("progress.reading_workloads"))
    scope = None if team_ids is None else set(team_ids)
    due = due_premium(session, branch_id=branch_id, as_of=as_of)
    (leaver,) = workloads(
        session,
        branch_id=branch_id,
        as_of=as_of,
        weights=weights,
        specialist_ids=[specialist_id],
        due=due,
    )
    targets = [
        p
        for p in workloads(session, branch_id=branch_id, as_of=as_of, weights=weights, due=due)
        if p.specialist_id != specialist_id and (scope is None or p.team_id in scope)
    ]
    if not targets:
        raise PlanError("handover.nobody_to_take_over", leaver=leaver_no)
    grids = grid_loads(session, branch_id=branch_id, as_of=as_of, weights=weights, due=due)
    own = [g for g in grids if g.owner_id == specialist_id]
    movable = [g for g in own if not g.locked]
    locked_codes = tuple(g.code for g in own if g.locked)

    state.report(0.3, Message("progress.choosing_owners"))
    from app.services.rebalance.highs import failures  # HiGHS loads only when a plan is made

    with failures() as failed, clock_stops() as stopped:
        bound, grid_moves, loads, cust = _new_grid_owners(
            movable, grids, targets, max_distance_km, time_limit_s
        )

    state.report(0.8, Message("progress.handing_over"))
    moved_grid_ids = {g.grid_id for g, _ in grid_moves}
    customer_moves, counts = _new_customer_owners(
        session, specialist_id, own, grids, targets, moved_grid_ids, loads, cust, as_of, weights
    )

    moved_customers = {f.customer_id for f in followers(session, moved_grid_ids)}
    moved_customers |= {c[0] for c in customer_moves}
    staying = tasks_staying(session, specialist_id, moved_customers)

    return Handover(
        plan=replace(
            _plan(
                session,
                branch,
                leaver,
                targets,
                team_ids,
                weights,
                max_distance_km,
                bound,
                grid_moves,
                customer_moves,
                _grid_codes(session, [c[2] for c in customer_moves]),
                {g.grid_id: g.version for g in grids},
                as_of,
            ),
            solver_failures=tuple(failed),
            clock_stops=tuple(stopped),
        ),
        leaver_no=leaver_no,
        left_behind=LeftBehind(
            locked_grids=locked_codes,
            locked_customers=counts["locked"],
            customers_in_locked_grids=counts["in_locked_grid"],
            customers_without_grid=counts["no_grid"],
            open_tasks_staying=staying,
        ),
    )


def _new_grid_owners(
    movable: list[GridLoad],
    grids: list[GridLoad],
    targets: list[SpecialistLoad],
    max_distance_km: float | None,
    time_limit_s: float,
) -> tuple[float, list[tuple[GridLoad, SpecialistLoad]], dict[int, float], dict[int, int]]:
    """Give each movable grid a new owner, first within the targets' capacities (or an equal
    share above them when they have too little), then keeping the largest workload as low as
    the search finds (limited by work; ``time_limit_s`` is a safety net); return the LP bound, the moves by grid code and each target's
    load and customers afterwards."""
    problem = _problem(movable, grids, targets, max_distance_km)
    deadline = time.perf_counter() + max(0.05, time_limit_s)
    assign: list[int] = []
    bound = max((p.load for p in targets), default=0.0)
    if problem.n_grids:
        from app.services.rebalance.search import solve

        start = fit_capacity(problem, max_moves=None, deadline=deadline)
        bound, fractional, pairs = lp_bound(problem, max_moves=None)
        assign = solve(
            problem,
            start=start,
            max_moves=None,
            lower_bound=bound,
            fractional=fractional,
            pairs=pairs,
            deadline=deadline,
        )
    loads = {p.specialist_id: p.load for p in targets}
    cust = {p.specialist_id: p.customers for p in targets}
    grid_moves = []
    by_id = {g.grid_id: g for g in movable}
    for k, s in enumerate(assign):
        g = by_id[problem.grid_ids[k]]
        to = targets[s]
        loads[to.specialist_id] += g.load
        cust[to.specialist_id] += g.customers
        grid_moves.append((g, to))
    grid_moves.sort(key=lambda m: m[0].code)
    return bound, grid_moves, loads, cust


def _new_customer_owners(
    session: Session,
    specialist_id: int,
    own: list[GridLoad],
    grids: list[GridLoad],
    targets: list[SpecialistLoad],
    moved_grid_ids: set[int],
    loads: dict[int, float],
    cust: dict[int, int],
    as_of: date,
    weights: Weights,
) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    """Give the leaver's customers outside moved grids each a new specialist: the owner of
    their grid when in scope, else whoever has room and the least load (``loads`` and ``cust``
    are updated); return those moves and how many customers stay (locked, in a locked grid,
    without a grid)."""
    locked_grid_ids = {g.grid_id for g in own if g.locked}
    owner_of = {g.grid_id: g.owner_id for g in grids}
    by_person = {p.specialist_id: p for p in targets}
    rest = session.execute(
        select(
            Customer.id, Customer.customer_no, Customer.grid_id, Customer.locked, Customer.version
        )
        .where(Customer.specialist_id == specialist_id)
        .order_by(Customer.customer_no)
    ).all()
    counts = {"locked": 0, "in_locked_grid": 0, "no_grid": 0}
    singles = []
    for cid, no, gid, locked, version in rest:
        if locked:
            counts["locked"] += 1
        elif gid is None:
            counts["no_grid"] += 1
        elif gid in locked_grid_ids:
            counts["in_locked_grid"] += 1
        elif gid not in moved_grid_ids:
            singles.append((cid, no, gid, version))
    single_loads = customer_loads(session, [c[0] for c in singles], specialist_id, as_of, weights)
    customer_moves = []
    for cid, no, gid, version in singles:
        load, tasks = single_loads.get(cid, (weights.load(1, 0, 0), 0))
        owner = owner_of.get(gid)
        if owner in by_person:
            to = by_person[owner]
        else:
            to = min(
                targets, key=lambda p: (cust[p.specialist_id] >= p.capacity, loads[p.specialist_id])
            )
        loads[to.specialist_id] += load
        cust[to.specialist_id] += 1
        customer_moves.append((cid, no, gid, version, load, to))
    return customer_moves, counts


def _problem(
    movable: list[GridLoad],
    grids: list[GridLoad],
    targets: list[SpecialistLoad],
    max_distance_km: float | None,
) -> Problem:
    """Return the optimiser's problem: the leaver's grids, each starting with the target that
    a largest-first greedy gives it, movable among the targets near it."""
    spec_index = {p.specialist_id: i for i, p in enumerate(targets)}
    by_id = {g.grid_id: g for g in grids}
    owned = [g for g in grids if g.owner_id in spec_index]
    load = [p.load for p in targets]
    cust = [p.customers for p in targets]
    # Capacity first: when the targets cannot take everything within capacity, the excess is
    # spread in proportion to capacity (see capacity_limits).
    total = sum(cust) + sum(g.customers for g in movable)
    cap = capacity_limits(total, [p.capacity for p in targets])
    eligible: list[list[int]] = []
    for g in movable:
        elig = []
        for h in g.neighbours:
            other = by_id.get(h)
            if other is not None and other.owner_id in spec_index:
                elig.append(spec_index[other.owner_id])
        if max_distance_km is not None:
            elig += [
                spec_index[o.owner_id]  # type: ignore[index]
                for o in owned
                if distance_km(g.centroid, o.centroid) <= max_distance_km
            ]
        if not elig:
            nearest = sorted(owned, key=lambda o: distance_km(g.centroid, o.centroid))
            for o in nearest:
                i = spec_index[o.owner_id]  # type: ignore[index]
                if i not in elig:
                    elig.append(i)
                if len(elig) == NEAREST_OWNERS:
                    break
        if not elig:  # nobody in scope owns any grid: anyone may take it
            elig = list(range(len(targets)))
        eligible.append(sorted(set(elig)))
    # Largest grids first, each to whoever it leaves lowest (within capacity if possible).
    start = [0] * len(movable)
    for k in sorted(range(len(movable)), key=lambda k: -movable[k].load):
        g = movable[k]
        t = min(
            eligible[k],
            key=lambda i: (cust[i] + g.customers > cap[i], load[i] + g.load),
        )
        start[k] = t
        load[t] += g.load
        cust[t] += g.customers
    for k, elig in enumerate(eligible):  # the starting holder first, as the optimiser expects
        elig.remove(start[k])
        elig.insert(0, start[k])
    base = [p.load for p in targets]
    return Problem(
        spec_ids=[p.specialist_id for p in targets],
        grid_ids=[g.grid_id for g in movable],
        owner=start,
        gload=[float(g.load) for g in movable],
        gcust=[int(g.customers) for g in movable],
        eligible=eligible,
        base=base,
        base_cust=[p.customers for p in targets],
        cap=cap,
        load0=list(base),
        grid_index={g.grid_id: k for k, g in enumerate(movable)},
        spec_index=spec_index,
        limit=cap,
    )


def _grid_codes(session: Session, ids: list[int]) -> dict[int, str]:
    """Return grid id -> code (retired grids included)."""
    codes: dict[int, str] = {}
    for chunk in chunks(sorted(set(ids))):
        codes.update(session.execute(select(Grid.id, Grid.code).where(Grid.id.in_(chunk))).all())
    return codes


def _plan(
    session: Session,
    branch: Branch,
    leaver: SpecialistLoad,
    targets: list[SpecialistLoad],
    team_ids: Collection[int] | None,
    weights: Weights,
    max_distance_km: float | None,
    bound: float,
    grid_moves: list[tuple[GridLoad, SpecialistLoad]],
    customer_moves: list[tuple[int, str, int, int, float, SpecialistLoad]],
    grid_codes: dict[int, str],
    seen_versions: dict[int, int],
    as_of: date,
) -> Plan:
    """The plan of the moves chosen. ``seen_versions``: the version of each grid in the row
    its owner was read from (:func:`grid_loads`), which the plan records for the grids its
    single customers live in."""
    scope: tuple[str, ...] = ()
    if team_ids is not None:
        scope = tuple(sorted(session.scalars(select(Team.code).where(Team.id.in_(list(team_ids))))))
    moved_grids = [g.grid_id for g, _ in grid_moves]
    grid_customers: dict[int, list[int]] = {g: [] for g in moved_grids}
    customer_versions: dict[int, int] = {}
    for f in followers(session, moved_grids):
        grid_customers[f.grid_id].append(f.customer_id)
        customer_versions[f.customer_id] = f.version
    moves = [
        PlanMove(
            kind=GRID,
            grid_id=g.grid_id,
            grid_code=g.code,
            from_no=leaver.employee_no,
            to_no=to.employee_no,
            load=g.load,
            customers=g.customers,
        )
        for g, to in grid_moves
    ]
    for cid, no, gid, version, load, to in customer_moves:
        customer_versions[cid] = version
        moves.append(
            PlanMove(
                kind=CUSTOMER,
                grid_id=gid,
                grid_code=grid_codes[gid],
                customer_id=cid,
                customer_no=no,
                from_no=leaver.employee_no,
                to_no=to.employee_no,
                load=load,
                customers=1,
            )
        )
    people = [leaver, *targets]
    specialists = tuple(PlanSpecialist.of(p) for p in people)
    return Plan(
        created_at=utcnow(),
        as_of=as_of,
        branch_id=branch.id,
        branch_code=branch.code,
        scope=scope,
        weights=weights,
        max_moves=None,
        max_distance_km=max_distance_km,
        lower_bound=bound,
        specialists=specialists,
        moves=sequence(tuple(moves), {s.employee_no: s.load for s in specialists}),
        grid_versions={
            **_lived_in_versions(session, moves, seen_versions),
            **{g.grid_id: g.version for g, _ in grid_moves},
        },
        customer_versions=customer_versions,
        grid_customers={g: tuple(v) for g, v in grid_customers.items()},
    )


def _lived_in_versions(
    session: Session, moves: list[PlanMove], seen_versions: dict[int, int]
) -> dict[int, int]:
    """Return the version of each grid a single customer of the plan lives in, as it was when
    its owner was read: a customer goes to the owner of their grid, and apply refuses the plan
    when that grid changed since. Read again later, the version could be that of a change
    made in between (under READ COMMITTED, and on SQLite outside a transaction, each statement
    sees what was committed before it): a grid that went to the leaver, customers and all,
    would then give those customers back to its former owner with nothing seen as changed
    (the load test's grid of 18 customers apart from its owner). Grids not read with an owner
    (retired ones: their customers go to whoever carries least) are read now."""
    lived_in = {m.grid_id for m in moves if m.kind == CUSTOMER and m.grid_id is not None}
    found = grid_versions(session, [g for g in lived_in if g not in seen_versions])
    found.update({g: seen_versions[g] for g in lived_in if g in seen_versions})
    return found
