"""The monthly funnel cells (``funnel_month``): written before every commit that changed a
customer, read by funnel reports grouped by specialist, team, cohort or nothing.

A cell holds one pool-entry month of one branch and one current specialist: the cohort size,
the reached count of each step and, per step, a histogram of the days from pool entry to the
step. Counts add up across cells, and a median is exact from the summed histograms, so a report
over a year reads a few thousand cells instead of every customer of the cohort.

Triggers in the database (``app.models.funnel``) log the keys of every customer row inserted,
deleted or changed in a watched column; :func:`settle`, run by the sessions of
``app.services.database.unit_of_work`` before they commit, writes those cells again in the same
transaction. A report that still sees logged keys (its own session changed customers and has
not committed) reads the customers instead, so it is never stale. On PostgreSQL the settles of
concurrent transactions take turns on an advisory lock per branch: the second one reads the
customers after the first has committed (READ COMMITTED, which ``app.db.make_engine`` sets).
"""

from __future__ import annotations

import weakref
from collections.abc import Collection, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    Engine,
    Table,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from app.models import Customer, FunnelDirty, FunnelMonth, Specialist
from app.services.customers.steps import STEP_COLUMNS
from app.services.database.sqlfuncs import days_between, is_postgres, lock_branches, month_of
from app.services.periods import Period, PeriodError

if TYPE_CHECKING:
    import numpy as np

Key = tuple[int, int, str]  # (branch_id, specialist_key, entry_month)
Totals = dict[object, tuple[int, tuple[int, ...]]]
Medians = dict[tuple[object, int], float]

I16 = 32767
DAY = "<i2"  # days from pool entry to a step, as the cells store them (a numpy dtype)
COUNT = "<i4"  # a cell's customers and reached counts
BUCKET_BITS = 4
BUCKET = 1 << BUCKET_BITS  # days per period of the first pass of the medians
DENSE_LIMIT = 8_000_000  # counts per slot and period held at once (64 MB)
FULL_REBUILD_KEYS = 400  # more stale cells than this: write them all again
PG_LOCK_CLASS = 0x6766_756E  # first key of the settle's per-branch advisory locks ('gfun')

_CELLS = cast(Table, FunnelMonth.__table__)
_DIRTY = cast(Table, FunnelDirty.__table__)
_STEPS = range(4)


# -- writing -------------------------------------------------------------------------------------


def pending(session: Session) -> bool:
    """Return True when this session sees customer changes the cells do not hold yet."""
    return session.execute(select(_DIRTY.c.id).limit(1)).first() is not None


def settle(session: Session) -> int:
    """Write again the cells whose customers changed since the last settle; return how many."""
    if not pending(session):
        return 0
    d = _DIRTY.c
    if is_postgres(session):
        # One lock per branch, taken in order: the second of two commits touching a branch's
        # cells waits until the first has committed, then reads the customers as they are.
        branches = sorted(session.scalars(select(d.branch_id).distinct()))
        lock_branches(session, PG_LOCK_CLASS, branches)
        found: Sequence[Any] = session.execute(
            text(
                "WITH d AS (DELETE FROM funnel_dirty WHERE branch_id = ANY(:b) "
                "RETURNING branch_id, specialist_key, entry_month) SELECT DISTINCT * FROM d"
            ),
            {"b": branches},
        ).all()
    else:
        # One writer at a time; the rows up to the largest id read are exactly those handled,
        # even if another connection commits marks between the two statements.
        last = session.scalar(select(func.max(d.id)))
        found = session.execute(
            select(d.branch_id, d.specialist_key, d.entry_month).where(d.id <= last).distinct()
        ).all()
        session.execute(delete(_DIRTY).where(d.id <= last))
    keys: set[Key] = {(int(b), int(s), str(m)) for b, s, m in found}
    if len(keys) > FULL_REBUILD_KEYS:
        rebuild(session, branch_ids={b for b, _, _ in keys})
    elif keys:
        _rewrite(session, keys)
    return len(keys)


def rebuild(session: Session, *, branch_ids: Collection[int] | None = None) -> None:
    """Write every cell (of the given branches) again from the customers, a quarter of pool
    entries at a time."""
    d, c = _DIRTY.c, _CELLS.c
    scope = [] if branch_ids is None else [Customer.branch_id.in_(sorted(branch_ids))]
    if branch_ids is None:
        session.execute(delete(_DIRTY))
        session.execute(delete(_CELLS))
    else:
        session.execute(delete(_DIRTY).where(d.branch_id.in_(sorted(branch_ids))))
        session.execute(delete(_CELLS).where(c.branch_id.in_(sorted(branch_ids))))
    first, last = session.execute(
        select(func.min(Customer.pool_entered_on), func.max(Customer.pool_entered_on)).where(*scope)
    ).one()
    if first is None or last is None:
        return
    start = date(first.year, first.month, 1)
    while start <= last:
        end = Period.month(start.year, start.month).end
        for _ in range(2):
            end = Period.month(*_next_month(end)).end
        rows = _customer_rows(
            session,
            [*scope, Customer.pool_entered_on >= start, Customer.pool_entered_on <= end],
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
    import numpy as np  # loaded when the cells are read or written, not on start-up

    index: dict[Key, int] = {}
    cell = np.fromiter(
        (index.setdefault((r[0], r[1], r[2]), len(index)) for r in rows),
        dtype=np.int64,
        count=len(rows),
    )
    days = np.array([tuple(r[3:7]) for r in rows], dtype=np.float64).reshape(len(rows), 4)
    n = len(index)
    keys = list(index)
    counts = np.zeros((n, 5), dtype=np.int64)  # customers, then reached per step
    counts[:, 0] = np.bincount(cell, minlength=n)
    wide = np.zeros(n, dtype=bool)
    parts: list[list[np.ndarray]] = [[] for _ in range(n)]
    for step in _STEPS:
        ok = ~np.isnan(days[:, step])
        c, d = cell[ok], days[ok, step].astype(np.int64)
        order = np.lexsort((d, c))  # by cell, then by days: the same bytes however rows came
        c, d = c[order], d[order]
        bounds = np.searchsorted(c, np.arange(n + 1))
        counts[:, step + 1] = np.diff(bounds)
        wide[np.unique(c[(d < -I16) | (d > I16)])] = True
        for i in range(n):
            parts[i].append(d[bounds[i] : bounds[i + 1]])
    return [
        {
            "entry_month": m,
            "branch_id": b,
            "specialist_key": s,
            "counts": counts[i].astype(COUNT).tobytes(),
            # A day int16 cannot hold: no days, and reports read these customers instead.
            "days": b"" if wide[i] else np.concatenate(parts[i]).astype(DAY).tobytes(),
        }
        for i, (b, s, m) in enumerate(keys)
    ]


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
    if not _has_cells(session) or pending(session):
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
        # As the driver sends them: LargeBinary's per-value conversion costs more than the rest.
        type_coerce(c.counts, NullType()),
        type_coerce(c.days, NullType()),
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
    # The driver's own tuples: SQLAlchemy's rows cost more than the rest of the read here.
    result = session.connection().execute(stmt)
    rows = result.cursor.fetchall()
    result.close()
    return _sum_cells(rows, grouped=by is not None)


_CELL_TABLES: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def _has_cells(session: Session) -> bool:
    """Return whether the database has the cells (an offline snapshot taken by an older
    GridDesk, opened read-only, does not)."""
    engine = session.get_bind().engine
    if not _CELL_TABLES.get(engine):
        _CELL_TABLES[engine] = inspect(session.connection()).has_table(_DIRTY.name)
    return _CELL_TABLES[engine]


def _sum_cells(rows: Sequence[Sequence[Any]], *, grouped: bool) -> tuple[Totals, Medians] | None:
    """Add up cells (group key, counts, days) per group; None when a cell holds no days for
    the customers it counts (days int16 cannot hold) or the counts per group and period would
    take more memory than reading the customers."""
    import numpy as np  # loaded when the cells are read or written, not on start-up

    index: dict[object, int] = {} if grouped else {"all": 0}
    group = np.fromiter(
        (index.setdefault(r[0], len(index)) for r in rows), dtype=np.int64, count=len(rows)
    )
    names = list(index)
    n = len(names)
    _, count_blobs, day_blobs = zip(*rows, strict=True) if rows else ((), (), ())
    counts = np.frombuffer(b"".join(count_blobs), dtype=COUNT).reshape(len(rows), 5)
    size = np.bincount(group, weights=counts[:, 0], minlength=n)
    days = np.frombuffer(b"".join(day_blobs), dtype=DAY)
    per_cell = counts[:, 1:]
    if len(days) != per_cell.sum():
        return None
    # Each day's slot, group * 4 + step, in the order the cells list them.
    width = np.int16 if n * 4 <= I16 else np.int32
    slot = np.repeat((group[:, None] * 4 + np.arange(4)).astype(width), per_cell.ravel())
    reached = np.zeros((n, 4), dtype=np.int64)
    medians: Medians = {}
    if len(days):
        found = _middle_days(days, slot, n * 4)
        if found is None:
            return None
        total, lo, hi = found
        reached = total.reshape(n, 4)
        for k in np.flatnonzero(total):
            medians[(names[k // 4], int(k % 4))] = float((lo[k] + hi[k]) / 2)
    totals: Totals = {
        name: (int(size[gi]), tuple(int(v) for v in reached[gi])) for gi, name in enumerate(names)
    }
    return totals, medians


def _middle_days(
    days: np.ndarray, slot: np.ndarray, slots: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Return, per slot, its customers and the days of its two middle customers (the same one
    for an odd count), from one day per customer owned by ``slot``; None when the counts per
    slot and period would take more memory than reading the customers.

    Two small counts instead of one per slot and day: customers per slot and BUCKET-day period,
    whose running count finds the period of each middle customer, then customers per day within
    those periods only."""
    import numpy as np  # loaded when the cells are read or written, not on start-up

    low, high = int(days.min()), int(days.max())
    # The narrowest integers that hold the numbers, worked in place: allocating arrays as long
    # as the days is much of the cost here.
    period = days - np.int16(low) if high - low <= I16 else days.astype(np.int32) - low
    period >>= BUCKET_BITS
    periods = ((high - low) >> BUCKET_BITS) + 1
    if slots * periods > DENSE_LIMIT:
        return None
    code = slot.astype(np.int32)  # NumPy 1 would keep int16 for slot * periods, and overflow
    code *= periods
    code += period
    running = np.bincount(code, minlength=slots * periods)
    np.cumsum(running, out=running)
    ends = running[periods - 1 :: periods]
    before = np.concatenate([[0], ends[:-1]])
    total = ends - before
    live = np.flatnonzero(total)
    first, start = live * periods, before[live]
    # For each slot with customers, the period holding its lower and its upper middle customer
    # (0-based rank within the slot) as an index into ``running``, and the customers before it.
    ranks = ((total[live] - 1) // 2, total[live] // 2)
    at = [np.searchsorted(running, start + r, side="right") for r in ranks]
    earlier = [np.where(a > first, running[a - 1], start) for a in at]
    # Then the customers per day within those periods only: each period that holds a middle
    # customer gets a row of BUCKET days (the upper middle's row when both share a period).
    row = np.full(slots * periods, -1, dtype=np.int32)
    for k, a in enumerate(at):
        row[a] = np.arange(len(live), dtype=np.int32) * 2 + k
    mine = np.flatnonzero((row >= 0)[code])  # a few in a hundred
    day_in_period = (days[mine].astype(np.int32) - low) & (BUCKET - 1)
    fine = np.bincount(
        row[code[mine]] * BUCKET + day_in_period, minlength=len(live) * 2 * BUCKET
    ).reshape(len(live) * 2, BUCKET)
    np.cumsum(fine, axis=1, out=fine)
    middle = []
    for r, a, e in zip(ranks, at, earlier, strict=True):
        day = (fine[row[a]] > (start + r - e)[:, None]).argmax(axis=1)
        found = np.zeros(slots, dtype=np.int64)
        found[live] = (a - first) * BUCKET + day + low
        middle.append(found)
    return total, middle[0], middle[1]
