"""The same data, scope and settings give the same plan, every time: the search is limited by
work (steps, MILP nodes, regions), not by the clock, which is only a safety net.

A plan made in one process is compared with a plan made in another, and a plan made with a
short safety net with one made with a long one (what a slow or busy computer amounts to)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from app.services.demo import DEMO_PASSWORD
from app.services.rebalance.optimise import propose
from app.services.rebalance.problem import Effort, GridItem, SpecialistItem

AS_OF = date(2026, 11, 20)
ROOT = Path(__file__).resolve().parents[2]


def _propose_in_a_fresh_process(url: str, out: Path, settings: Path, *args: str) -> dict:
    env = {
        **os.environ,
        "GRIDDESK_SETTINGS_DIR": str(settings),
        "GRIDDESK_PASSWORD": DEMO_PASSWORD,
        "QT_QPA_PLATFORM": "offscreen",
    }
    env.pop("GRIDDESK_DB", None)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "--db", url, "rebalance", "propose", "--user"]
        + ["senior", "--as-of", AS_OF.isoformat(), *args, "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(out.read_text(encoding="utf-8"))
    plan.pop("created_at")
    return plan


@pytest.mark.slow
def test_propose_twice_in_fresh_processes_gives_the_same_plan(module_demo, tmp_path):
    with module_demo(seed=7, as_of=AS_OF, migrated=True) as Session:  # noqa: N806
        engine = Session.kw["bind"]
        url = engine.url.render_as_string(hide_password=False)
        stamped = _stamp_if_unmigrated(engine)
        try:
            for args in (("--max-moves", "0"), ("--max-moves", "20")):
                first = _propose_in_a_fresh_process(url, tmp_path / "a.json", tmp_path / "s", *args)
                second = _propose_in_a_fresh_process(
                    url, tmp_path / "b.json", tmp_path / "s", *args
                )
                assert first["moves"], "the demo branch is unbalanced: the plan moves something"
                assert first == second
        finally:
            if stamped:
                with engine.begin() as conn:
                    conn.exec_driver_sql("DROP TABLE alembic_version")


def _stamp_if_unmigrated(engine) -> bool:
    """The run's PostgreSQL database holds the models' schema without Alembic's record of it,
    which the command line asks for: record it for this test (True when it did)."""
    from alembic import command

    from app.db import alembic_config, needs_migration

    if not needs_migration(engine):
        return False
    command.stamp(alembic_config(engine), "head")
    return True


def _city(seed: int, side: int, n_specs: int) -> tuple[list[GridItem], list[SpecialistItem]]:
    """Return a side x side lattice of grids in horizontal bands of owners (so every
    specialist's territory is contiguous), with random loads: large enough that the search
    has more to do than it has steps for."""
    rng = random.Random(seed)
    n = side * side
    loads = [round(rng.uniform(1, 10), 2) for _ in range(n)]
    owners = [1 + (i * n_specs) // n for i in range(n)]
    grids = []
    for i in range(n):
        r, c = divmod(i, side)
        near = tuple(
            (r + dr) * side + c + dc
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
            if 0 <= r + dr < side and 0 <= c + dc < side
        )
        grids.append(GridItem(i, owners[i], loads[i], 3, (104 + 0.01 * c, 30.6 + 0.01 * r), near))
    # Some specialists carry more fixed load (customers outside their grids) than others.
    extra = {s: rng.choice((0.0, 0.0, 40.0, 80.0)) for s in range(1, n_specs + 1)}
    specs = [
        SpecialistItem(
            s,
            extra[s] + sum(x for x, o in zip(loads, owners, strict=True) if o == s),
            3 * owners.count(s),
            10_000,
        )
        for s in range(1, n_specs + 1)
    ]
    return grids, specs


@pytest.mark.slow
def test_a_slow_computer_gets_the_same_plan_as_a_fast_one():
    """With a short safety net and a long one (a busy computer and an idle one) the search does
    the same work and proposes the same moves, under a move limit (where the exact regions run)
    and without one."""
    grids, specs = _city(3, side=24, n_specs=24)
    effort = Effort(tabu_steps=600, regions=2)  # less than the app's, to keep the test short
    for max_moves in (30, None):
        short = propose(grids, specs, max_moves=max_moves, time_limit_s=20, effort=effort)
        long = propose(grids, specs, max_moves=max_moves, time_limit_s=60, effort=effort)
        assert short.moves
        assert short.moves == long.moves
        assert short.after_max < short.before_max
