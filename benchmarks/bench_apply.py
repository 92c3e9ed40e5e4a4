"""Propose, apply and undo a branch-wide rebalance on a demo branch, as a senior supervisor would.

``python benchmarks/bench_apply.py --size large --moves 200`` copies the demo file of
``benchmarks/bench_metrics.py`` (built there when missing), then times on the copy:

1. the proposal as the rebalance page makes it (``make_plan``: reading every load, the
   optimiser, the trade-off), limited to ``--moves`` moves;
2. applying it in one transaction, split into the moves themselves (``apply_plan``), the unit of
   work's settle of the derived tables (``unit_of_work.settle``) and the commit;
3. undoing it the same way.

Each part is printed as it finishes, with the customers and grids involved.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_metrics import AS_OF, DATA, build  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app.db import make_engine  # noqa: E402
from app.models import Branch, PersistencyDirty  # noqa: E402
from app.services import unit_of_work  # noqa: E402
from app.services.rebalance.apply import apply_plan  # noqa: E402
from app.services.rebalance.make import make_plan  # noqa: E402
from app.services.rebalance.undo import undo_batch  # noqa: E402


def _settled(session, started: float) -> tuple[float, float, float]:
    """Settle and commit the session's transaction; return the three times since ``started``."""
    moved = time.perf_counter()
    unit_of_work.settle(session)
    settled = time.perf_counter()
    session.commit()
    done = time.perf_counter()
    return moved - started, settled - moved, done - settled


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=("small", "city", "large"), default="large")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--moves", type=int, default=200)
    args = ap.parse_args(argv)

    source = DATA / f"{args.size}.db"
    if not source.exists():
        DATA.mkdir(exist_ok=True)
        t = time.perf_counter()
        build(source, args.size, args.seed)
        print(f"built {source.name} in {time.perf_counter() - t:.0f} s", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work.db"
        shutil.copyfile(source, work)
        engine = make_engine(f"sqlite:///{work}")
        Session = unit_of_work.sessionmaker(engine)  # noqa: N806
        with Session() as s:
            branch_id = s.scalar(select(func.min(Branch.id)))
            t = time.perf_counter()
            plan = make_plan(s, branch_id=branch_id, as_of=AS_OF, max_moves=args.moves)
            propose = time.perf_counter() - t
        customers = sum(len(plan.grid_customers.get(m.grid_id or 0, ())) for m in plan.moves)
        print(
            f"propose ({args.size}, at most {args.moves} moves): {propose:.1f} s, "
            f"{len(plan.moves)} moves, ~{customers:,} customers",
            flush=True,
        )
        with Session() as s:
            s.begin()
            t = time.perf_counter()
            result = apply_plan(
                s, plan, actor="bench", user_may_cross_teams=True, team_scope=None,
                branch_scope=None,
            )  # fmt: skip
            marked = s.scalar(select(func.count()).select_from(PersistencyDirty))
            moves, settle, commit = _settled(s, t)
        print(
            f"apply: {result.grids_moved} grids, {result.customers_moved:,} customers, "
            f"{result.tasks_moved:,} tasks ({marked:,} marks): moves {moves:.1f} s, "
            f"derived tables {settle:.1f} s, commit {commit:.1f} s, "
            f"total {moves + settle + commit:.1f} s",
            flush=True,
        )
        with Session() as s:
            s.begin()
            t = time.perf_counter()
            undone = undo_batch(s, actor="bench", team_scope=None, batch_id=result.batch_id)
            moves, settle, commit = _settled(s, t)
        print(
            f"undo: {undone.customers_restored:,} customers: moves {moves:.1f} s, "
            f"derived tables {settle:.1f} s, commit {commit:.1f} s, "
            f"total {moves + settle + commit:.1f} s",
            flush=True,
        )
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
