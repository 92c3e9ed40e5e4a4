"""The plan file: a plan written as UTF-8 JSON for another supervisor or a later session, and
read back with every problem named (file, place, what was expected)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from app.services.files.atomic import atomic_path
from app.services.messages import Message
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

# Where in a plan a problem is: a key of the document ("weights"), or a Message.
Where = str | Message
PLAN = Message("where.plan")  # the document as a whole


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
        raise PlanError("planfile.missing", file=str(path)) from None
    except UnicodeDecodeError:
        raise PlanError("planfile.not_text", file=str(path)) from None
    except json.JSONDecodeError as exc:
        raise PlanError(
            "planfile.not_json", file=str(path), line=exc.lineno, column=exc.colno, problem=exc.msg
        ) from None
    return plan_from_json(data, source=str(path))


def plan_from_json(data: Any, *, source: str | Message = PLAN) -> Plan:
    """Return the plan a JSON document describes; raise PlanError naming what is wrong and
    ``source`` (the file's path, or a Message naming where the document comes from)."""
    r = _Reader(source)
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise PlanError("planfile.not_a_plan", source=source, format=PLAN_FORMAT)
    if data.get("format_version") != PLAN_VERSION:
        raise PlanError(
            "planfile.version",
            source=source,
            version=repr(data.get("format_version")),
            supported=PLAN_VERSION,
        )
    branch = r.obj(data, "branch")
    scope_raw = data.get("scope", "branch")
    if scope_raw == "branch":
        scope: tuple[str, ...] = ()
    elif isinstance(scope_raw, dict) and isinstance(scope_raw.get("teams"), list):
        scope = tuple(str(t) for t in scope_raw["teams"])
    else:
        raise PlanError("planfile.scope", source=source)
    w = r.obj(data, "weights")
    weights = Weights(
        customer=r.number(w, "customer", "weights"),
        open_task=r.number(w, "open_task", "weights"),
        premium_per_10k_yuan=r.number(w, "premium_per_10k_yuan", "weights"),
    )
    specialists = []
    for i, s in enumerate(r.items(data, "specialists")):
        where = Message("where.specialist", n=i + 1)
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
        where = Message("where.move", n=i + 1)
        kind = r.text(m, "kind", where)
        if kind not in (GRID, CUSTOMER):
            raise PlanError("planfile.kind", source=source, where=where, kind=repr(kind))
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
                raise PlanError(
                    "planfile.unknown_specialist", source=source, where=where, specialist=who
                )
        if move.from_no == move.to_no:
            raise PlanError(
                "planfile.same_person", source=source, where=where, specialist=move.from_no
            )
        moves.append(move)
    base = r.obj(data, "base_versions")
    grid_versions = r.id_map(base, "grids", "base_versions")
    customer_versions = r.id_map(base, "customers", "base_versions")
    grid_customers_raw = r.obj(data, "grid_customers")
    grid_customers: dict[int, tuple[int, ...]] = {}
    for k, v in grid_customers_raw.items():
        if not isinstance(v, list) or not all(isinstance(x, int) for x in v):
            raise PlanError("planfile.grid_customers", source=source, grid=k)
        grid_customers[r.key(k, "grid_customers")] = tuple(v)
    for i, m in enumerate(moves):
        if m.kind == GRID and m.grid_id not in grid_versions:
            raise PlanError(
                "planfile.grid_no_version",
                source=source,
                where=Message("where.move", n=i + 1),
                grid=m.grid_code,
            )
        if m.kind == CUSTOMER and m.customer_id not in customer_versions:
            raise PlanError(
                "planfile.customer_no_version",
                source=source,
                where=Message("where.move", n=i + 1),
                customer=m.customer_no,
            )
    try:
        created_at = datetime.fromisoformat(r.text(data, "created_at", PLAN))
        as_of = date.fromisoformat(r.text(data, "as_of", PLAN))
    except ValueError as exc:
        raise PlanError("planfile.bad_date", source=source, problem=str(exc)) from None
    max_moves = data.get("max_moves")
    if max_moves is not None and (not isinstance(max_moves, int) or max_moves < 0):
        raise PlanError("planfile.max_moves", source=source)
    distance = data.get("max_distance_km")
    if distance is not None and not isinstance(distance, int | float):
        raise PlanError("planfile.max_distance", source=source)
    summary = data["summary"] if isinstance(data.get("summary"), dict) else {}
    bound = summary.get("lower_bound", 0.0)
    keep = data.get("keep_from_step")
    failed = data.get("solver_failures")
    stopped = data.get("stopped_by_clock")
    if keep is not None and (isinstance(keep, bool) or keep not in (1, 2, 3, 4)):
        raise PlanError("planfile.keep_step", source=source)
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
        clock_stops=tuple(str(f) for f in stopped) if isinstance(stopped, list) else (),
    )


def _move_costs(raw: Any, source: str | Message) -> MoveCosts:
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
        raise PlanError("planfile.move_costs", source=source) from None


class _Reader:
    """Typed access to the JSON document with messages that say where the problem is."""

    def __init__(self, source: str | Message) -> None:
        self.source = source

    def _fail(self, where: Where, key: str, wanted: str) -> PlanError:
        """A value of the wrong type: ``wanted`` is the code of what it must be."""
        return PlanError(
            "planfile.wrong_type", source=self.source, where=where, key=key, wanted=Message(wanted)
        )

    def _get(self, obj: Any, key: str, where: Where) -> Any:
        if not isinstance(obj, dict):
            raise PlanError("planfile.not_object", source=self.source, where=where)
        if key not in obj:
            raise PlanError("planfile.key_missing", source=self.source, where=where, key=key)
        return obj[key]

    def obj(self, obj: Any, key: str, where: Where = PLAN) -> dict:
        v = self._get(obj, key, where)
        if not isinstance(v, dict):
            raise self._fail(where, key, "wanted.object")
        return v

    def items(self, obj: Any, key: str, where: Where = PLAN) -> list:
        v = self._get(obj, key, where)
        if not isinstance(v, list):
            raise self._fail(where, key, "wanted.list")
        return v

    def text(self, obj: Any, key: str, where: Where) -> str:
        v = self._get(obj, key, where)
        if not isinstance(v, str) or not v:
            raise self._fail(where, key, "wanted.text")
        return v

    def whole(self, obj: Any, key: str, where: Where) -> int:
        v = self._get(obj, key, where)
        if not isinstance(v, int) or isinstance(v, bool):
            raise self._fail(where, key, "wanted.whole_number")
        return v

    def number(self, obj: Any, key: str, where: Where) -> float:
        v = self._get(obj, key, where)
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise self._fail(where, key, "wanted.number")
        return float(v)

    def key(self, k: str, where: Where) -> int:
        try:
            return int(k)
        except ValueError:
            raise PlanError("planfile.key_not_id", source=self.source, where=where, key=k) from None

    def id_map(self, obj: Any, key: str, where: Where) -> dict[int, int]:
        raw = self.obj(obj, key, where)
        out = {}
        for k, v in raw.items():
            if not isinstance(v, int) or isinstance(v, bool):
                raise PlanError(
                    "planfile.version_not_number", source=self.source, where=where, key=key, id=k
                )
            out[self.key(k, f"{where}.{key}")] = v
        return out
