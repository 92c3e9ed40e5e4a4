"""The monthly funnel cells (``funnel_month``): written before every commit that changed a
customer, read by funnel reports grouped by specialist, team, cohort or nothing.

A cell holds one pool-entry month of one branch and one current specialist: the cohort size,
the reached count of each step and, per step, a histogram of the days from pool entry to the
step. Counts add up across cells, and a median is exact from the summed histograms, so a report
over a year reads a few thousand cells instead of every customer of the cohort.

Triggers in the database (``app.models.funnel``) log the keys of every customer row inserted,
deleted or changed in a watched column; :func:`settle`, run by the sessions of
``app.db.make_sessionmaker`` before they commit, writes those cells again in the same
transaction. A report that still sees logged keys (its own session changed customers and has
not committed) reads the customers instead, so it is never stale. On PostgreSQL the settles of
concurrent transactions take turns on an advisory lock: the second one reads the customers after
the first has committed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import bindparam, delete, event, func, insert, literal, or_, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.models import Customer, FunnelDirty, FunnelMonth, Specialist
from app.services.periods import Period, PeriodError
from app.services.sqlfuncs import days_between, month_of
from app.services.steps import STEP_COLUMNS

Key = tuple[int, int, str]  # (branch_id, specialist_key, entry_month)
Totals = dict[object, tuple[int, tuple[int, ...]]]
Medians = dict[tuple[object, int], float]

I16 = 32767
PAIR = np.dtype("<i2")  # one histogram entry is two of these: days, customers
FULL_REBUILD_KEYS = 400  # more stale cells than this: write them all again
PG_LOCK_KEY = 0x6772_6964_6675  # pg_advisory_xact_lock key of the settle ('gridfu')

_CELLS = FunnelMonth.__table__
_DIRTY = FunnelDirty.__table__
_STEPS = range(4)


# -- writing -------------------------------------------------------------------------------------


def install(maker: sessionmaker[Session]) -> None:
    """Settle the cells before every commit of the sessions ``maker`` makes."""
    event.listen(maker, "before_commit", _before_commit)


def _before_commit(session: Session) -> None:
    session.flush()  # the triggers log the keys of what the flush writes
    settle(session)


def pending(session: Session) -> bool:
    """Return True when this session sees customer changes the cells do not hold yet."""
    return session.execute(select(_DIRTY.c.id).limit(1)).first() is not None


def settle(session: Session) -> int:
    """Write again the cells whose customers changed since the last settle; return how many."""
    if not pending(session):
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
        found = session.execute(
            text(
                "WITH d AS (DELETE FROM funnel_dirty "
                "RETURNING branch_id, specialist_key, entry_month) SELECT DISTINCT * FROM d"
            )
        )
    else:  # one writer at a time: what this transaction sees is all there is
        found = session.execute(
            select(_DIRTY.c.branch_id, _DIRTY.c.specialist_key, _DIRTY.c.entry_month).distinct()
        ).all()
        session.execute(delete(_DIRTY))
    keys: set[Key] = {(int(b), int(s), str(m)) for b, s, m in found}
    if len(keys) > FULL_REBUILD_KEYS:
        rebuild(session)
    elif keys:
        _rewrite(session, keys)
    return len(keys)


def rebuild(session: Session) -> None:
    """Write every cell again from the customers, a quarter of pool entries at a time."""
    session.execute(delete(_DIRTY))
    session.execute(delete(_CELLS))
    first, last = session.execute(
        select(func.min(Customer.pool_entered_on), func.max(Customer.pool_entered_on))
    ).one()
    if first is None:
        return
    start = date(first.year, first.month, 1)
    while start <= last:
        end = Period.month(start.year, start.month).end
        for _ in range(2):
            end = Period.month(*_next_month(end)).end
        rows = _customer_rows(
            session, [Customer.pool_entered_on >= start, Customer.pool_entered_on <= end]
        )
        _insert(session, build_cells(rows))
        start = date(*_next_month(end), 1)


def _next_month(day: date) -> tuple[int, int]:
    return (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)


def _rewrite(session: Session, keys: set[Key]) -> None:
    specialists = {s for _, s, _ in keys}
    months = sorted({m for _, _, m in keys})
    who = []
    if specialists - {0}:
        who.append(Customer.specialist_id.in_(sorted(specialists - {0})))
    if 0 in specialists:
        who.append(Customer.specialist_id.is_(None))
    where = [or_(*who), Customer.branch_id.in_(sorted({b for b, _, _ in keys}))]
    try:  # 'YYYY-MM' sorts by time; a date the database cannot spell as one reads them all
        first, last = Period.parse(months[0]), Period.parse(months[-1])
        where += [Customer.pool_entered_on >= first.start, Customer.pool_entered_on <= last.end]
    except PeriodError:
        pass
    rows = _customer_rows(session, where)
    rows = [r for r in rows if (r[0], r[1], r[2]) in keys]
    session.execute(
        delete(_CELLS).where(
            _CELLS.c.branch_id == bindparam("b"),
            _CELLS.c.specialist_key == bindparam("s"),
            _CELLS.c.entry_month == bindparam("m"),
        ),
        [{"b": b, "s": s, "m": m} for b, s, m in sorted(keys)],
    )
    _insert(session, build_cells(rows))


def _customer_rows(session: Session, where: Sequence[Any]) -> list[Any]:
    entered = Customer.pool_entered_on
    stmt = select(
        Customer.branch_id,
        func.coalesce(Customer.specialist_id, 0),
        month_of(entered),
        *(days_between(getattr(Customer, c), entered) for c in STEP_COLUMNS),
    ).where(entered.is_not(None), *where)
    return list(session.connection().execute(stmt).all())


def _insert(session: Session, cells: list[dict[str, Any]]) -> None:
    if cells:
        session.execute(insert(_CELLS), cells)


def build_cells(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Return the cells of customer rows (branch, specialist key, month, days to steps 1-4 or
    None), as dictionaries of ``funnel_month`` columns."""
    index: dict[Key, int] = {}
    cell = np.fromiter(
        (index.setdefault((r[0], r[1], r[2]), len(index)) for r in rows),
        dtype=np.int64,
        count=len(rows),
    )
    days = np.array([tuple(r[3:7]) for r in rows], dtype=np.float64).reshape(len(rows), 4)
    n = len(index)
    size = np.bincount(cell, minlength=n)
    out: list[dict[str, Any]] = [
        {
            "entry_month": m,
            "branch_id": b,
            "specialist_key": s,
            "customers": int(size[i]),
            "wide": False,
        }
        for (b, s, m), i in index.items()
    ]
    for step in _STEPS:
        ok = ~np.isnan(days[:, step])
        c, d = cell[ok], days[ok, step].astype(np.int64)
        reached = np.bincount(c, minlength=n)
        for i in np.unique(c[(d < -I16) | (d > I16)]):
            out[int(i)]["wide"] = True
        if len(d):
            low = int(d.min())
            span = int(d.max()) - low + 1
            code, counts = np.unique(c * span + (d - low), return_counts=True)
            cells_of, days_of = code // span, code % span + low
        else:
            cells_of = days_of = counts = np.zeros(0, dtype=np.int64)
        bounds = np.searchsorted(cells_of, np.arange(n + 1))
        for i, rec in enumerate(out):
            a, b = bounds[i], bounds[i + 1]
            rec[f"reached_{step + 1}"] = int(reached[i])
            rec[f"days_{step + 1}"] = _encode(days_of[a:b], counts[a:b])
    for rec in out:
        if rec["wide"]:  # days a histogram cannot hold: reports read the customers
            for step in _STEPS:
                rec[f"days_{step + 1}"] = b""
    return out


def _encode(days: np.ndarray, counts: np.ndarray) -> bytes:
    """Return (days, customers) int16 pairs; a count over int16 is split into several pairs of
    the same day, which the reader adds up again."""
    if len(counts) and counts.max() > I16:
        parts = -(-counts // I16)
        days = np.repeat(days, parts)
        split = np.full(len(days), I16, dtype=np.int64)
        split[np.cumsum(parts) - 1] = counts - (parts - 1) * I16
        counts = split
    if not len(days) or days.min() < -I16 or days.max() > I16:
        return b""
    return np.stack([days, counts], axis=1).astype(PAIR).tobytes()


# -- reading -------------------------------------------------------------------------------------


def aggregate(
    session: Session,
    *,
    cohort: Period,
    by: str | None,
    branch_id: int | None,
    team_ids: Collection[int] | None,
    specialist_ids: Collection[int] | None,
) -> tuple[Totals, Medians] | None:
    """Return each group's cohort size and reached counts and the median days to each step,
    as ``funnel._counts_and_medians`` returns them, from the cells; None when the cells cannot
    answer (grouped by grid, a period not made of whole months, changes not settled yet, or a
    cell with days out of range)."""
    if (
        by == "grid"
        or cohort.start.day != 1
        or cohort.end != Period.month(cohort.end.year, cohort.end.month).end
    ):
        return None
    if pending(session):
        return None
    c = _CELLS.c
    keys = {
        "specialist": func.nullif(c.specialist_key, 0),
        "team": Specialist.team_id,
        "cohort": c.entry_month,
        None: literal("all"),
    }
    stmt = select(
        keys[by],
        c.customers,
        *(c[f"reached_{s + 1}"] for s in _STEPS),
        *(c[f"days_{s + 1}"] for s in _STEPS),
        c.wide,
    ).where(
        c.entry_month >= cohort.start.strftime("%Y-%m"),
        c.entry_month <= cohort.end.strftime("%Y-%m"),
    )
    if by == "team" or team_ids is not None:
        stmt = stmt.select_from(_CELLS).outerjoin(Specialist, Specialist.id == c.specialist_key)
    if branch_id is not None:
        stmt = stmt.where(c.branch_id == branch_id)
    if team_ids is not None:
        stmt = stmt.where(Specialist.team_id.in_(list(team_ids)))
    if specialist_ids is not None:
        stmt = stmt.where(c.specialist_key.in_(list(specialist_ids)))
    rows = session.connection().execute(stmt).all()
    if any(r[-1] for r in rows):
        return None
    return _sum_cells(rows, grouped=by is not None)


def _sum_cells(rows: Sequence[Sequence[Any]], *, grouped: bool) -> tuple[Totals, Medians]:
    index: dict[object, int] = {} if grouped else {"all": 0}
    group = np.fromiter(
        (index.setdefault(r[0], len(index)) for r in rows), dtype=np.int64, count=len(rows)
    )
    names = list(index)
    n = len(names)
    columns = list(zip(*rows, strict=True)) if rows else [()] * 10
    size = np.bincount(group, weights=np.asarray(columns[1], dtype=np.float64), minlength=n)
    reached = [
        np.bincount(group, weights=np.asarray(columns[2 + s], dtype=np.float64), minlength=n)
        for s in _STEPS
    ]
    medians: Medians = {}
    for step in _STEPS:
        blobs: Sequence[bytes] = columns[6 + step]
        pairs = np.frombuffer(b"".join(blobs), dtype=PAIR).reshape(-1, 2).astype(np.int64)
        if not len(pairs):
            continue
        lengths = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs)) // 4
        owner = np.repeat(group, lengths)
        low = int(pairs[:, 0].min())
        span = int(pairs[:, 0].max()) - low + 1
        # One row of customers per day for each group; the median is where the running count
        # passes the middle (the mean of the two middle values for an even count).
        dense = np.bincount(
            owner * span + (pairs[:, 0] - low), weights=pairs[:, 1], minlength=n * span
        ).reshape(n, span)
        running = np.cumsum(dense, axis=1)
        total = running[:, -1]
        lo = (running > ((total - 1) // 2)[:, None]).argmax(axis=1)
        hi = (running > (total // 2)[:, None]).argmax(axis=1)
        for gi in np.flatnonzero(total):
            medians[(names[gi], step)] = float((lo[gi] + hi[gi]) / 2 + low)
    totals: Totals = {
        name: (int(size[gi]), tuple(int(r[gi]) for r in reached)) for gi, name in enumerate(names)
    }
    return totals, medians
