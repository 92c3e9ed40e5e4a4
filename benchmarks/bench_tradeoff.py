"""The trade-off between balance and disruption on the rebalancing benchmark (2,000 grids, 200
specialists): the proposal's frontier against the best plan handed back a move at a time (what
the frontier was before it had plans of its own), and against HiGHS MILP at the same budgets.

    .venv/bin/python benchmarks/bench_tradeoff.py [--seeds 1] [--limits 50,none] [--milp SECONDS]

The city is ``bench_rebalance.make_city``. Each customer's 4-sell step is drawn (step 0: 40 %,
1: 25 %, 2: 20 %, 3: 10 %, 4: 5 %; 15 % moved in the last 180 days) and weighed with the app's
default costs (``MoveCosts``: 1, 2, 4, 8, 8, doubled when recent); a grid's disruption is its
customers' sum. For each move limit:

- ``propose``: the seconds the app's proposal takes with the trade-off's plans (grid moves only)
  and without them (``plain``), in the same run;
- one line per point of the app's frontier (largest load / LP bound, disruption), beside the best
  largest load the old frontier (the best plan's subsets) reached within the same disruption,
  and, with ``--milp S``, what HiGHS MILP on the full model reaches in S seconds with the moved
  grids' disruption at most the point's (its best plan; the ratio ours / MILP).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_rebalance import lp_bound, make_city, milp_reference  # noqa: E402

from app.services.rebalance.disruption import Candidate, MoveCosts, frontier  # noqa: E402
from app.services.rebalance.optimise import propose  # noqa: E402

STEP_SHARES = (0.40, 0.25, 0.20, 0.10, 0.05)
RECENT_SHARE = 0.15


def grid_costs(grids, seed: int) -> dict[int, float]:
    """Return each grid's disruption: its customers' steps drawn, weighed by the default costs."""
    rng = np.random.default_rng(1000 + seed)
    costs = MoveCosts()
    out: dict[int, float] = {}
    for g in grids:
        steps = rng.choice(5, size=g.customers, p=STEP_SHARES)
        recent = rng.random(g.customers) < RECENT_SHARE
        out[g.id] = float(
            sum(costs.cost(int(s), bool(r)) for s, r in zip(steps, recent, strict=True))
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--limits", default="50,none")
    ap.add_argument("--milp", type=float, default=0.0, help="seconds per MILP reference point")
    args = ap.parse_args(argv)
    small, small_s = make_city(60, 6, 0)
    propose(small, small_s, max_moves=5, time_limit_s=1)  # warm up the imports
    for seed in (int(s) for s in args.seeds.split(",")):
        grids, specs = make_city(2000, 200, seed)
        cost = grid_costs(grids, seed)
        for limit in (None if x == "none" else int(x) for x in args.limits.split(",")):
            bound = lp_bound(grids, specs, limit)
            t = time.perf_counter()
            plain = propose(grids, specs, max_moves=limit, allow_customer_moves=False)
            t_plain = time.perf_counter() - t
            t = time.perf_counter()
            p = propose(grids, specs, max_moves=limit, allow_customer_moves=False, grid_costs=cost)
            t_ours = time.perf_counter() - t
            assert plain.moves == p.moves  # the trade-off leaves the best plan alone
            print(
                f"seed {seed}, limit {limit}: propose {t_ours:.1f} s with the trade-off, "
                f"{t_plain:.1f} s plain; today {max(s.load for s in specs) / bound:.4f}",
                flush=True,
            )
            every = list(p.moves)
            index = {(m.grid_id, m.to_id): i for i, m in enumerate(every)}
            plans = []
            for alt in p.alternatives:
                for m in alt:
                    index.setdefault((m.grid_id, m.to_id), len(every))
                    if index[(m.grid_id, m.to_id)] == len(every):
                        every.append(m)
                plans.append([index[(m.grid_id, m.to_id)] for m in alt])
            cands = [
                Candidate(m.from_id, m.to_id, m.load, m.customers, cost[m.grid_id]) for m in every
            ]
            kw = {
                "loads": {s.id: s.load for s in specs},
                "customers": {s.id: s.customers for s in specs},
                "capacity": {s.id: max(s.capacity, s.customers) for s in specs},
                "max_points": 8,  # as the app shows them
            }
            ours = frontier(cands, best=range(len(p.moves)), plans=plans, **kw)
            old = frontier(cands[: len(p.moves)], **{**kw, "max_points": 10**6})
            print(f"{'disruption':>11} {'ours':>8} {'old':>8} {'milp':>8} {'ours/milp':>9}")
            for pt in sorted(ours, key=lambda q: q.disruption):
                within = [q.after_max for q in old if q.disruption <= pt.disruption + 1e-6]
                old_best = min(within) / bound if within else float("nan")
                line = f"{pt.disruption:>11.0f} {pt.after_max / bound:>8.4f} {old_best:>8.4f}"
                if args.milp:
                    ref = milp_reference(grids, specs, limit, args.milp, (cost, pt.disruption))
                    line += (
                        f" {ref / bound:>8.4f} {pt.after_max / ref:>9.4f}"
                        if ref
                        else f" {'-':>8} {'-':>9}"
                    )
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
