"""Rebalancing 2,000 grids among 200 specialists: quality against the LP bound, and time.

    .venv/bin/python benchmarks/bench_rebalance.py [--seeds 1,2,3] [--limits 50,200,none]
        [--time-limit SAFETY_NET] [--milp SECONDS]

The city: a seeded Voronoi tiling of a 0.4° square (about 38 km), grids touching where their
polygons do (the app's own neighbour code). Customers per grid are denser towards the centre;
a grid's load is its customers times 1.1-1.9 (tasks and premium). Territories are contiguous
(recursive bisection of the grids by load, each cut skewed by a random factor) but unequal: the
largest load is 1.3-1.6 times the bound. 5 % of the grids are locked; every specialist may serve
1.5 times the mean number of customers (``--capacity``; at 1.0 about half the specialists are
full and relief needs chains through them).

For each move limit the table gives, as largest load / LP-relaxation lower bound (computed here,
independently of the optimiser's own, with scipy's HiGHS) and seconds:

- ``quick greedy``: relieve the most loaded specialist by a move, swap or two-step chain while
  that helps (app.services.rebalance.construct.greedy);
- ``propose``: what the app proposes (app.services.rebalance.optimise.propose, grid moves only)
  with its fixed work (``Effort``: steps, MILP nodes, regions), the LP included, and the
  seconds that took (``--time-limit`` is only its safety net);
- with ``--milp S``: scipy's HiGHS MILP on the full model for S seconds, for reference.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPoint, box

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.services.rebalance.construct import greedy  # noqa: E402
from app.services.rebalance.neighbours import touching_shapes  # noqa: E402
from app.services.rebalance.optimise import build_problem, propose
from app.services.rebalance.problem import SAFETY_LIMIT_S, GridItem, SpecialistItem
from app.services.rebalance.state import loads_of  # noqa: E402

LON0, LAT0, SIZE = 104.06, 30.66, 0.40


def make_city(
    n_grids: int, n_specialists: int, seed: int, spread: float = 0.08, capacity: float = 1.5
) -> tuple[list[GridItem], list[SpecialistItem]]:
    """Return the synthetic city's grids and specialists."""
    rng = np.random.default_rng(seed)
    pts = np.column_stack([LON0 + rng.random(n_grids) * SIZE, LAT0 + rng.random(n_grids) * SIZE])
    region = box(LON0, LAT0, LON0 + SIZE, LAT0 + SIZE)
    cells = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(pts), extend_to=region))
    cells = [c.intersection(region) for c in cells]
    # voronoi_polygons does not keep the input order: put each cell with its seed point.
    hit = shapely.STRtree(cells).query(shapely.points(pts), predicate="within")
    order = np.empty(n_grids, dtype=int)
    order[hit[0]] = hit[1]
    cells = [cells[i] for i in order]
    neighbours = touching_shapes(cells)
    centre = np.array([LON0 + SIZE / 2, LAT0 + SIZE / 2])
    d = np.hypot(*(pts - centre).T) / (SIZE / 2)
    customers = rng.poisson(40 + 160 * np.exp(-2 * d * d))
    load = customers * (1 + rng.uniform(0.1, 0.9, n_grids))
    owner = np.full(n_grids, -1)

    def split(ids: np.ndarray, first: int, n: int, axis: int) -> None:
        if n == 1:
            owner[ids] = first
            return
        left = n // 2
        ids = ids[np.argsort(pts[ids, axis])]
        share = np.cumsum(load[ids]) / load[ids].sum()
        frac = min(0.9, max(0.1, left / n * float(rng.lognormal(0, spread))))
        k = int(np.searchsorted(share, frac)) + 1
        k = min(max(k, left), len(ids) - (n - left))
        split(ids[:k], first, left, 1 - axis)
        split(ids[k:], first + left, n - left, 1 - axis)

    split(np.arange(n_grids), 0, n_specialists, 0)
    locked = rng.random(n_grids) < 0.05
    grids = [
        GridItem(
            id=i,
            owner_id=int(owner[i]),
            load=float(load[i]),
            customers=int(customers[i]),
            centroid=(float(pts[i, 0]), float(pts[i, 1])),
            neighbours=tuple(neighbours[i]),
            locked=bool(locked[i]),
        )
        for i in range(n_grids)
    ]
    loads = np.bincount(owner, weights=load, minlength=n_specialists)
    served = np.bincount(owner, weights=customers, minlength=n_specialists)
    cap = int(served.mean() * capacity)
    specialists = [
        SpecialistItem(id=s, load=float(loads[s]), customers=int(served[s]), capacity=cap)
        for s in range(n_specialists)
    ]
    return grids, specialists


def _model(
    grids: list[GridItem],
    specialists: list[SpecialistItem],
    max_moves: int | None,
    budget: tuple[dict[int, float], float] | None = None,
):
    """Return the assignment model (c, constraints, bounds, integrality) written out directly:
    a grid may stay or go to the owner of a touching grid; locked grids stay. With ``budget``
    (the disruption of moving each grid, by id, and the most the moves may add up to), the
    moved grids' disruption is at most that."""
    from scipy.optimize import Bounds, LinearConstraint
    from scipy.sparse import coo_matrix

    spec = {s.id: k for k, s in enumerate(specialists)}
    by_id = {g.id: g for g in grids}
    n_s = len(specialists)
    fixed = np.zeros(n_s)
    fixed_c = np.zeros(n_s)
    pairs: list[tuple[int, int, bool]] = []  # (grid index, specialist index, is a move)
    for gi, g in enumerate(grids):
        o = spec[g.owner_id]
        options = {o}
        if not g.locked:
            options |= {spec[by_id[h].owner_id] for h in g.neighbours}
        if len(options) == 1:
            fixed[o] += g.load
            fixed_c[o] += g.customers
            continue
        pairs += [(gi, s, s != o) for s in sorted(options)]
    base = np.array([s.load for s in specialists])
    for g in grids:
        base[spec[g.owner_id]] -= g.load
    base += fixed
    base_c = np.array([s.customers for s in specialists], dtype=float)
    for g in grids:
        base_c[spec[g.owner_id]] -= g.customers
    base_c += fixed_c
    cap = np.array([max(s.capacity, s.customers) for s in specialists], dtype=float)
    n = len(pairs)
    movable = sorted({gi for gi, _, _ in pairs})
    row_of = {gi: r for r, gi in enumerate(movable)}
    eq = coo_matrix(
        (np.ones(n), ([row_of[gi] for gi, _, _ in pairs], range(n))), shape=(len(movable), n + 1)
    )
    rows, cols, vals = [], [], []
    for j, (gi, s, move) in enumerate(pairs):
        rows += [s, n_s + s]
        cols += [j, j]
        vals += [grids[gi].load, grids[gi].customers]
        if move and max_moves is not None:
            rows.append(2 * n_s)
            cols.append(j)
            vals.append(1.0)
    rows += list(range(n_s))
    cols += [n] * n_s
    vals += [-1.0] * n_s
    n_rows = 2 * n_s + (max_moves is not None)
    ub = np.concatenate([-base, cap - base_c, [max_moves] if max_moves is not None else []])
    ub_matrix = coo_matrix((vals, (rows, cols)), shape=(n_rows, n + 1))
    c = np.zeros(n + 1)
    c[n] = 1.0
    constraints = [LinearConstraint(eq, 1, 1), LinearConstraint(ub_matrix, -np.inf, ub)]
    if budget is not None:
        cost, most = budget
        row = np.r_[[cost.get(grids[gi].id, 0.0) if move else 0.0 for gi, _, move in pairs], 0]
        constraints.append(LinearConstraint(row.reshape(1, -1), -np.inf, most))
    bounds = Bounds(np.r_[np.zeros(n), base.max()], np.r_[np.ones(n), np.inf])
    integrality = np.r_[np.ones(n), 0]
    return c, constraints, bounds, integrality


def lp_bound(grids, specialists, max_moves: int | None) -> float:
    """Return the LP-relaxation lower bound on the largest load."""
    from scipy.optimize import milp

    c, constraints, bounds, _ = _model(grids, specialists, max_moves)
    res = milp(c, constraints=constraints, bounds=bounds)
    assert res.status == 0, res.message
    return float(res.fun)


def milp_reference(
    grids, specialists, max_moves: int | None, seconds: float, budget=None
) -> float | None:
    """Return the best largest load HiGHS MILP finds in ``seconds`` (None if none), within a
    disruption ``budget`` when one is given (see :func:`_model`)."""
    from scipy.optimize import milp

    c, constraints, bounds, integrality = _model(grids, specialists, max_moves, budget)
    res = milp(
        c,
        constraints=constraints,
        bounds=bounds,
        integrality=integrality,
        options={"time_limit": seconds},
    )
    return float(res.fun) if res.x is not None else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grids", type=int, default=2000)
    ap.add_argument("--specialists", type=int, default=200)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--limits", default="50,200,none")
    ap.add_argument(
        "--time-limit",
        type=float,
        default=SAFETY_LIMIT_S,
        help="the proposal's safety net (it stops on its work, not on the clock)",
    )
    ap.add_argument("--milp", type=float, default=0.0, help="seconds for a MILP reference run")
    ap.add_argument(
        "--capacity",
        type=float,
        default=1.5,
        help="capacity as a multiple of the mean customers per specialist (1.0: tight)",
    )
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    limits = [None if x == "none" else int(x) for x in args.limits.split(",")]

    # Warm up the imports (scipy's HiGHS) so the timings are of the work itself.
    small, small_s = make_city(60, 6, 0)
    propose(small, small_s, max_moves=5, time_limit_s=0.1)

    header = f"{'seed':>4} {'limit':>6} {'before':>7} {'greedy':>14} {'propose':>22}"
    if args.milp:
        header += f" {'milp ' + str(int(args.milp)) + ' s':>10}"
    print(header)
    ratios: dict[object, list[float]] = {}
    for seed in seeds:
        grids, specialists = make_city(args.grids, args.specialists, seed, capacity=args.capacity)
        for limit in limits:
            bound = lp_bound(grids, specialists, limit)
            before = max(s.load for s in specialists) / bound
            problem = build_problem(grids, specialists)
            t = time.perf_counter()
            quick = greedy(problem, max_moves=limit, deadline=t + args.time_limit)
            t_quick = time.perf_counter() - t
            r_quick = max(loads_of(problem, quick)) / bound
            t = time.perf_counter()
            p = propose(
                grids,
                specialists,
                max_moves=limit,
                allow_customer_moves=False,
                time_limit_s=args.time_limit,
            )
            t_ours = time.perf_counter() - t
            r_ours = p.after_max / bound
            assert limit is None or len(p.moves) <= limit
            ratios.setdefault(limit, []).append(r_ours)
            line = (
                f"{seed:>4} {str(limit):>6} {before:>7.3f} {r_quick:>7.4f} {t_quick:>5.2f} s "
                f"{r_ours:>7.4f} {t_ours:>5.2f} s {len(p.moves):>4} mv"
            )
            if args.milp:
                ref = milp_reference(grids, specialists, limit, args.milp)
                line += f" {ref / bound:>10.4f}" if ref else f" {'-':>10}"
            print(line, flush=True)
    for limit, rs in ratios.items():
        print(f"limit {limit}: propose median {statistics.median(rs):.4f}, worst {max(rs):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
