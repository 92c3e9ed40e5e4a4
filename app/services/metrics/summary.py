"""The monthly persistency cells (``persistency_month``): written beside the base rows, read
by reports for the months whose grace period has passed.

A cell adds up the base rows of one due month and one specialist ('S' grain) or one grid ('G'
grain) that a report would count: rows terminated by death or claim before their due date are
left out, ``persisting`` counts rows paid in full within the branch's grace period and
``premium_received_fen`` what came in within it. For a month whose last day plus the grace
period lies on or before the as-of date no row is pending and every receipt within the grace
period came on or before the as-of date, so the cell holds exactly what the report computes
from the base rows; later months are still read from the base rows.

Every change to ``persistency_base`` goes through ``app.services.metrics.base_table``, which
calls :func:`rebuild` after a whole refresh and :func:`apply_change` around a partial one: the
cells of the touched rows are read before and after, and the difference is added.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from app.models import Branch, PersistencyBase, PersistencyMonth, Specialist
from app.services.database.sqlfuncs import upsert

GRAINS = {"S": PersistencyBase.specialist_id, "G": PersistencyBase.grid_id}
_KEY = ("grain", "policy_year", "due_month", "branch_id", "key_id")
_SUMS = ("policies", "persisting", "premium_due_fen", "premium_received_fen")
_COLUMNS = [*_KEY, "grace_days", *_SUMS]

Cells = dict[tuple, list[int]]  # key (grain, year, month, branch, key_id) -> grace, sums


# -- writing -------------------------------------------------------------------------------------


def _cells_select(grain: str, where: Sequence[ColumnElement[bool]]) -> Select:
    """The cells of one grain computed from the base rows that match ``where``."""
    from app.services.database.sqlfuncs import month_of

    b = PersistencyBase
    kept = or_(b.terminated_on.is_(None), b.terminated_on >= b.due_date)
    in_grace = and_(b.days_late.is_not(None), b.days_late <= Branch.grace_days)
    month = month_of(b.due_date)
    key = func.coalesce(GRAINS[grain], 0)
    return (
        select(
            literal(grain),
            b.policy_year,
            month,
            b.branch_id,
            key,
            Branch.grace_days,
            func.count(),
            func.sum(case((and_(in_grace, b.received_fen >= b.amount_due_fen), 1), else_=0)),
            func.sum(b.amount_due_fen),
            func.sum(case((in_grace, b.received_fen), else_=0)),
        )
        .join(Branch, Branch.id == b.branch_id)
        .where(kept, *where)
        .group_by(b.policy_year, month, b.branch_id, key, Branch.grace_days)
    )


def rebuild(session: Session) -> None:
    """Write every cell again from the base rows."""
    session.execute(delete(PersistencyMonth))
    for grain in GRAINS:
        session.execute(insert(PersistencyMonth).from_select(_COLUMNS, _cells_select(grain, [])))


def read_cells(session: Session, where: Sequence[ColumnElement[bool]]) -> Cells:
    """Return the cells, both grains, of the base rows matching ``where`` (a few policies)."""
    cells: Cells = {}
    for grain in GRAINS:
        for r in session.execute(_cells_select(grain, where)):
            cells[tuple(r[:5])] = [int(v or 0) for v in r[5:]]
    return cells


def apply_change(
    session: Session, where: Sequence[ColumnElement[bool]], change: Callable[[], Any]
) -> Any:
    """Run ``change()`` (which rewrites the base rows matching ``where``, before and after)
    and bring the cells along by the difference; return what ``change`` returned."""
    before = read_cells(session, where)
    result = change()
    after = read_cells(session, where)
    _add(session, before, after)
    return result


def _add(session: Session, before: Cells, after: Cells) -> None:
    rows = []
    for key in before.keys() | after.keys():
        old = before.get(key, [0] * 5)
        new = after.get(key, [0] * 5)
        diff = [n - o for n, o in zip(new[1:], old[1:], strict=True)]
        if any(diff):
            grace = new[0] if key in after else old[0]
            rows.append(
                dict(zip(_KEY, key, strict=True))
                | {"grace_days": grace}
                | dict(zip(_SUMS, diff, strict=True))
            )
    if not rows:
        return
    table = cast(Table, PersistencyMonth.__table__)
    stmt = upsert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={"grace_days": stmt.excluded.grace_days}
        | {c: table.c[c] + stmt.excluded[c] for c in _SUMS},
    )
    session.execute(stmt, rows)
    # A cell left with no policy (its rows moved to another specialist or grid) goes, as a
    # report computed from the base rows would show no group for it.
    empty = delete(table).where(
        *(table.c[k] == bindparam(f"k_{k}") for k in _KEY), table.c.policies == 0
    )
    session.execute(empty, [{f"k_{k}": r[k] for k in _KEY} for r in rows])


# -- reading -------------------------------------------------------------------------------------


def covered_until(start: date, end: date, as_of: date, grace: int) -> date | None:
    """Return the last day of the last whole month from ``start`` that the cells can answer
    (ended on or before ``end`` and past its grace period on ``as_of``), or None."""
    if start.day != 1:
        return None
    limit = min(end, as_of - timedelta(days=grace))
    last = None
    month = start
    while True:
        nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        if nxt - timedelta(days=1) > limit:
            return last
        last = nxt - timedelta(days=1)
        month = nxt


def grain_for(
    by: Sequence[str],
    team_ids: Collection[int] | None,
    specialist_ids: Collection[int] | None,
) -> str | None:
    """Return the grain that can answer a report grouped by ``by`` with these filters."""
    fields = set(by)
    if fields & {"payment_mode", "product", "contact_band"}:
        return None
    if "grid" in fields:
        if fields & {"specialist", "team"} or team_ids is not None or specialist_ids is not None:
            return None
        return "G"
    return "S"


def aggregate(
    session: Session,
    *,
    grain: str,
    first_month: str,
    last_month: str,
    year: int,
    grace: int,
    by: Sequence[str],
    branch_id: int | None,
    team_ids: Collection[int] | None,
    specialist_ids: Collection[int] | None,
) -> list[tuple] | None:
    """Return rows (group keys..., policies, persisting, pending, due, received) from the
    cells, as ``persistency._aggregate`` returns them; None when a cell was written with
    another grace period (the caller then reads the base rows)."""
    m = PersistencyMonth
    key = func.nullif(m.key_id, 0)
    exprs = {
        "grid": key,
        "specialist": key,
        "team": Specialist.team_id,
        "cohort": m.due_month,
    }
    keys: list[Any] = [exprs[f].label(f"k{i}") for i, f in enumerate(by)]
    stmt = select(
        *keys,
        func.sum(m.policies),
        func.sum(m.persisting),
        literal(0),
        func.sum(m.premium_due_fen),
        func.sum(m.premium_received_fen),
        func.sum(case((m.grace_days != grace, 1), else_=0)),
    ).where(
        m.grain == grain,
        m.policy_year == year,
        m.due_month >= first_month,
        m.due_month <= last_month,
    )
    if "team" in by or team_ids is not None:
        stmt = stmt.outerjoin(Specialist, Specialist.id == m.key_id)
    if branch_id is not None:
        stmt = stmt.where(m.branch_id == branch_id)
    if team_ids is not None:
        stmt = stmt.where(Specialist.team_id.in_(list(team_ids)))
    if specialist_ids is not None:
        stmt = stmt.where(m.key_id.in_(list(specialist_ids)))
    if keys:
        stmt = stmt.group_by(*keys)
    result = session.connection().execute(stmt)
    rows = result.cursor.fetchall()  # the driver's tuples: a few thousand cells, no Row objects
    result.close()
    if any(r[-1] for r in rows):
        return None
    return [r[:-1] for r in rows if keys or r[len(keys)] is not None]
