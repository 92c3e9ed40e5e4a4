"""Task queue pages on a demo database: the first page and a later page at each sort the page
offers, under the page's usual filters, against the old path (every matching id read, then the
first page's rows) measured in the same run, and the count that now follows the rows.

    .venv/bin/python benchmarks/bench_tasks.py [--size large|city] [--runs 3] [--old]
        [--filters 'open (default)' 'any status' ...]

Uses benchmarks/data/desktop-<size>.db (built once, as bench_desktop.py does; upgraded by the
migrations on start). Medians of --runs warm runs, in milliseconds. Goal (issue): every page
under 50 ms at every filter and sort.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_desktop import AS_OF, build  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

SORTS = [
    "due_date",
    "task_no",
    "kind",
    "status",
    "customer",
    "specialist",
    "created_at",
    "completed_at",
]


def _ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _old_first_page(t, s, f, sort: str, desc: bool) -> None:
    """What the page did before: every matching id, then the first page's rows."""
    ids = t.task_ids(s, f, sort=sort, descending=desc)
    t.task_rows(s, ids[:200], as_of=AS_OF)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="city")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--old", action="store_true", help="also time the old path (slow)")
    ap.add_argument("--filters", nargs="*", help="only these filters (names as printed)")
    args = ap.parse_args()
    db = build(args.size)
    from app.db import make_engine
    from app.models import Specialist, Task, Team
    from app.models.enums import OPEN_TASK_STATUSES, TaskKind
    from app.services.database.unit_of_work import sessionmaker as session_factory
    from app.services.tasks import pages
    from app.services.tasks import queue as t

    Session = session_factory(make_engine(f"sqlite:///{db}"))  # noqa: N806
    with Session() as s:
        n = s.scalar(select(func.count()).select_from(Task))
        team = s.scalar(select(Team.id).order_by(Team.id))
        sp = s.scalar(select(Specialist.id).where(Specialist.team_id == team))
    print(f"{args.size}: {n:,} tasks; medians of {args.runs} runs, ms")
    base = t.TaskFilter(as_of=AS_OF, statuses=frozenset(OPEN_TASK_STATUSES))
    filters = {
        "open (default)": base,
        "any status": replace(base, statuses=frozenset()),
        "team": replace(base, team_ids=frozenset({team})),
        "specialist": replace(base, specialist_ids=frozenset({sp})),
        "nobody": replace(base, unassigned_only=True, statuses=frozenset()),
        "nobody, open": replace(base, unassigned_only=True),
        "kind": replace(base, kinds=frozenset({TaskKind.RENEWAL_COLLECTION})),
        "overdue": replace(base, overdue_only=True),
    }
    print(
        f"{'filter':16} {'sort':17} {'first':>7} {'page 6':>7} {'count':>7}"
        + (f" {'old first':>10}" if args.old else "")
    )
    worst = 0.0
    for fname, f in filters.items():
        if args.filters and fname not in args.filters:
            continue
        for sort in SORTS:
            for desc in (False, True):
                with Session() as s:
                    page = partial(pages.task_page, s, f, sort, descending=desc)
                    first = _ms(page, args.runs)
                    after = None
                    for _ in range(5):
                        after = page(after=after).after
                        if after is None:
                            break
                    later = float("nan")
                    if after is not None:
                        later = _ms(partial(page, after=after), args.runs)
                    count = _ms(partial(t.count_tasks, s, f), 1)
                    old = ""
                    if args.old:
                        old = f" {_ms(partial(_old_first_page, t, s, f, sort, desc), 1):10.1f}"
                worst = max(worst, first, 0.0 if later != later else later)
                name = f"{sort}{' desc' if desc else ''}"
                print(f"{fname:16} {name:17} {first:7.1f} {later:7.1f} {count:7.1f}{old}")
    print(f"slowest page: {worst:.1f} ms")


if __name__ == "__main__":
    main()
