"""Rebalancing plans: made from the database by the optimiser, edited by the supervisor (drop a
move, send it to someone else), written to and read from a JSON file (:mod:`.plan_file`), then
applied.

A plan remembers the version of every row it depends on (the grids and customers it moves and
the specialists involved) and who held what, so applying it later can tell exactly what someone
else changed in between.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from app.services.errors import DomainError
from app.services.rebalance.disruption import FrontierPoint, MoveCosts
from app.services.rebalance.problem import CUSTOMER, GRID
from app.services.rebalance.workload import SpecialistLoad, Weights

PLAN_FORMAT = "griddesk-rebalance-plan"
PLAN_VERSION = 1


class PlanError(DomainError, ValueError):
    """A plan that cannot be made, edited, kept or applied as asked, or a plan file that
    cannot be read (its message names the file and what is wrong with it)."""


@dataclass(frozen=True)
class PlanSpecialist:
    id: int
    employee_no: str
    name: str
    team_code: str
    capacity: int
    customers: int
    load: float
    version: int

    @classmethod
    def of(cls, p: SpecialistLoad) -> PlanSpecialist:
        """Return the plan's record of a specialist's workload as read for the proposal."""
        return cls(
            id=p.specialist_id,
            employee_no=p.employee_no,
            name=p.name,
            team_code=p.team_code,
            capacity=p.capacity,
            customers=p.customers,
            load=p.load,
            version=p.version,
        )


@dataclass(frozen=True)
class PlanMove:
    """One move. ``from_no``/``to_no`` are employee numbers; the loads are those of the two
    specialists just before and just after this move, taking the moves above it in order."""

    kind: str  # "grid" or "customer"
    grid_id: int
    grid_code: str
    from_no: str
    to_no: str
    load: float
    customers: int
    customer_id: int | None = None
    customer_no: str | None = None
    from_before: float = 0.0
    from_after: float = 0.0
    to_before: float = 0.0
    to_after: float = 0.0
    # What the move breaks: weighted disruption (MoveCosts) and customers at step 2 or more.
    disruption: float = 0.0
    broken: int = 0


@dataclass(frozen=True)
class Plan:
    created_at: datetime
    as_of: date
    branch_id: int
    branch_code: str
    # Team codes the plan is limited to; empty for the whole branch.
    scope: tuple[str, ...]
    weights: Weights
    max_moves: int | None
    max_distance_km: float | None
    lower_bound: float
    specialists: tuple[PlanSpecialist, ...]
    moves: tuple[PlanMove, ...]
    # Versions as the plan saw them: grid id, customer id and specialist id -> version.
    # The versions of the grids the plan moves, and of those its single customers live in
    # (a customer given to a grid's owner is not given once the grid changed hands).
    grid_versions: Mapping[int, int] = field(default_factory=dict)
    customer_versions: Mapping[int, int] = field(default_factory=dict)
    # Customers expected to follow each moved grid (the owner's unlocked customers in it).
    grid_customers: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    # What a moved customer costs (the plan records the costs it was made with).
    move_costs: MoveCosts = MoveCosts()  # noqa: RUF009 - frozen
    # The trade-off the proposal offered (best balance first) and the point this plan is.
    frontier: tuple[FrontierPoint, ...] = ()
    point: int | None = None
    # Customers at this 4-sell step or a later one stay with their specialist (None: nobody
    # is kept for their step), and how many unlocked customers in scope that held back.
    keep_from_step: int | None = None
    step_locked: int = 0
    # The solver steps that failed while the plan was made (it is then what the other steps
    # found); recorded in the plan file.
    solver_failures: tuple[str, ...] = ()
    # The optimiser's steps its safety net stopped before their work was done (a very slow or
    # busy computer: the plan may differ from one made again); recorded in the plan file.
    clock_stops: tuple[str, ...] = ()
    # The best-balance proposal every point is made from (not saved in the plan file).
    origin: Plan | None = field(default=None, repr=False, compare=False)

    # --- what it costs ---------------------------------------------------------------------

    @property
    def customers_moved(self) -> int:
        """Customers who get a new specialist (and an SMS saying so)."""
        return sum(m.customers for m in self.moves)

    @property
    def relationships_broken(self) -> int:
        """Moved customers who had reached 4-sell step 2 or more."""
        return sum(m.broken for m in self.moves)

    @property
    def disruption(self) -> float:
        return sum(m.disruption for m in self.moves)

    def at_point(self, index: int) -> Plan:
        """Return the plan of the frontier's point ``index`` (the moves it keeps)."""
        source = self.origin or self
        if not 0 <= index < len(source.frontier):
            raise IndexError(f"the proposal has {len(source.frontier)} plans; no plan {index + 1}")
        keep = source.frontier[index].keep
        chosen = source._with_moves(tuple(source.moves[i] for i in keep), point=True)
        return replace(chosen, point=index, origin=source)

    # --- reading ---------------------------------------------------------------------------

    def specialist(self, employee_no: str) -> PlanSpecialist:
        for s in self.specialists:
            if s.employee_no == employee_no:
                return s
        raise KeyError(employee_no)

    @property
    def specialist_versions(self) -> dict[int, int]:
        """Specialist id -> version, for the specialists the moves involve."""
        involved = {m.from_no for m in self.moves} | {m.to_no for m in self.moves}
        return {s.id: s.version for s in self.specialists if s.employee_no in involved}

    def loads_before(self) -> dict[str, float]:
        """Employee number -> workload when the plan was made."""
        return {s.employee_no: s.load for s in self.specialists}

    def loads_after(self) -> dict[str, float]:
        """Employee number -> workload once every move is applied."""
        loads = self.loads_before()
        for m in self.moves:
            loads[m.from_no] -= m.load
            loads[m.to_no] += m.load
        return loads

    @property
    def before_max(self) -> float:
        return max(self.loads_before().values(), default=0.0)

    @property
    def after_max(self) -> float:
        return max(self.loads_after().values(), default=0.0)

    def customers_after(self) -> dict[str, int]:
        """Employee number -> customers once every move is applied."""
        cust = {s.employee_no: s.customers for s in self.specialists}
        for m in self.moves:
            cust[m.from_no] -= m.customers
            cust[m.to_no] += m.customers
        return cust

    @property
    def above_capacity(self) -> int:
        """Customers above capacity once the plan is applied, added up over specialists."""
        after = self.customers_after()
        return sum(max(0, after[s.employee_no] - s.capacity) for s in self.specialists)

    @property
    def capacity_short(self) -> int:
        """By how many customers the capacity of the specialists who serve customers after the
        plan falls short of those customers (0 when there is room for all of them)."""
        after = self.customers_after()
        serving = [s for s in self.specialists if after[s.employee_no] > 0]
        return max(0, sum(after[s.employee_no] for s in serving) - sum(s.capacity for s in serving))

    def over_capacity(self) -> list[str]:
        """Return the employee numbers who end with more customers than their capacity and
        more than they have today: an edited plan may do that, and so may a proposal when
        bringing the most customers within capacity takes a few over someone else's (the
        fewest customers above capacity in total come first)."""
        cust = {s.employee_no: s.customers for s in self.specialists}
        for m in self.moves:
            cust[m.from_no] -= m.customers
            cust[m.to_no] += m.customers
        return [
            s.employee_no
            for s in self.specialists
            if cust[s.employee_no] > max(s.capacity, s.customers)
        ]

    # --- editing ---------------------------------------------------------------------------

    def without(self, move_index: int) -> Plan:
        """Return the plan without the move at ``move_index`` (loads recomputed)."""
        self._check_index(move_index)
        moves = self.moves[:move_index] + self.moves[move_index + 1 :]
        return self._with_moves(moves)

    def with_target(self, move_index: int, employee_no: str) -> Plan:
        """Return the plan with the move at ``move_index`` going to ``employee_no`` instead."""
        self._check_index(move_index)
        move = self.moves[move_index]
        try:
            self.specialist(employee_no)
        except KeyError:
            raise PlanError("plan.not_covered", specialist=employee_no) from None
        if employee_no == move.from_no:
            raise PlanError("plan.same_target", move=move_index + 1, specialist=employee_no)
        moves = list(self.moves)
        moves[move_index] = replace(move, to_no=employee_no)
        return self._with_moves(tuple(moves))

    def with_added_moves(
        self,
        moves: Sequence[PlanMove],
        *,
        grid_versions: Mapping[int, int],
        customer_versions: Mapping[int, int],
        grid_customers: Mapping[int, tuple[int, ...]],
    ) -> Plan:
        """Return the plan with ``moves`` after its own (loads recomputed), recording the
        versions they rely on and the customers following their grids, so the apply checks
        them as it checks the proposal's own. An edit: no longer a point of the frontier."""
        widened = replace(
            self,
            origin=None,
            point=None,
            frontier=(),
            grid_versions={**self.grid_versions, **grid_versions},
            customer_versions={**self.customer_versions, **customer_versions},
            grid_customers={**self.grid_customers, **grid_customers},
        )
        return widened._with_moves(self.moves + tuple(moves))

    def _check_index(self, i: int) -> None:
        if not 0 <= i < len(self.moves):
            raise IndexError(f"the plan has {len(self.moves)} moves; there is no move {i + 1}")

    def _with_moves(self, moves: tuple[PlanMove, ...], *, point: bool = False) -> Plan:
        """Return the plan with ``moves``: an edit, no longer a point of the frontier (unless
        ``point``: a point's moves, taken from the full proposal)."""
        if not point and (self.origin is not None or self.frontier):
            return replace(self, origin=None, point=None, frontier=())._with_moves(moves)
        grids = {m.grid_id for m in moves if m.kind == GRID}
        customers = {m.customer_id for m in moves if m.kind == CUSTOMER}
        for g in grids:
            customers.update(self.grid_customers.get(g, ()))
        # The grids single customers live in keep their versions too: apply checks them.
        lived_in = grids | {m.grid_id for m in moves if m.kind == CUSTOMER}
        return replace(
            self,
            moves=sequence(moves, self.loads_before()),
            grid_versions={g: v for g, v in self.grid_versions.items() if g in lived_in},
            customer_versions={c: v for c, v in self.customer_versions.items() if c in customers},
            grid_customers={g: c for g, c in self.grid_customers.items() if g in grids},
        )

    # --- the file --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """Return the plan as the JSON document the plan file holds."""
        return {
            "format": PLAN_FORMAT,
            "format_version": PLAN_VERSION,
            "created_at": self.created_at.isoformat(),
            "as_of": self.as_of.isoformat(),
            "branch": {"id": self.branch_id, "code": self.branch_code},
            "scope": {"teams": list(self.scope)} if self.scope else "branch",
            "weights": self.weights.as_dict(),
            "max_moves": self.max_moves,
            "max_distance_km": self.max_distance_km,
            "move_costs": self.move_costs.as_dict(),
            "keep_from_step": self.keep_from_step,
            "solver_failures": list(self.solver_failures),
            "stopped_by_clock": list(self.clock_stops),
            "summary": {
                "moves": len(self.moves),
                "largest_load_before": round(self.before_max, 3),
                "largest_load_after": round(self.after_max, 3),
                "lower_bound": round(self.lower_bound, 3),
                "customers_moved": self.customers_moved,
                "relationships_broken": self.relationships_broken,
                "sms": self.customers_moved,
                "disruption": round(self.disruption, 3),
                "customers_kept_by_step": self.step_locked,
            },
            "specialists": [
                {
                    "id": s.id,
                    "employee_no": s.employee_no,
                    "name": s.name,
                    "team": s.team_code,
                    "capacity": s.capacity,
                    "customers": s.customers,
                    "load": round(s.load, 6),
                    "version": s.version,
                }
                for s in self.specialists
            ],
            "moves": [
                {
                    "kind": m.kind,
                    "grid_id": m.grid_id,
                    "grid_code": m.grid_code,
                    "customer_id": m.customer_id,
                    "customer_no": m.customer_no,
                    "from": m.from_no,
                    "to": m.to_no,
                    "load": round(m.load, 6),
                    "customers": m.customers,
                    "from_load_before": round(m.from_before, 3),
                    "from_load_after": round(m.from_after, 3),
                    "to_load_before": round(m.to_before, 3),
                    "to_load_after": round(m.to_after, 3),
                    "disruption": round(m.disruption, 6),
                    "relationships_broken": m.broken,
                }
                for m in self.moves
            ],
            "base_versions": {
                "grids": {str(k): v for k, v in sorted(self.grid_versions.items())},
                "customers": {str(k): v for k, v in sorted(self.customer_versions.items())},
                "specialists": {str(k): v for k, v in sorted(self.specialist_versions.items())},
            },
            "grid_customers": {str(k): list(v) for k, v in sorted(self.grid_customers.items())},
        }


def sequence(moves: tuple[PlanMove, ...], loads: dict[str, float]) -> tuple[PlanMove, ...]:
    """Return the moves with before/after loads taken in order from ``loads``."""
    loads = dict(loads)
    out = []
    for m in moves:
        fb, tb = loads[m.from_no], loads[m.to_no]
        loads[m.from_no] = fb - m.load
        loads[m.to_no] = tb + m.load
        out.append(
            replace(
                m,
                from_before=fb,
                from_after=loads[m.from_no],
                to_before=tb,
                to_after=loads[m.to_no],
            )
        )
    return tuple(out)
