"""Making a rebalancing plan from the database: read the workloads, run the optimiser, and
record the versions of every row the moves rely on."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Branch, Team
from app.models.base import utcnow
from app.services.messages import Message
from app.services.progress import JobState, NullState
from app.services.rebalance.capacity import capacity_limits
from app.services.rebalance.disruption import (
    Candidate,
    FrontierPoint,
    MoveCosts,
    frontier,
    knee,
)
from app.services.rebalance.followers import followers
from app.services.rebalance.optimise import propose
from app.services.rebalance.plan import Plan, PlanError, PlanMove, PlanSpecialist, sequence
from app.services.rebalance.problem import (
    CUSTOMER,
    GRID,
    SAFETY_LIMIT_S,
    CustomerItem,
    GridItem,
    Move,
    Proposal,
    SpecialistItem,
)
from app.services.rebalance.relationships import (
    Disruption,
    customer_disruption,
    grid_disruption,
)
from app.services.rebalance.workload import (
    GridLoad,
    SpecialistLoad,
    Weights,
    due_premium,
    following_customers,
    grid_loads,
    step_locked,
    workloads,
)


def make_plan(
    session: Session,
    *,
    branch_id: int,
    as_of: date,
    team_ids: Collection[int] | None = None,
    weights: Weights = Weights(),  # noqa: B008 - frozen
    max_moves: int | None = None,
    max_distance_km: float | None = None,
    allow_customer_moves: bool = True,
    time_limit_s: float = SAFETY_LIMIT_S,
    move_costs: MoveCosts = MoveCosts(),  # noqa: B008 - frozen
    pick: str | int = "knee",
    keep_from_step: int | None = None,
    state: JobState | None = None,
) -> Plan:
    """Return a proposed plan for the branch (or the given teams), with the versions it relies
    on and the trade-off it was chosen from.

    The optimiser finds the moves that bring the largest workload down the most within the
    rules; ``frontier`` (:mod:`app.services.rebalance.disruption`) then gives the plans between
    that and the fewest moves, weighing each moved customer by ``move_costs``. ``pick`` chooses
    the plan returned: "knee" (where more disruption stops buying much balance), "balance" (the
    best balance at the least disruption) or a point's index. Every point stays reachable
    through ``Plan.at_point``. With ``keep_from_step`` (1-4), customers who reached that 4-sell
    step or a later one stay with their specialist as locked customers do: they neither follow
    a moved grid nor move alone, and the plan records the step and how many it holds back.
    The search is limited by work, so the same data and settings give the same plan;
    ``time_limit_s`` is only a safety net."""
    state = state or NullState()
    if keep_from_step is not None and not 1 <= keep_from_step <= 4:
        raise PlanError("plan.keep_step", step=keep_from_step)
    keep = keep_from_step
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise PlanError("branch.not_found", branch=branch_id)
    state.report(0.05, Message("progress.reading_workloads"))
    # The premium due is read once for the specialists' loads and the grids'.
    due = due_premium(session, branch_id=branch_id, as_of=as_of, keep_from_step=keep)
    people = workloads(session, branch_id=branch_id, as_of=as_of, weights=weights, due=due)
    grids = grid_loads(
        session, branch_id=branch_id, as_of=as_of, weights=weights, keep_from_step=keep, due=due
    )
    scope_codes: tuple[str, ...] = ()
    if team_ids is not None:
        scope_codes = tuple(
            sorted(session.scalars(select(Team.code).where(Team.id.in_(list(team_ids)))))
        )
        people_in = [p for p in people if p.team_id in set(team_ids)]
    else:
        people_in = people
    in_scope = {p.specialist_id for p in people_in}
    state.report(0.2, Message("progress.reading_heavy_grids"))
    items, specs = _items(
        session,
        grids,
        people_in,
        as_of=as_of,
        weights=weights,
        keep_from_step=keep,
        allow_customer_moves=allow_customer_moves,
    )
    # What moving each grid that may move would break: the optimiser weighs its other plans
    # by it.
    state.report(0.25, Message("progress.weighing_disruption"))
    hurt_grids = grid_disruption(
        session,
        [g.grid_id for g in grids if g.owner_id in in_scope and not g.locked],
        as_of=as_of,
        costs=move_costs,
        keep_from_step=keep,
    )
    state.report(0.3, Message("progress.looking_for_moves"))
    proposal = propose(
        items,
        specs,
        max_moves=max_moves,
        max_distance_km=max_distance_km,
        allow_customer_moves=allow_customer_moves,
        time_limit_s=time_limit_s,
        grid_costs={g: d.cost for g, d in hurt_grids.items()},
    )
    state.report(0.9, Message("progress.writing_plan"))
    every_move, best, alternatives = _every_move(proposal)
    grid_by_id = {g.grid_id: g for g in grids}
    person = {p.specialist_id: p for p in people_in}
    moved_grids = sorted({m.grid_id for m in every_move if m.kind == GRID})
    split_ids = {m.customer_id for m in proposal.moves if m.kind == CUSTOMER}
    grid_customers, customer_versions, numbers = _following(
        session, moved_grids, proposal.moves, keep_from_step=keep
    )
    hurt_customers = customer_disruption(
        session, {c for c in split_ids if c is not None}, as_of=as_of, costs=move_costs
    )

    def hurt(m) -> Disruption:
        if m.kind == GRID:
            return hurt_grids.get(m.grid_id, Disruption())
        return hurt_customers.get(m.customer_id, Disruption())

    moves = tuple(
        PlanMove(
            kind=m.kind,
            grid_id=m.grid_id,
            grid_code=grid_by_id[m.grid_id].code,
            customer_id=m.customer_id,
            customer_no=numbers.get(m.customer_id) if m.customer_id is not None else None,
            from_no=person[m.from_id].employee_no,
            to_no=person[m.to_id].employee_no,
            load=m.load,
            customers=m.customers,
            disruption=hurt(m).cost,
            broken=hurt(m).broken,
        )
        for m in every_move
    )
    points = _frontier(
        [Candidate(m.from_id, m.to_id, m.load, m.customers, hurt(m).cost) for m in every_move],
        people_in,
        best=best,
        plans=alternatives,
    )
    specialists = tuple(PlanSpecialist.of(p) for p in people_in)
    state.report(1.0, Message("progress.plan_ready"))
    full = Plan(
        created_at=utcnow(),
        as_of=as_of,
        branch_id=branch.id,
        branch_code=branch.code,
        scope=scope_codes,
        weights=weights,
        max_moves=max_moves,
        max_distance_km=max_distance_km,
        lower_bound=proposal.lower_bound,
        specialists=specialists,
        moves=sequence(moves, {s.employee_no: s.load for s in specialists}),
        # Each as read with its owner (grid_loads), not read again: a grid that changed in
        # between would otherwise be recorded as the plan's (see handover._lived_in_versions).
        grid_versions={
            g: grid_by_id[g].version for g in sorted({m.grid_id for m in moves} | set(moved_grids))
        },
        customer_versions=customer_versions,
        grid_customers={g: tuple(v) for g, v in grid_customers.items()},
        move_costs=move_costs,
        solver_failures=proposal.solver_failures,
        clock_stops=proposal.clock_stops,
        frontier=tuple(points),
        keep_from_step=keep,
        step_locked=0
        if keep is None
        else step_locked(session, branch_id=branch_id, keep_from_step=keep, team_ids=team_ids),
    )
    if not points:  # only the best plan's moves: the others belong to no point
        return full._with_moves(tuple(moves[i] for i in best))
    index = (
        knee(points, before_max=full.before_max)
        if pick == "knee"
        else 0
        if pick == "balance"
        else int(pick)
    )
    return full.at_point(index)


def _items(
    session: Session,
    grids: list[GridLoad],
    people_in: list[SpecialistLoad],
    *,
    as_of: date,
    weights: Weights,
    keep_from_step: int | None,
    allow_customer_moves: bool,
) -> tuple[list[GridItem], list[SpecialistItem]]:
    """Return the grids and specialists as the optimiser reads them, with the customers of the
    grids that could be too heavy on their own (they may move alone)."""
    in_scope = {p.specialist_id for p in people_in}
    # Customer-level items only for grids that could be too heavy on their own.
    mean = sum(p.load for p in people_in) / len(people_in) if people_in else 0.0
    split_candidates = [
        g.grid_id for g in grids if g.owner_id in in_scope and not g.locked and g.load > mean / 2
    ]
    by_grid: dict[int, list[CustomerItem]] = {}
    if allow_customer_moves and split_candidates:
        for c in following_customers(
            session, split_candidates, as_of=as_of, weights=weights, keep_from_step=keep_from_step
        ):
            by_grid.setdefault(c.grid_id, []).append(CustomerItem(c.customer_id, c.load))
    items = [
        GridItem(
            id=g.grid_id,
            owner_id=g.owner_id,
            load=g.load,
            customers=g.customers,
            centroid=g.centroid,
            neighbours=g.neighbours,
            locked=g.locked,
            customer_items=tuple(by_grid.get(g.grid_id, ())),
        )
        for g in grids
    ]
    specs = [
        SpecialistItem(p.specialist_id, p.load, p.customers, p.capacity, p.team_id)
        for p in people_in
    ]
    return items, specs


def _every_move(proposal: Proposal) -> tuple[list[Move], list[int], list[list[int]]]:
    """Return every plan's moves in one list (the best plan's first, each move once), the
    indices of the best plan's and those of each other plan's."""
    every_move = list(proposal.moves)
    index_of = {(m.kind, m.grid_id, m.customer_id, m.to_id): i for i, m in enumerate(every_move)}
    best = list(range(len(every_move)))
    alternatives: list[list[int]] = []
    for alternative in proposal.alternatives:
        chosen = []
        for m in alternative:
            key = (m.kind, m.grid_id, m.customer_id, m.to_id)
            if key not in index_of:
                index_of[key] = len(every_move)
                every_move.append(m)
            chosen.append(index_of[key])
        alternatives.append(chosen)
    return every_move, best, alternatives


def _following(
    session: Session,
    moved_grids: list[int],
    moves: tuple[Move, ...],
    *,
    keep_from_step: int | None,
) -> tuple[dict[int, list[int]], dict[int, int], dict[int, str]]:
    """Return the customers following each moved grid, the version of every customer a plan
    moves (the apply checks them) and the numbers of those who move alone (``moves``)."""
    grid_customers: dict[int, list[int]] = {g: [] for g in moved_grids}
    customer_versions: dict[int, int] = {}
    for f in followers(session, moved_grids, keep_from_step=keep_from_step):
        grid_customers[f.grid_id].append(f.customer_id)
        customer_versions[f.customer_id] = f.version
    split_ids = {m.customer_id for m in moves if m.kind == CUSTOMER}
    numbers: dict[int, str] = {}
    if split_ids:
        split_grids = {m.grid_id for m in moves if m.kind == CUSTOMER}
        for f in followers(session, split_grids, keep_from_step=keep_from_step):
            if f.customer_id in split_ids:
                customer_versions[f.customer_id] = f.version
                numbers[f.customer_id] = f.customer_no
    return grid_customers, customer_versions, numbers


def _frontier(
    candidates: list[Candidate],
    people_in: list[SpecialistLoad],
    *,
    best: list[int],
    plans: list[list[int]],
) -> list[FrontierPoint]:
    """Return the trade-off's points (:func:`~app.services.rebalance.disruption.frontier`),
    no move handed back that would put its giver above their capacity limit."""
    ids = [p.specialist_id for p in people_in]
    limits = capacity_limits(sum(p.customers for p in people_in), [p.capacity for p in people_in])
    return frontier(
        candidates,
        loads={p.specialist_id: p.load for p in people_in},
        customers={p.specialist_id: p.customers for p in people_in},
        capacity={p.specialist_id: p.capacity for p in people_in},
        limits=dict(zip(ids, limits, strict=True)),
        best=best,
        plans=plans,
    )
