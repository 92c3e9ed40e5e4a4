"""The weekly visit lists (issue 19) of every active specialist of the `city` demo.

    .venv/bin/python benchmarks/bench_visits.py [--db benchmarks/data/city.db] [--runs 3]
        [--as-of 2026-11-25] [--week 2026-W48]

The `city` demo is built into --db first when the file is missing (about a minute), as
bench_exports.py expects it; it is opened read-only. Measured:

1. ``build_visit_lists`` for every active specialist at once (gathering and routing), median
   of --runs; goal: under 5 s.
2. The routes: the lists' total length walked in list order against the same stops in
   customer-number order, and the median ratio per specialist.
3. Writing the first team's lists as a workbook and as a PDF (seconds, and per PDF page).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(path: Path, as_of: date) -> None:
    from app.db import make_engine, migrate
    from app.services.database.unit_of_work import sessionmaker as session_factory
    from app.services.demo import build_demo

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{tmp}")
    migrate(engine)
    with session_factory(engine)() as s, s.begin():
        build_demo(s, size="city", seed=7, as_of=as_of)
    engine.dispose()
    tmp.replace(path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default=str(ROOT / "benchmarks" / "data" / "city.db"))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--as-of", default="2026-11-25")
    p.add_argument("--week", default="2026-W48")
    args = p.parse_args()
    as_of = date.fromisoformat(args.as_of)
    db = Path(args.db)
    if not db.exists():
        print(f"building the city demo into {db} …")
        build(db, as_of)

    from sqlalchemy import select

    from app.db import make_engine
    from app.models import Specialist, Team
    from app.models.enums import SpecialistStatus
    from app.services.database.unit_of_work import sessionmaker as session_factory
    from app.services.exports.visits import write_visit_lists
    from app.services.visits.lists import build_visit_lists, week_of

    Session = session_factory(make_engine(f"sqlite:///{db}", read_only=True))  # noqa: N806
    monday = week_of(args.week)
    with Session() as s:
        ids = list(
            s.scalars(
                select(Specialist.id)
                .where(Specialist.status == SpecialistStatus.ACTIVE)
                .order_by(Specialist.employee_no)
            )
        )
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            lists = build_visit_lists(s, ids, monday, as_of)
            times.append(time.perf_counter() - t)
        stops = [len(v.stops) for v in lists]
        print(f"{len(ids)} specialists, week {args.week}, as of {as_of}")
        print(
            f"  build_visit_lists: median {statistics.median(times):.2f} s of {args.runs} "
            f"({', '.join(f'{x:.2f}' for x in times)})"
        )
        print(
            f"  customers listed: {sum(stops):,} (per specialist min {min(stops)}, "
            f"median {statistics.median(stops):.0f}, max {max(stops)}); planned "
            f"{sum(s - len(v.unplanned) for s, v in zip(stops, lists, strict=True)):,}"
        )
        route = sum(v.route_m for v in lists) / 1000
        unordered = sum(v.unordered_m for v in lists) / 1000
        ratios = [v.route_m / v.unordered_m for v in lists if v.unordered_m]
        print(
            f"  route {route:,.1f} km, unordered {unordered:,.1f} km ({route / unordered:.1%});"
            f" median per specialist {statistics.median(ratios):.1%}"
        )
        days = [d for v in lists for d in v.days if d.stops]
        print(
            f"  a working day's route: median {statistics.median(d.route_m for d in days) / 1000:.1f}"
            f" km over {statistics.median(len(d.stops) for d in days):.0f} customers"
        )
        team = s.scalar(select(Team.id).order_by(Team.code))
        members = [
            i
            for i in ids
            if s.get(Specialist, i).team_id == team  # type: ignore[union-attr]
        ]
        with tempfile.TemporaryDirectory(prefix="bench-visits-") as tmp:
            for suffix in (".xlsx", ".pdf"):
                t = time.perf_counter()
                result = write_visit_lists(
                    s,
                    Path(tmp) / f"team{suffix}",
                    specialist_ids=members,
                    week_monday=monday,
                    as_of=as_of,
                )
                took = time.perf_counter() - t
                pages = f", {took / (len(members) * 5):.2f} s a page" if suffix == ".pdf" else ""
                print(
                    f"  first team ({len(members)} specialists) as {suffix}: {took:.1f} s"
                    f" ({result.rows:,} customers{pages})"
                )


if __name__ == "__main__":
    main()
