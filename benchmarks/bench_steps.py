"""Re-deriving customers' 4-sell steps on PostgreSQL: the app's statement against the
"NOT IN (subquery)" form it replaced, taking turns in one run.

    .venv/bin/python benchmarks/bench_steps.py --pg URL [--size city] [--runs 5]

Builds the demo branch (once, in a database ``griddesk_bench_steps_<size>`` on the server URL
names), then times the statement ``recompute_steps`` clears customers left without evidence with
(NOT EXISTS, ``steps.cleared_statement``) for 500 and 5,000 customers and, as the reference,
the same statement written with NOT IN as it was, which PostgreSQL runs row by row once the
tasks outgrow work_mem. Each runs in a transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.db import make_engine, migrate  # noqa: E402
from app.models import Customer  # noqa: E402
from app.services.customers.steps import cleared_statement  # noqa: E402
from app.services.database.unit_of_work import sessionmaker as session_factory


def not_in_statement(chunk):
    """The clearing statement as it was: "NOT IN (SELECT customer_id FROM task …)"."""
    from typing import cast

    from sqlalchemy import Table, update

    from app.models import Task
    from app.models.enums import TaskStatus
    from app.services.customers.steps import STEP_COLUMNS, _differs, kinds_at_or_above

    t = cast(Table, Customer.__table__)
    has_evidence = select(Task.customer_id).where(
        Task.status == TaskStatus.DONE,
        Task.completed_at.is_not(None),
        Task.kind.in_(kinds_at_or_above(1)),
    )
    return (
        update(t)
        .where(t.c.id.not_in(has_evidence), _differs(t.c, 0, [None] * 4))
        .values(step=0, **dict.fromkeys(STEP_COLUMNS))
        .where(t.c.id.in_(chunk))
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", required=True, help="a PostgreSQL server URL (a superuser's)")
    ap.add_argument("--size", default="city", choices=("small", "city", "large"))
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    name = f"griddesk_bench_steps_{args.size}"
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        built = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not built:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(args.pg).set(database=name).render_as_string(False))
    Session = session_factory(engine)  # noqa: N806
    if not built:
        from app.services.demo import build_demo

        migrate(engine)
        with Session() as s, s.begin():
            build_demo(s, size=args.size, seed=3)
    with Session() as s:
        ids = s.scalars(select(Customer.id).order_by(Customer.id).limit(5000)).all()
        customers = s.scalar(select(text("count(*)")).select_from(Customer))
    print(f"{args.size}: {customers:,} customers; median of {args.runs} runs, taking turns")
    print(f"{'customers':>9}  {'GridDesk':>9}  {'NOT IN':>9}  ratio")
    for n in (500, 5000):
        app_times, ref_times = [], []
        for _ in range(args.runs):
            for statement, times in (
                (cleared_statement(ids[:n]), app_times),
                (not_in_statement(ids[:n]), ref_times),
            ):
                with Session() as s:
                    t = time.perf_counter()
                    s.execute(statement)
                    times.append(time.perf_counter() - t)
                    s.rollback()
        a, r = statistics.median(app_times), statistics.median(ref_times)
        print(f"{n:>9,}  {a:>8.3f}s  {r:>8.3f}s  {a / r:.2f}")


if __name__ == "__main__":
    main()
