"""Rebalancing plans: made from the database by the optimiser, edited by the supervisor (drop a
move, send it to someone else), written to and read from a JSON file, then applied.

A plan remembers the version of every row it depends on (the grids and customers it moves and
the specialists involved) and who held what, so applying it later can tell exactly what someone
else changed in between.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from app.services.atomic import atomic_path
from app.services.rebalance.disruption import FrontierPoint, MoveCosts
from app.services.rebalance.optimise import CUSTOMER, GRID
from app.services.rebalance.workload import SpecialistLoad, Weights

PLAN_FORMAT = "griddesk-rebalance-plan"
PLAN_VERSION = 1


class PlanError(ValueError):
    """A plan that cannot be used, with a message naming the file and what is wrong with it."""


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
    grid_versions: Mapping[int, int] = field(default_factory=dict)
    customer_versions: Mapping[int, int] = field(default_factory=dict)
    # Customers expected to follow each moved grid (the owner's unlocked customers in it).
    grid_customers: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    # What a moved customer costs (the plan records the costs it was made with).
    move_costs: MoveCosts = MoveCosts()  # noqa: RUF009 - frozen
    # The trade-off the proposal offered (best balance first) and the point this plan is.
    frontier: tuple[FrontierPoint, ...] = ()
    point: int | None = None
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

    def over_capacity(self) -> list[str]:
        """Return the employee numbers who end with more customers than their capacity and
        more than they have today (an edited plan may do that; a proposal never does)."""
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
            raise PlanError(
                f"{employee_no} is not one of the specialists this plan covers"
            ) from None
        if employee_no == move.from_no:
            raise PlanError(f"move {move_index + 1} already comes from {employee_no}")
        moves = list(self.moves)
        moves[move_index] = replace(move, to_no=employee_no)
        return self._with_moves(tuple(moves))

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
        return replace(
            self,
            moves=sequence(moves, self.loads_before()),
            grid_versions={g: v for g, v in self.grid_versions.items() if g in grids},
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
            "summary": {
                "moves": len(self.moves),
                "largest_load_before": round(self.before_max, 3),
                "largest_load_after": round(self.after_max, 3),
                "lower_bound": round(self.lower_bound, 3),
                "customers_moved": self.customers_moved,
                "relationships_broken": self.relationships_broken,
                "sms": self.customers_moved,
                "disruption": round(self.disruption, 3),
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


def write_plan(path: str | Path, plan: Plan) -> Path:
    """Write the plan file (UTF-8 JSON, Chinese names kept readable) and return its path."""
    path = Path(path)
    text = json.dumps(plan.to_json(), ensure_ascii=False, indent=2)
    # It names customers and specialists: written whole, owner-only, as every export is.
    with atomic_path(path) as partial:
        partial.write_text(text + "\n", encoding="utf-8")
    return path


def read_plan(path: str | Path) -> Plan:
    """Return the plan in a plan file; raise PlanError naming the file and the problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise PlanError(f"{path}: no such plan file") from None
    except UnicodeDecodeError:
        raise PlanError(f"{path}: not a text file (a plan is UTF-8 JSON)") from None
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return plan_from_json(data, source=str(path))


def plan_from_json(data: Any, *, source: str = "plan") -> Plan:
    """Return the plan a JSON document describes; raise PlanError naming what is wrong."""
    r = _Reader(source)
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise PlanError(f'{source}: not a GridDesk rebalancing plan (no "format": "{PLAN_FORMAT}")')
    if data.get("format_version") != PLAN_VERSION:
        raise PlanError(
            f"{source}: plan format version {data.get('format_version')!r} is not supported "
            f"(this GridDesk reads version {PLAN_VERSION})"
        )
    branch = r.obj(data, "branch")
    scope_raw = data.get("scope", "branch")
    if scope_raw == "branch":
        scope: tuple[str, ...] = ()
    elif isinstance(scope_raw, dict) and isinstance(scope_raw.get("teams"), list):
        scope = tuple(str(t) for t in scope_raw["teams"])
    else:
        raise PlanError(f'{source}: "scope" must be "branch" or {{"teams": [...]}}')
    w = r.obj(data, "weights")
    weights = Weights(
        customer=r.number(w, "customer", "weights"),
        open_task=r.number(w, "open_task", "weights"),
        premium_per_10k_yuan=r.number(w, "premium_per_10k_yuan", "weights"),
    )
    specialists = []
    for i, s in enumerate(r.items(data, "specialists")):
        where = f"specialist {i + 1}"
        specialists.append(
            PlanSpecialist(
                id=r.whole(s, "id", where),
                employee_no=r.text(s, "employee_no", where),
                name=r.text(s, "name", where),
                team_code=r.text(s, "team", where),
                capacity=r.whole(s, "capacity", where),
                customers=r.whole(s, "customers", where),
                load=r.number(s, "load", where),
                version=r.whole(s, "version", where),
            )
        )
    known = {s.employee_no for s in specialists}
    moves = []
    for i, m in enumerate(r.items(data, "moves")):
        where = f"move {i + 1}"
        kind = r.text(m, "kind", where)
        if kind not in (GRID, CUSTOMER):
            raise PlanError(f'{source}: {where}: "kind" must be "grid" or "customer", not {kind!r}')
        move = PlanMove(
            kind=kind,
            grid_id=r.whole(m, "grid_id", where),
            grid_code=r.text(m, "grid_code", where),
            customer_id=r.whole(m, "customer_id", where) if kind == CUSTOMER else None,
            customer_no=r.text(m, "customer_no", where) if kind == CUSTOMER else None,
            from_no=r.text(m, "from", where),
            to_no=r.text(m, "to", where),
            load=r.number(m, "load", where),
            customers=r.whole(m, "customers", where),
            disruption=r.number(m, "disruption", where) if "disruption" in m else 0.0,
            broken=r.whole(m, "relationships_broken", where) if "relationships_broken" in m else 0,
        )
        for who in (move.from_no, move.to_no):
            if who not in known:
                raise PlanError(f"{source}: {where}: specialist {who} is not in the plan's list")
        if move.from_no == move.to_no:
            raise PlanError(f"{source}: {where}: moves from {move.from_no} to the same person")
        moves.append(move)
    base = r.obj(data, "base_versions")
    grid_versions = r.id_map(base, "grids", "base_versions")
    customer_versions = r.id_map(base, "customers", "base_versions")
    grid_customers_raw = r.obj(data, "grid_customers")
    grid_customers: dict[int, tuple[int, ...]] = {}
    for k, v in grid_customers_raw.items():
        if not isinstance(v, list) or not all(isinstance(x, int) for x in v):
            raise PlanError(f'{source}: "grid_customers" of grid {k} must be a list of ids')
        grid_customers[r.key(k, "grid_customers")] = tuple(v)
    for i, m in enumerate(moves):
        if m.kind == GRID and m.grid_id not in grid_versions:
            raise PlanError(f"{source}: move {i + 1}: grid {m.grid_code} has no base version")
        if m.kind == CUSTOMER and m.customer_id not in customer_versions:
            raise PlanError(f"{source}: move {i + 1}: customer {m.customer_no} has no base version")
    try:
        created_at = datetime.fromisoformat(r.text(data, "created_at", "plan"))
        as_of = date.fromisoformat(r.text(data, "as_of", "plan"))
    except ValueError as exc:
        raise PlanError(f"{source}: a date in the plan cannot be read ({exc})") from None
    max_moves = data.get("max_moves")
    if max_moves is not None and (not isinstance(max_moves, int) or max_moves < 0):
        raise PlanError(f'{source}: "max_moves" must be a whole number or null')
    distance = data.get("max_distance_km")
    if distance is not None and not isinstance(distance, int | float):
        raise PlanError(f'{source}: "max_distance_km" must be a number or null')
    summary = data["summary"] if isinstance(data.get("summary"), dict) else {}
    bound = summary.get("lower_bound", 0.0)
    specialists_t = tuple(specialists)
    loads = {s.employee_no: s.load for s in specialists_t}
    return Plan(
        created_at=created_at,
        as_of=as_of,
        branch_id=r.whole(branch, "id", "branch"),
        branch_code=r.text(branch, "code", "branch"),
        scope=scope,
        weights=weights,
        max_moves=max_moves,
        max_distance_km=float(distance) if distance is not None else None,
        lower_bound=float(bound) if isinstance(bound, int | float) else 0.0,
        specialists=specialists_t,
        moves=sequence(tuple(moves), loads),
        grid_versions=grid_versions,
        customer_versions=customer_versions,
        grid_customers=grid_customers,
        move_costs=_move_costs(data.get("move_costs"), source),
    )


def _move_costs(raw: Any, source: str) -> MoveCosts:
    """Return the costs a plan file records (the defaults for a file from before they were)."""
    if raw is None:
        return MoveCosts()
    try:
        steps = tuple(float(x) for x in raw["by_step"])
        if len(steps) != 5:
            raise ValueError
        return MoveCosts(
            (steps[0], steps[1], steps[2], steps[3], steps[4]),
            int(raw.get("recent_days", 180)),
            float(raw.get("recent_factor", 2.0)),
        )
    except (KeyError, TypeError, ValueError):
        raise PlanError(
            f'{source}: "move_costs" must give "by_step" (five numbers), "recent_days" and '
            '"recent_factor"'
        ) from None


class _Reader:
    """Typed access to the JSON document with messages that say where the problem is."""

    def __init__(self, source: str) -> None:
        self.source = source

    def _fail(self, where: str, key: str, wanted: str) -> PlanError:
        return PlanError(f'{self.source}: {where}: "{key}" must be {wanted}')

    def _get(self, obj: Any, key: str, where: str) -> Any:
        if not isinstance(obj, dict):
            raise PlanError(f"{self.source}: {where} must be an object")
        if key not in obj:
            raise PlanError(f'{self.source}: {where}: "{key}" is missing')
        return obj[key]

    def obj(self, obj: Any, key: str, where: str = "plan") -> dict:
        v = self._get(obj, key, where)
        if not isinstance(v, dict):
            raise self._fail(where, key, "an object")
        return v

    def items(self, obj: Any, key: str, where: str = "plan") -> list:
        v = self._get(obj, key, where)
        if not isinstance(v, list):
            raise self._fail(where, key, "a list")
        return v

    def text(self, obj: Any, key: str, where: str) -> str:
        v = self._get(obj, key, where)
        if not isinstance(v, str) or not v:
            raise self._fail(where, key, "a non-empty text")
        return v

    def whole(self, obj: Any, key: str, where: str) -> int:
        v = self._get(obj, key, where)
        if not isinstance(v, int) or isinstance(v, bool):
            raise self._fail(where, key, "a whole number")
        return v

    def number(self, obj: Any, key: str, where: str) -> float:
        v = self._get(obj, key, where)
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise self._fail(where, key, "a number")
        return float(v)

    def key(self, k: str, where: str) -> int:
        try:
            return int(k)
        except ValueError:
            raise PlanError(f'{self.source}: {where}: key "{k}" is not an id') from None

    def id_map(self, obj: Any, key: str, where: str) -> dict[int, int]:
        raw = self.obj(obj, key, where)
        out = {}
        for k, v in raw.items():
            if not isinstance(v, int) or isinstance(v, bool):
                raise PlanError(f"{self.source}: {where}.{key}: the version of {k} is not a number")
            out[self.key(k, f"{where}.{key}")] = v
        return out
