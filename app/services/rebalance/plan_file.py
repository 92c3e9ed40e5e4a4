"""The plan file: a plan written as UTF-8 JSON for another supervisor or a later session, and
read back with every problem named (file, place, what was expected)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from app.services.atomic import atomic_path
from app.services.rebalance.disruption import MoveCosts
from app.services.rebalance.plan import (
    PLAN_FORMAT,
    PLAN_VERSION,
    Plan,
    PlanError,
    PlanMove,
    PlanSpecialist,
    sequence,
)
from app.services.rebalance.problem import CUSTOMER, GRID
from app.services.rebalance.workload import Weights


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
    keep = data.get("keep_from_step")
    failed = data.get("solver_failures")
    if keep is not None and (isinstance(keep, bool) or keep not in (1, 2, 3, 4)):
        raise PlanError(f'{source}: "keep_from_step" must be a 4-sell step from 1 to 4, or null')
    kept = summary.get("customers_kept_by_step", 0)
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
        keep_from_step=keep,
        step_locked=kept if isinstance(kept, int) and not isinstance(kept, bool) else 0,
        solver_failures=tuple(str(f) for f in failed) if isinstance(failed, list) else (),
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
