"""The metrics at branch scale: derived data refresh, persistency and funnel, against DuckDB.

    .venv/bin/python benchmarks/bench_metrics.py [--size large] [--runs 5] [--rebuild]

Builds (once, cached under benchmarks/data/) the ``large`` demo branch with the app's own
generator (``griddesk demo --size large``: 2,000 grids, 200 specialists, ~300k customers,
~1M policies, their premium dues, tasks and assignment history; about ten minutes). Then:

1. rebuilds the derived data and times it: the whole persistency base (``refresh_persistency_base``)
   and the 4-sell steps of every customer (``recompute_steps``), and a partial refresh of 2,000
   policies as an import or a rebalance does it; all the funnel cells, and the settle of the
   cells after 2,000 customers move;
2. loads the same rows from the SQLite file into an in-memory DuckDB (load timed apart);
3. times (median of --runs) 13-month persistency of the last full year by specialist x cohort
   month (``persistency_report(by=("specialist", "cohort"))``) and the funnel of that year's
   pool cohort by specialist (``funnel_report``, from the monthly funnel cells; and, for
   reference, from one row per cohort customer), each through the app's own code, and DuckDB
   computing the same figures: persistency from the raw policies, dues, customers and moves
   (first due of year 2, cap, death/claim, attribution on the due date, grace, pending), from
   the persistency_base rows, and the funnel. GridDesk and DuckDB take turns run by run;
4. asserts that every figure agrees to the fen (counts and amounts) and medians exactly.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import update  # noqa: E402

from app.db import make_engine, migrate  # noqa: E402
from app.models import Customer  # noqa: E402
from app.services.customers.steps import recompute_steps  # noqa: E402
from app.services.database.unit_of_work import sessionmaker as session_factory
from app.services.metrics import funnel_cells  # noqa: E402
from app.services.metrics.base_table import refresh_persistency_base  # noqa: E402
from app.services.metrics.funnel import _aggregate_rows, funnel_report  # noqa: E402
from app.services.metrics.persistency import persistency_report  # noqa: E402
from app.services.periods import Period  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
AS_OF = date(2026, 11, 25)  # the demo's today: the data are the same on every machine
YEAR = Period.parse(str(AS_OF.year - 1))  # the last full year: every due in it has matured
GRACE = 60  # set from the branch when the data are opened


def build(path: Path, size: str, seed: int) -> None:
    """Write the demo branch of ``size`` into a new SQLite file at ``path``."""
    from app.cli.progress import TerminalProgress
    from app.services.demo import build_demo

    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{tmp}")
    migrate(engine)
    with session_factory(engine)() as s, s.begin():
        build_demo(s, size=size, seed=seed, as_of=AS_OF, state=TerminalProgress())
    engine.dispose()
    tmp.replace(path)


def timed(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    """Return the median seconds of ``runs`` calls and the last result."""
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def alternate(
    first: Callable[[], object], second: Callable[[], object], runs: int
) -> tuple[tuple[float, object], tuple[float, object]]:
    """Return (median seconds, last result) of each of two functions called in turn."""
    times: tuple[list[float], list[float]] = ([], [])
    results: list[object] = [None, None]
    for _ in range(runs):
        for i, fn in enumerate((first, second)):
            t = time.perf_counter()
            results[i] = fn()
            times[i].append(time.perf_counter() - t)
    return (
        (statistics.median(times[0]), results[0]),
        (statistics.median(times[1]), results[1]),
    )


def ms(seconds: float) -> str:
    if seconds < 0.1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


# -- the app's side -----------------------------------------------------------------------------


def refresh(Session, report: dict) -> None:  # noqa: N803
    with Session() as s, s.begin():
        t = time.perf_counter()
        rows = refresh_persistency_base(s)
        report["refresh_base"] = time.perf_counter() - t
        report["base_rows"] = rows
    with Session() as s, s.begin():
        t = time.perf_counter()
        changed = recompute_steps(s)
        report["recompute_steps"] = time.perf_counter() - t
        report["steps_changed"] = changed
    with Session() as s, s.begin():
        ids = list(range(1, 1_000_000, 500))[:2_000]
        t = time.perf_counter()
        refresh_persistency_base(s, policy_ids=ids)
        report["refresh_2000"] = time.perf_counter() - t
    with Session() as s, s.begin():
        t = time.perf_counter()
        funnel_cells.rebuild(s)
        report["funnel_rebuild"] = time.perf_counter() - t
    with Session() as s:
        # 2,000 customers spread over the branch move to one specialist, as a large rebalance
        # does; the commit's settle writes their old and new cells again (rolled back here).
        ids = list(range(1, 300_000, 150))[:2_000]
        s.execute(update(Customer).where(Customer.id.in_(ids)).values(specialist_id=1))
        t = time.perf_counter()
        report["funnel_keys"] = funnel_cells.settle(s)
        report["funnel_settle"] = time.perf_counter() - t
        s.rollback()


def app_persistency(Session, period: Period = YEAR) -> dict:  # noqa: N803
    with Session() as s:
        rows = persistency_report(
            s, period=period, as_of=AS_OF, by=("specialist", "cohort"), grace_days=GRACE
        )
    return {
        r.group_key: (
            r.policies,
            r.persisting_policies,
            r.pending_policies,
            r.premium_due_fen,
            r.premium_received_fen,
        )
        for r in rows
    }


def app_funnel(Session) -> dict:  # noqa: N803
    with Session() as s:
        rows = funnel_report(s, cohort=YEAR, by="specialist")
    return {r.group_key: (r.cohort_size, r.reached, r.median_days) for r in rows}


def app_funnel_customers(Session) -> tuple:  # noqa: N803
    """The same figures from one row per cohort customer (the path without the cells)."""
    with Session() as s:
        return _aggregate_rows(
            s, cohort=YEAR, by="specialist", branch_id=None, team_ids=None, specialist_ids=None
        )


# -- DuckDB's side ------------------------------------------------------------------------------


def _days(expr: str) -> str:
    """SQLite expression: a date column as days since 1970-01-01 (NULL stays NULL)."""
    return f"CAST(julianday({expr}) - 2440587.5 AS INTEGER)"


LOADS = {
    "policy": "SELECT id, customer_id, payment_mode, status, "
    + _days("status_date")
    + " FROM policy",
    "dues": "SELECT policy_id, policy_year, "
    + _days("due_date")
    + ", amount_due_fen, amount_received_fen, "
    + _days("received_on")
    + " FROM premium_due",
    "customer": "SELECT id, specialist_id, "
    + ", ".join(
        _days(c)
        for c in ("pool_entered_on", "pre_sell_on", "soft_sell_on", "cross_sell_on", "up_sell_on")
    )
    + " FROM customer",
    "ev": "SELECT id, customer_id, CAST(round((julianday(at) - 2440587.5) * 86400000000) AS INTEGER),"
    " from_specialist_id FROM assignment_event WHERE customer_id IS NOT NULL",
    "base": "SELECT policy_year, "
    + _days("due_date")
    + ", amount_due_fen, received_fen, "
    + _days("received_on")
    + ", days_late, "
    + _days("terminated_on")
    + ", specialist_id FROM persistency_base WHERE policy_year = 2",
    # The monthly cells the app reads for months whose grace period has passed.
    "cells": "SELECT due_month, key_id, policies, persisting, premium_due_fen, "
    "premium_received_fen FROM persistency_month WHERE grain = 'S' AND policy_year = 2",
}
COLUMNS = {
    "policy": ["id", "customer_id", "payment_mode", "status", "status_day"],
    "dues": ["policy_id", "policy_year", "due", "amount_due", "amount_received", "recv"],
    "customer": ["id", "specialist_id", "entered", "d1", "d2", "d3", "d4"],
    "ev": ["id", "customer_id", "at_us", "from_sp"],
    "base": ["policy_year", "due", "amount_due", "received", "recv", "days_late", "term",
             "specialist_id"],
    "cells": ["due_month", "key_id", "policies", "persisting", "due_fen", "received_fen"],
}  # fmt: skip
DATES = {"status_day", "due", "recv", "entered", "d1", "d2", "d3", "d4", "term"}
TEXT = {"payment_mode", "status", "due_month"}
NULL = -(2**62)  # stands for NULL in the integer arrays handed to DuckDB


def load_duckdb(path: Path):
    """Return an in-memory DuckDB holding the rows the figures need, read from the file."""
    import duckdb

    con = duckdb.connect()
    src = sqlite3.connect(path)
    for name, sql in LOADS.items():
        rows = src.execute(sql).fetchall()
        cols = list(zip(*rows, strict=True)) if rows else [()] * len(COLUMNS[name])
        arrays = {}
        for col, values in zip(COLUMNS[name], cols, strict=True):
            if col in TEXT:
                arrays[col] = np.array(values, dtype=object)
            else:
                arrays[col] = np.array([NULL if v is None else v for v in values], np.int64)
        con.register("src", arrays)
        select = ", ".join(
            c
            if c in TEXT
            else f"CASE WHEN {c} = {NULL} THEN NULL ELSE "
            + (f"DATE '1970-01-01' + CAST({c} AS INTEGER)" if c in DATES else c)
            + f" END AS {c}"
            for c in COLUMNS[name]
        )
        con.execute(f"CREATE TABLE {name} AS SELECT {select} FROM src")
        con.unregister("src")
    src.close()
    con.execute(
        "CREATE TABLE evt AS SELECT id, customer_id, make_timestamp(at_us) AS at, from_sp FROM ev"
    )
    return con


PERIOD = f"due BETWEEN DATE '{YEAR.start}' AND DATE '{YEAR.end}'"
AGGREGATE = """
    count(*) FILTER (WHERE mature),
    count(*) FILTER (WHERE mature AND in_grace AND received >= amount_due),
    count(*) FILTER (WHERE NOT mature),
    coalesce(sum(amount_due) FILTER (WHERE mature), 0),
    coalesce(sum(received) FILTER (WHERE mature AND in_grace), 0)
"""


def duck_persistency_raw(con) -> dict:
    """13-month persistency by specialist x due month computed from the raw tables."""
    sql = f"""
    WITH first AS (
        SELECT policy_id, min(due) AS due FROM dues WHERE policy_year = 2 GROUP BY policy_id
    ), base AS (
        SELECT p.customer_id AS cid, c.specialist_id AS current_sp, f.due, d.amount_due,
               least(d.amount_received, d.amount_due) AS received, d.recv,
               CAST(f.due AS TIMESTAMP) + INTERVAL 16 HOUR AS due_end
        FROM first f
        JOIN dues d ON d.policy_id = f.policy_id AND d.due = f.due
        JOIN policy p ON p.id = f.policy_id
        JOIN customer c ON c.id = p.customer_id
        WHERE p.payment_mode <> 'single' AND f.{PERIOD}
          AND (p.status NOT IN ('death', 'claim') OR p.status IS NULL OR p.status_day IS NULL
               OR p.status_day >= f.due)
    ), attributed AS (
        SELECT b.*, CASE WHEN e.customer_id IS NULL THEN b.current_sp ELSE e.from_sp END AS sp
        FROM base b ASOF LEFT JOIN evt e ON e.customer_id = b.cid AND e.at >= b.due_end
    ), flagged AS (
        SELECT sp, strftime(due, '%Y-%m') AS month, amount_due, received,
               due + INTERVAL {GRACE} DAY <= DATE '{AS_OF}' AS mature,
               recv IS NOT NULL AND recv <= due + INTERVAL {GRACE} DAY
                   AND recv <= DATE '{AS_OF}' AS in_grace
        FROM attributed
    )
    SELECT sp, month, {AGGREGATE} FROM flagged GROUP BY sp, month
    """
    return {(r[0], r[1]): tuple(int(v) for v in r[2:]) for r in con.execute(sql).fetchall()}


def duck_persistency_base(con, period: Period = YEAR) -> dict:
    """The same figures from the persistency_base rows (of ``period``)."""
    sql = f"""
    WITH flagged AS (
        SELECT specialist_id AS sp, strftime(due, '%Y-%m') AS month, amount_due, received,
               due + INTERVAL {GRACE} DAY <= DATE '{AS_OF}' AS mature,
               days_late IS NOT NULL AND days_late <= {GRACE} AND recv <= DATE '{AS_OF}'
                   AS in_grace
        FROM base WHERE due BETWEEN DATE '{period.start}' AND DATE '{period.end}'
            AND (term IS NULL OR term >= due)
    )
    SELECT sp, month, {AGGREGATE} FROM flagged GROUP BY sp, month
    """
    return {(r[0], r[1]): tuple(int(v) for v in r[2:]) for r in con.execute(sql).fetchall()}


def duck_persistency_cells(con) -> dict:
    """The same figures from the same monthly cells the app reads (every month of the last full
    year is past its grace period, so the app reads only cells)."""
    sql = f"""
    SELECT nullif(key_id, 0), due_month, sum(policies), sum(persisting), 0, sum(due_fen),
           sum(received_fen)
    FROM cells WHERE due_month BETWEEN '{YEAR.start:%Y-%m}' AND '{YEAR.end:%Y-%m}'
    GROUP BY key_id, due_month
    """
    return {(r[0], r[1]): tuple(int(v) for v in r[2:]) for r in con.execute(sql).fetchall()}


def duck_funnel(con) -> dict:
    steps = ("d1", "d2", "d3", "d4")
    sql = f"""
    SELECT specialist_id, count(*), {", ".join(f"count({d})" for d in steps)},
           {", ".join(f"median({d} - entered)" for d in steps)}
    FROM customer WHERE entered BETWEEN DATE '{YEAR.start}' AND DATE '{YEAR.end}'
    GROUP BY specialist_id
    """
    return {
        r[0]: (int(r[1]), tuple(int(n) for n in r[2:6]), tuple(r[6:10]))
        for r in con.execute(sql).fetchall()
    }


# -- the run ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=("small", "city", "large"), default="large")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per query (median)")
    ap.add_argument("--rebuild", action="store_true", help="build the demo file again")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    DATA.mkdir(parents=True, exist_ok=True)
    global GRACE
    path = DATA / f"{args.size}.db"
    report: dict = {}
    if args.rebuild or not path.exists():
        t = time.perf_counter()
        build(path, args.size, args.seed)
        print(f"built the {args.size} demo in {time.perf_counter() - t:.1f} s")
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)  # a file built by an older GridDesk gets the newer tables
    with sqlite3.connect(path) as src:
        GRACE = src.execute("SELECT grace_days FROM branch").fetchone()[0]
        counts = {
            t: src.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
            for t in ("grid", "specialist", "customer", "policy", "premium_due", "task")
        }
    print(f"{path.name}: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    Session = session_factory(engine)  # noqa: N806
    refresh(Session, report)
    print(
        f"refresh: persistency base {ms(report['refresh_base'])} ({report['base_rows']:,} rows), "
        f"4-sell steps {ms(report['recompute_steps'])} "
        f"({report['steps_changed']:,} customers changed), "
        f"2,000 policies {ms(report['refresh_2000'])}; funnel cells: all {ms(report['funnel_rebuild'])}, "
        f"{report['funnel_keys']:,} cells after moving 2,000 customers {ms(report['funnel_settle'])}"
    )
    t_fun_rows, (totals, medians) = timed(lambda: app_funnel_customers(Session), args.runs)

    t = time.perf_counter()
    con = load_duckdb(path)
    t_load = time.perf_counter() - t
    duck_persistency_raw(con)
    t_raw, raw = timed(lambda: duck_persistency_raw(con), args.runs)
    # GridDesk and DuckDB take turns, run by run, so a busy moment of the machine costs both.
    app_funnel(Session)  # warm the page cache and the statement cache once
    app_persistency(Session)
    (t_pers, pers), (t_base, base) = alternate(
        lambda: app_persistency(Session), lambda: duck_persistency_base(con), args.runs
    )
    # The same cells: DuckDB adds up the monthly cells the app reads.
    (t_pers2, _), (t_cells, cells_duck) = alternate(
        lambda: app_persistency(Session), lambda: duck_persistency_cells(con), args.runs
    )
    # The current year: the months still in their grace period come from the base rows (the
    # app mixes cells and base rows; DuckDB reads the base rows).
    now = Period.parse(str(AS_OF.year))
    app_persistency(Session, now)
    (t_now, pers_now), (t_now_base, base_now) = alternate(
        lambda: app_persistency(Session, now), lambda: duck_persistency_base(con, now), args.runs
    )
    (t_funnel, funnel), (t_dfun, dfun) = alternate(
        lambda: app_funnel(Session), lambda: duck_funnel(con), args.runs
    )
    engine.dispose()

    assert {k: (v[0], v[1]) for k, v in funnel.items()} == totals, "cells and customers differ"
    assert all(funnel[k][2][i] == m for (k, i), m in medians.items()), (
        "cell medians differ from the customers'"
    )
    assert pers == raw, _diff(pers, raw)
    assert pers == base, _diff(pers, base)
    assert pers == cells_duck, _diff(pers, cells_duck)
    assert pers_now == base_now, _diff(pers_now, base_now)
    assert set(funnel) == set(dfun), "funnel groups differ"
    for k, (size, reached, med) in funnel.items():
        d_size, d_reached, d_med = dfun[k]
        assert (size, reached) == (d_size, d_reached), k
        assert all(
            (a is None and b is None) or abs(a - b) < 1e-9 for a, b in zip(med, d_med, strict=True)
        ), (k, med, d_med)
    cells = len(pers)
    policies = sum(v[0] + v[2] for v in pers.values())
    print(
        f"persistency {YEAR} by specialist x month ({cells:,} cells, {policies:,} rows): "
        f"GridDesk SQLite {ms(t_pers)}; DuckDB in memory {ms(t_raw)} from the raw tables, "
        f"{ms(t_base)} from the base rows"
    )
    print(
        f"funnel of the {YEAR} cohort by specialist ({sum(v[0] for v in funnel.values()):,} "
        f"customers): GridDesk SQLite {ms(t_funnel)} from the monthly cells "
        f"({ms(t_fun_rows)} from the customers); DuckDB in memory {ms(t_dfun)}"
    )
    print(
        f"persistency {YEAR}, the same monthly cells: GridDesk {ms(t_pers2)}, DuckDB {ms(t_cells)}"
    )
    print(
        f"persistency {now} (months in their grace period from the base rows): GridDesk "
        f"{ms(t_now)}, DuckDB from the base rows {ms(t_now_base)}"
    )
    print(
        f"GridDesk / DuckDB: persistency {t_pers / t_raw:.2f} against the raw tables, "
        f"{t_pers / t_base:.2f} against the base rows, {t_pers2 / t_cells:.2f} against the same "
        f"cells; {now}: {t_now / t_now_base:.2f} against the base rows; funnel "
        f"{t_funnel / t_dfun:.2f} (DuckDB from the customers)"
    )
    print(f"DuckDB load from the SQLite file: {ms(t_load)}; all figures agree to the fen")
    return 0


def _diff(a: dict, b: dict) -> str:
    keys = sorted(set(a) ^ set(b), key=str)[:5]
    if keys:
        return f"groups only on one side: {keys}"
    bad = [(k, a[k], b[k]) for k in sorted(a, key=str) if a[k] != b[k]][:5]
    return f"differing cells: {bad}"


if __name__ == "__main__":
    raise SystemExit(main())
