"""Concurrent sessions on PostgreSQL: throughput, errors and the totals checked afterwards.

    .venv/bin/python benchmarks/bench_load.py --pg postgresql+psycopg://user@host:5432/postgres
        [--sessions 8] [--seconds 30] [--customers-per-grid 6]

Makes a database of its own on the server (dropped at the end), builds the load branch of
tests/services/load_scenario.py (specialists in a row of touching grids, each customer with an
open task), runs the sessions (imports, hand-over plan applies, task reassignments and reads in
turn, one unit of work per session as the app's windows do) for the time given, then checks
that every committed import is there whole, each customer's specialist agrees with its grid
and its last assignment event, the outbox holds exactly the messages the applies made, one
change batch per change, and no session or lock is left hanging. Prints the figures; exits 1
when anything was lost or an unexpected error happened. ``--pg`` defaults to GRIDDESK_TEST_PG.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "services"))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.db import make_engine, migrate  # noqa: E402
from app.services.database.unit_of_work import sessionmaker as session_factory  # noqa: E402


def main() -> int:
    from load_scenario import build_branch, check_totals, report, run_load

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", default=os.environ.get("GRIDDESK_TEST_PG"))
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--customers-per-grid", type=int, default=6)
    args = ap.parse_args()
    if not args.pg:
        ap.error("give --pg URL (or set GRIDDESK_TEST_PG): a PostgreSQL server to run on")
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    name = f"griddesk_load_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(args.pg).set(database=name).render_as_string(hide_password=False))
    try:
        migrate(engine)
        Session = session_factory(engine)  # noqa: N806
        branch = build_branch(Session, customers_per_grid=args.customers_per_grid)
        with tempfile.TemporaryDirectory() as folder:
            figures = run_load(
                Session, branch, Path(folder), sessions=args.sessions, seconds=args.seconds
            )
        check_totals(Session, figures)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(report(figures))
    print(f"refused (lost a race, nothing written): {dict(figures.refused)}")
    print(f"nothing to do: {dict(figures.idle)}")
    for line in figures.errors[:5] + figures.problems[:20] + figures.apart[:5]:
        print("  " + line.strip().replace("\n", "\n  "))
    return 1 if figures.errors or figures.problems or figures.apart else 0


if __name__ == "__main__":
    sys.exit(main())
