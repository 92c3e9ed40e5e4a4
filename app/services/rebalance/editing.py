"""What a supervisor does to a proposed plan before applying it: drop moves, send a move to
someone else, and see what that makes of every specialist's workload and customers."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from app.services.rebalance.plan import Plan, PlanError, PlanSpecialist


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
    "PlanError",
    "WorkloadChange",
    "allowed_targets",
    "describe_counts",
    "edit_plan",
    "workload_changes",
]
