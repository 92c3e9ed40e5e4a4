"""The trade-off is made of plans of their own: at every balance it offers, the moves that break
the fewest relationships (issue #14: disruption is in the objective)."""

from __future__ import annotations

import itertools
import random

import pytest
from test_rebalance import AS_OF, _square

from app.models import Branch, Customer, Grid, Specialist, Team
from app.services.rebalance.make import make_plan
from app.services.rebalance.optimise import build_problem
from app.services.rebalance.problem import GridItem, SpecialistItem
from app.services.rebalance.state import loads_of
from app.services.rebalance.tradeoff import least_disruption


def _team(Session, steps: list[int]) -> dict[str, int]:  # noqa: N803
    """One team: 王芳 holds three grids of four customers each, their 4-sell steps ``steps``
    (one per grid); 李强 holds one grid of two customers. Any of her grids may go to him."""
    with Session() as s, s.begin():
        b = Branch(code="CD", name="成都分公司", city="成都")
        s.add(b)
        s.flush()
        t = Team(branch_id=b.id, code="T1", name="一队")
        s.add(t)
        s.flush()
        a = Specialist(branch_id=b.id, employee_no="E1", name="王芳", team_id=t.id)
        c = Specialist(branch_id=b.id, employee_no="E2", name="李强", team_id=t.id)
        s.add_all([a, c])
        s.flush()
        grids = []
        for i, owner in enumerate([a, a, a, c]):
            geo, box = _square(i)
            grids.append(
                Grid(
                    branch_id=b.id,
                    code=f"G{i + 1}",
                    name=f"网格{i + 1}",
                    geometry=geo,
                    owner_id=owner.id,
                    **box,
                )
            )
        s.add_all(grids)
        s.flush()
        k = 0
        for g, owner, count, step in zip(
            grids, [a, a, a, c], [4, 4, 4, 2], [*steps, 0], strict=True
        ):
            for _ in range(count):
                k += 1
                s.add(
                    Customer(
                        branch_id=b.id,
                        customer_no=f"C{k:02d}",
                        name=f"张{k}",
                        address="成都",
                        grid_id=g.id,
                        specialist_id=owner.id,
                        step=step,
                    )
                )
        return {"branch": b.id, **{g.code: g.id for g in grids}}


@pytest.mark.parametrize("cheap", [0, 1, 2])
def test_the_best_balance_moves_the_grid_whose_customers_lose_least(Session, cheap):  # noqa: N803
    """Any of her three grids brings the two to 8 and 6. Only one holds customers who have not
    climbed the ladder; the plan of best balance moves that one, wherever it lies (an optimiser
    blind to the steps moves the same grid every time, so it fails two of the three)."""
    steps = [3, 3, 3]
    steps[cheap] = 0
    ids = _team(Session, steps)
    with Session() as s:
        plan = make_plan(
            s, branch_id=ids["branch"], as_of=AS_OF, max_distance_km=50, pick="balance"
        )
    assert plan.after_max == pytest.approx(8.0)
    assert [m.grid_code for m in plan.moves] == [f"G{cheap + 1}"]
    assert plan.relationships_broken == 0
    assert plan.disruption == pytest.approx(4.0)


def _lattice(seed: int):
    """A 3 x 3 lattice of grids (touching left/right/up/down), three specialists, random loads
    and customers, and a random disruption per grid."""
    rng = random.Random(seed)
    owners = [1, 1, 1, 1, 2, 2, 3, 1, 2]
    rng.shuffle(owners)
    loads = [round(rng.uniform(1, 10), 2) for _ in range(9)]
    customers = [rng.randint(1, 6) for _ in range(9)]
    grids = []
    for i in range(9):
        r, c = divmod(i, 3)
        near = [
            (r + dr) * 3 + c + dc
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
            if 0 <= r + dr < 3 and 0 <= c + dc < 3
        ]
        grids.append(
            GridItem(
                i, owners[i], loads[i], customers[i], (104 + c / 100, 30.6 + r / 100), tuple(near)
            )
        )
    specs = [
        SpecialistItem(
            s,
            sum(x for x, o in zip(loads, owners, strict=True) if o == s),
            sum(x for x, o in zip(customers, owners, strict=True) if o == s),
            rng.choice([12, 100]),
        )
        for s in (1, 2, 3)
    ]
    cost = [float(rng.randint(0, 40)) for _ in range(9)]
    return grids, specs, cost


def _solved(seed: int, max_moves: int | None, ceilings: tuple[float, ...], **kw):
    """The lattice of ``seed`` brought within capacity, its grids' disruption, the trade-off's
    plans for ``ceilings`` and the largest load each ceiling stands for."""
    from app.services.rebalance.capacity import fit_capacity

    grids, specs, by_grid = _lattice(seed)
    p = build_problem(grids, specs)
    start = fit_capacity(p, max_moves=max_moves, deadline=float("inf"))
    cost = [by_grid[g] for g in p.grid_ids]
    plans = least_disruption(
        p, start, cost, max_moves=max_moves, deadline=float("inf"), ceilings=ceilings, **kw
    )
    top = max(loads_of(p, start))
    levels = [top + f * max(0.0, max(p.load0) - top) for f in ceilings]
    return p, cost, plans, levels


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_moves", [None, 2])
def test_each_plan_is_the_least_disruption_any_plan_has_under_its_ceiling(seed, max_moves):
    """Against every assignment of a small lattice (all 3^9 of them where each grid may go):
    at each ceiling, no plan within the rules breaks less than the one returned."""
    p, cost, plans, levels = _solved(seed, max_moves, (0.0, 0.2, 0.5))
    levels = [*levels, float("inf")]

    def disruption(a):
        return sum(cost[g] for g, s in enumerate(a) if s != p.owner[g])

    def ok(a, level):
        moves = sum(s != p.owner[g] for g, s in enumerate(a))
        cust = list(p.base_cust)
        for g, s in enumerate(a):
            cust[s] += p.gcust[g]
        return (
            (max_moves is None or moves <= max_moves)
            and all(c <= k for c, k in zip(cust, p.cap, strict=True))
            and max(loads_of(p, a)) <= level + 1e-9
        )

    every = [list(a) for a in itertools.product(*p.eligible)]
    found = {}
    for level in levels:
        best = min((disruption(a) for a in every if ok(a, level)), default=None)
        found[level] = best
        hits = [a for a in plans if ok(a, level)]
        assert hits, f"no plan under {level}"
        assert min(disruption(a) for a in hits) == pytest.approx(best)
    # The loosest ceiling (none) is met by the plan of least disruption within capacity.
    assert disruption(plans[-1]) == pytest.approx(found[float("inf")])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_moves", [None, 2])
def test_without_the_milp_every_plan_still_keeps_the_rules_and_its_ceiling(seed, max_moves):
    """A branch too large for the MILP gets the local searches' plans alone (from the best plan
    down, from today up): each within the move limit and capacities, under its ceiling."""
    from app.services.rebalance.problem import plan_ok

    p, _cost, plans, levels = _solved(seed, max_moves, (0.0, 0.3, 0.6), milp_max_free=0)
    assert plans and all(plan_ok(p, a, max_moves) for a in plans)
    for level in levels:
        assert any(max(loads_of(p, a)) <= level + 1e-9 for a in plans)


def test_a_search_the_time_limit_stops_says_so_in_its_plan_file():
    """The search stops on its work, so the same data gives the same plan; the time limit is a
    safety net for a very slow or busy computer. When it stops a step, the proposal names it
    (the plan may then differ from one made again), and the plan file keeps it."""
    from dataclasses import replace

    from test_rebalance_highs import _plan_with
    from test_rebalance_optimise import _lattice_city

    from app.services.rebalance.optimise import propose
    from app.services.rebalance.plan_file import plan_from_json

    grids, specs = _lattice_city(5, side=9, n_specs=8)
    assert propose(grids, specs, max_moves=None).clock_stops == ()
    cut = propose(grids, specs, max_moves=None, time_limit_s=0.0)
    assert cut.clock_stops and set(cut.clock_stops) <= {
        "capacity", "search", "polish", "regions", "trade-off",
    }  # fmt: skip
    plan = replace(_plan_with(replace, ()), clock_stops=cut.clock_stops)
    assert plan_from_json(plan.to_json()).clock_stops == cut.clock_stops
