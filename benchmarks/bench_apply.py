"""Propose, apply and undo a branch-wide rebalance on a demo branch, as a senior supervisor would.

``python benchmarks/bench_apply.py --size large --moves 200`` copies the demo file of
``benchmarks/bench_metrics.py`` (built there when missing), then times on the copy:

1. the proposal as the rebalance page makes it (``make_plan``: reading every load, the
   optimiser, the trade-off), limited to ``--moves`` moves;
2. applying it as the desktop app does: the moves (``apply_plan``), then the commit, in which
   the unit of work settles the funnel cells and, above ``DEFER_FROM`` customers, leaves the
   persistency base to the job that follows (``bring_current``), timed apart: the user waits
   for the first two only; with ``--inline`` the commit settles everything (the command line);
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
from app.services.database import unit_of_work  # noqa: E402
from app.services.rebalance.apply import apply_plan  # noqa: E402
from app.services.rebalance.make import make_plan  # noqa: E402
from app.services.rebalance.undo import undo_batch  # noqa: E402


def _committed(session, engine, started: float) -> str:
    """Commit the session's transaction, then bring the derived tables current; return the
    times since ``started``, worded."""
    moved = time.perf_counter()
    session.commit()
    committed = time.perf_counter()
    deferred = unit_of_work.deferred(session)
    unit_of_work.bring_current(engine)
    current = time.perf_counter()
    user = committed - started
    return (
        f"moves {moved - started:.1f} s, commit {committed - moved:.1f} s"
        f"{' (persistency deferred)' if deferred else ' (everything settled)'}: "
        f"the user waits {user:.1f} s; figures current {current - started:.1f} s after the start"
    )


def _change(Session, engine, inline: bool, write):  # noqa: N803
    """Run ``write(session)`` in one transaction as the desktop app does (deferring a large
    refresh unless ``inline``); return its result, the marks it logged and its times."""
    with Session() as s:
        if not inline:
            unit_of_work.may_defer(s)
        s.begin()
        t = time.perf_counter()
        result = write(s)
        marked = s.scalar(select(func.count()).select_from(PersistencyDirty))
        return result, marked, _committed(s, engine, t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=("small", "city", "large"), default="large")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--moves", type=int, default=200)
    ap.add_argument("--inline", action="store_true", help="settle everything before commit")
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
        result, marked, timing = _change(
            Session,
            engine,
            args.inline,
            lambda s: apply_plan(
                s, plan, actor="bench", user_may_cross_teams=True, team_scope=None,
                branch_scope=None,
            ),
        )  # fmt: skip
        print(
            f"apply: {result.grids_moved} grids, {result.customers_moved:,} customers, "
            f"{result.tasks_moved:,} tasks ({marked:,} marks): {timing}",
            flush=True,
        )
        undone, _marked, timing = _change(
            Session,
            engine,
            args.inline,
            lambda s: undo_batch(s, actor="bench", team_scope=None, batch_id=result.batch_id),
        )
        print(f"undo: {undone.customers_restored:,} customers: {timing}", flush=True)
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
