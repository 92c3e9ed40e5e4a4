"""What a supervisor does to a proposed plan before applying it: drop moves, send a move to
someone else, give grids to someone (on the map), and see what that makes of every
specialist's workload and customers."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from app.services.rebalance.offers import GridOffer
from app.services.rebalance.plan import Plan, PlanError, PlanMove, PlanSpecialist
from app.services.rebalance.problem import CUSTOMER, GRID


def edit_plan(
    plan: Plan, *, dropped: Collection[int] = (), targets: Mapping[int, str] | None = None
) -> Plan:
    """Return ``plan`` with the moves at the ``dropped`` indices left out and the moves at the
    indices of ``targets`` going to the given employee numbers instead (indices are those of
    ``plan.moves``); loads and versions recomputed. Raises PlanError for a target that is not
    in the plan or is the move's own source."""
    edited = plan
    for i, employee_no in sorted((targets or {}).items()):
        if i not in dropped and employee_no != plan.moves[i].to_no:
            edited = edited.with_target(i, employee_no)
    for i in sorted(set(dropped), reverse=True):
        edited = edited.without(i)
    return edited


def allowed_targets(
    plan: Plan,
    move_index: int,
    *,
    may_cross_teams: bool,
    excluded: Collection[str] = (),
) -> list[PlanSpecialist]:
    """Return who may take the move at ``move_index``: the plan's specialists other than the
    move's source and ``excluded`` (someone leaving), of the source's team unless the user may
    move work across teams; by team then employee number."""
    move = plan.moves[move_index]
    source = plan.specialist(move.from_no)
    return sorted(
        (
            s
            for s in plan.specialists
            if s.employee_no != move.from_no
            and s.employee_no not in excluded
            and (may_cross_teams or s.team_code == source.team_code)
        ),
        key=lambda s: (s.team_code, s.employee_no),
    )


@dataclass(frozen=True)
class Edits:
    """A plan as proposed, with any grids added to it by hand, and the supervisor's changes to
    its moves: those dropped (indices into ``plan.moves``) and those sent to someone else
    (index -> employee number)."""

    plan: Plan
    dropped: frozenset[int] = frozenset()
    targets: Mapping[int, str] = field(default_factory=dict)

    def edited(self) -> Plan:
        """Return the plan these edits make (see :func:`edit_plan`)."""
        return edit_plan(self.plan, dropped=self.dropped, targets=self.targets)


def grid_sources(
    plan: Plan, grid_codes: Iterable[str], offers: Mapping[str, GridOffer]
) -> dict[str, str]:
    """Return grid code -> employee number of who gives the grid: the source of the plan's
    move of it, else its owner; grids neither moved by the plan nor offered are left out."""
    moved = {m.grid_code: m.from_no for m in plan.moves if m.kind == GRID}
    out = {}
    for code in grid_codes:
        if code in moved:
            out[code] = moved[code]
        elif code in offers:
            out[code] = offers[code].owner_no
    return out


def allowed_takers(
    plan: Plan,
    sources: Collection[str],
    *,
    may_cross_teams: bool,
    excluded: Collection[str] = (),
) -> list[PlanSpecialist]:
    """Return who may take grids from the ``sources`` (employee numbers) as :func:`allowed_targets`
    does for one move: the plan's specialists but ``excluded``, of the sources' team unless the
    user may move work across teams; the sources themselves included (a grid given back to its
    owner stays). By team then employee number; nobody for no source."""
    if not sources:
        return []
    teams = {plan.specialist(no).team_code for no in sources}
    return sorted(
        (
            s
            for s in plan.specialists
            if s.employee_no not in excluded and (may_cross_teams or teams == {s.team_code})
        ),
        key=lambda s: (s.team_code, s.employee_no),
    )


def give_grids(
    edits: Edits,
    grid_codes: Iterable[str],
    to_no: str,
    offers: Mapping[str, GridOffer],
    *,
    may_cross_teams: bool,
    excluded: Collection[str] = (),
) -> Edits:
    """Return ``edits`` with every grid of ``grid_codes`` given to ``to_no``.

    A grid the plan moves already is redirected (its move kept, as ticking it and editing "To"
    does); a grid the plan leaves alone is added as a whole-grid move from its owner, carrying
    the load, customers, versions and disruption of its offer (:func:`.offers.read_grid_offers`);
    its customers the plan moves one by one go with the grid instead (those moves dropped). A
    grid given to whoever gives it drops its move (and those of its customers). Raises
    PlanError, changing nothing, for a target outside the plan or not allowed to take one of
    the grids, and for a grid outside the plan's scope or locked."""
    plan = edits.plan
    try:
        target = plan.specialist(to_no)
    except KeyError:
        raise PlanError("plan.not_covered", specialist=to_no) from None
    if to_no in excluded:
        raise PlanError("plan.excluded", specialist=to_no)
    codes = list(dict.fromkeys(grid_codes))
    sources = grid_sources(plan, codes, offers)
    for code in codes:
        if code not in sources:
            raise PlanError("plan.grid_outside", grid=code)
        if code in offers and offers[code].locked and code not in _moved(plan):
            raise PlanError("plan.grid_locked", grid=code)
        source = plan.specialist(sources[code])
        if not may_cross_teams and source.team_code != target.team_code:
            raise PlanError(
                "plan.giving_crosses_teams", grid=code, source=source.employee_no, target=to_no
            )
    dropped, targets = set(edits.dropped), dict(edits.targets)
    added: list[GridOffer] = []
    moved = _moved(plan)
    for code in codes:
        if code in moved:
            i = moved[code]
            _redirect(plan.moves[i], i, to_no, dropped, targets)
            continue
        offer = offers[code]
        following = set(offer.customer_ids)
        for i, m in enumerate(plan.moves):
            if m.kind == CUSTOMER and m.grid_code == code and m.customer_id in following:
                dropped.add(i)
                targets.pop(i, None)
        if to_no != offer.owner_no:
            added.append(offer)
    if added:
        plan = plan.with_added_moves(
            [
                PlanMove(
                    kind=GRID,
                    grid_id=o.grid_id,
                    grid_code=o.code,
                    from_no=o.owner_no,
                    to_no=to_no,
                    load=o.load,
                    customers=o.customers,
                    disruption=o.disruption,
                    broken=o.broken,
                )
                for o in added
            ],
            grid_versions={o.grid_id: o.version for o in added},
            customer_versions={
                c: v
                for o in added
                for c, v in zip(o.customer_ids, o.customer_versions, strict=True)
            },
            grid_customers={o.grid_id: o.customer_ids for o in added},
        )
    return Edits(plan, frozenset(dropped), targets)


def _moved(plan: Plan) -> dict[str, int]:
    """Grid code -> index of the plan's whole-grid move of it."""
    return {m.grid_code: i for i, m in enumerate(plan.moves) if m.kind == GRID}


def _redirect(
    move: PlanMove, i: int, to_no: str, dropped: set[int], targets: dict[int, str]
) -> None:
    """Send move ``i`` to ``to_no`` in the edits (dropped when that is its source)."""
    if to_no == move.from_no:
        dropped.add(i)
        targets.pop(i, None)
        return
    dropped.discard(i)
    if to_no == move.to_no:
        targets.pop(i, None)
    else:
        targets[i] = to_no


@dataclass(frozen=True)
class WorkloadChange:
    """One specialist's workload and customers before and after a plan."""

    employee_no: str
    name: str
    team_code: str
    capacity: int
    load_before: float
    load_after: float
    customers_before: int
    customers_after: int

    @property
    def change(self) -> float:
        return self.load_after - self.load_before

    @property
    def over_capacity(self) -> bool:
        """Ends above capacity and above what they serve today (a plan never makes that)."""
        return self.customers_after > max(self.capacity, self.customers_before)


def workload_changes(plan: Plan) -> list[WorkloadChange]:
    """Return every specialist of the plan with workload and customers before and after, in the
    plan's order (team code, then employee number)."""
    after = plan.loads_after()
    customers = {s.employee_no: s.customers for s in plan.specialists}
    for m in plan.moves:
        customers[m.from_no] -= m.customers
        customers[m.to_no] += m.customers
    return [
        WorkloadChange(
            employee_no=s.employee_no,
            name=s.name,
            team_code=s.team_code,
            capacity=s.capacity,
            load_before=s.load,
            load_after=after[s.employee_no],
            customers_before=s.customers,
            customers_after=customers[s.employee_no],
        )
        for s in plan.specialists
    ]


def describe_counts(plan: Plan) -> tuple[int, int, int]:
    """Return (grid moves, customer moves, customers moved in all) of the plan."""
    grids = sum(1 for m in plan.moves if m.kind == "grid")
    customers = sum(m.customers for m in plan.moves)
    return grids, len(plan.moves) - grids, customers


__all__ = [
    "Edits",
    "PlanError",
    "WorkloadChange",
    "allowed_takers",
    "allowed_targets",
    "describe_counts",
    "edit_plan",
    "give_grids",
    "grid_sources",
    "workload_changes",
]
