"""Keeps the persistency_base table (one row per policy and policy year 2 or 3) current.

Each row copies the policy's FIRST due row of that policy year (earliest due date): what was
due, what came in (capped at the amount due) and when, the date of a termination by death or
claim, and the customer, grid, payment mode and product. ``specialist_id`` is the specialist
who served the customer ON the due date, by the rule of ``app.services.customers.history``: read in the
order the moves take effect (``effective_on``), the customer's current specialist when no move
takes effect after the due date; otherwise whom the last move in effect on it gave them to, or
whom the first later move took them from. A move taking effect on the due date itself gives
the row to the new specialist. Moves of an imported history since undone do not count.

Every refresh is set-based SQL (DELETE, INSERT ... SELECT, UPDATE with correlated
subqueries) over chunks of ids, on SQLite and PostgreSQL alike, and brings the monthly cells of
``app.services.metrics.summary`` along. The caller commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from app.models import (
    AssignmentEvent,
    Customer,
    PersistencyBase,
    PersistencyDirty,
    Policy,
    PolicyDirty,
    PremiumDue,
)
from app.models.derived import BASE_YEARS
from app.models.enums import TERMINATED_BY_EVENT, PaymentMode
from app.services.customers.history import counted
from app.services.database.sqlfuncs import (
    branch_offsets,
    chunks,
    days_between,
    is_postgres,
    lock_branches,
    refresh_statistics,
)
from app.services.metrics import summary

CHUNK = 2_000
# Which marks a settle takes: given a log's table (PersistencyDirty, PolicyDirty), the condition
# on its rows (the unit of work passes its own transaction's).
Marks = Callable[[type[PersistencyDirty] | type[PolicyDirty]], ColumnElement[bool]]

_COLUMNS = [
    "policy_id", "policy_year", "branch_id", "due_date", "amount_due_fen", "received_fen",
    "received_on", "days_late", "terminated_on", "customer_id", "grid_id", "specialist_id",
    "payment_mode", "product",
]  # fmt: skip


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    return chunks(sorted(set(ids)), CHUNK)


def refresh_persistency_base(
    session: Session,
    *,
    policy_ids: Iterable[int] | None = None,
    customer_ids: Iterable[int] | None = None,
) -> int:
    """Return the number of base rows written after rebuilding those of the given policies
    and of every policy of the given customers (the whole table when both are None)."""
    offsets = branch_offsets(session)
    if policy_ids is None and customer_ids is None:
        session.execute(delete(PersistencyDirty))  # every row is written again
        session.execute(delete(PolicyDirty))
        session.execute(delete(PersistencyBase))
        written = _insert(session, None)
        refresh_statistics(session, ["persistency_base"])
        _attribute_moved(session, None, offsets)
        summary.rebuild(session)
        return written
    pids: set[int] = set(policy_ids or ())
    for chunk in _chunks(customer_ids or ()):
        pids.update(session.scalars(select(Policy.id).where(Policy.customer_id.in_(chunk))))
    written = 0
    for chunk in _chunks(pids):

        def rewrite(chunk: list[int] = chunk) -> int:
            session.execute(delete(PersistencyBase).where(PersistencyBase.policy_id.in_(chunk)))
            n = _insert(session, chunk)
            _attribute_moved(session, chunk, offsets)
            return n

        written += summary.apply_change(session, [PersistencyBase.policy_id.in_(chunk)], rewrite)
    return written


PG_LOCK_CLASS = 0x6770_6572  # first key of the settle's per-branch advisory locks ('gper')


def _where(only: Marks | None, table: type[PersistencyDirty] | type[PolicyDirty]) -> list:
    return [] if only is None else [only(table)]


def pending(session: Session, only: Marks | None = None) -> bool:
    """Return True when this session sees customers or policies whose base rows are stale
    (among the marks ``only`` selects, all when None)."""
    for table in (PersistencyDirty, PolicyDirty):
        q = select(table.id).where(*_where(only, table)).limit(1)
        if session.execute(q).first() is not None:
            return True
    return False


def marked(session: Session, up_to: int, only: Marks | None = None) -> int:
    """Return how many customers this session sees marked stale (among the marks ``only``
    selects), counting no further than ``up_to``."""
    d = PersistencyDirty
    some = select(d.customer_id).where(*_where(only, d)).distinct().limit(up_to).subquery()
    return session.scalar(select(func.count()).select_from(some)) or 0


def settle(session: Session, *, only: Marks | None = None, limit: int | None = None) -> int:
    """Rewrite the base rows (and monthly cells) the triggers of ``app.models.derived`` marked
    stale: those of the marked policies, and the attribution of the marked customers'. Clear
    the marks and return how many customers or policies (the larger), at most ``limit`` each.

    ``only`` selects the marks to settle (the unit of work passes its own transaction's: it
    then needs no rights over other people's customers); ``limit`` lets a background job settle
    a large change a few thousand at a time, so that no transaction holds SQLite's write lock
    for long. A mark committed by another transaction while this one runs is either cleared and
    settled here (its rows are read again after the marks are cleared) or left for later:
    never cleared unsettled."""
    if not pending(session, only):
        return 0
    policies = _chosen(session, PolicyDirty, PolicyDirty.policy_id, only, limit)
    customers = _chosen(session, PersistencyDirty, PersistencyDirty.customer_id, only, limit)
    if is_postgres(session):
        # The monthly cells these rows add to are shared with other settles of the same
        # branch: one lock per branch, taken in order, so two settles take turns (no deadlock).
        branches: set[int] = set()
        for chunk in _chunks(customers):
            branches.update(
                session.scalars(select(Customer.branch_id).where(Customer.id.in_(chunk)).distinct())
            )
        for chunk in _chunks(policies):
            branches.update(
                session.scalars(
                    select(Customer.branch_id)
                    .join(Policy, Policy.customer_id == Customer.id)
                    .where(Policy.id.in_(chunk))
                    .distinct()
                )
            )
        lock_branches(session, PG_LOCK_CLASS, branches)
    for table, column, ids in (
        (PolicyDirty, PolicyDirty.policy_id, policies),
        (PersistencyDirty, PersistencyDirty.customer_id, customers),
    ):
        for chunk in _chunks(ids):
            session.execute(delete(table).where(*_where(only, table), column.in_(chunk)))
    whole = bool(policies) and _rewrite_policies(session, policies)
    if customers and not whole:
        _attribute_customers(session, customers)
    return max(len(policies), len(customers))


def _chosen(session: Session, table, column, only: Marks | None, limit: int | None) -> list[int]:
    """The ids the marks of ``table`` name (those ``only`` selects), at most ``limit``."""
    chosen = select(column).where(*_where(only, table)).distinct().order_by(column)
    if limit is not None:
        chosen = chosen.limit(limit)
    return list(session.scalars(chosen))


def _rewrite_policies(session: Session, policies: list[int]) -> bool:
    """Write again the base rows of these policies (their dues or their own columns changed):
    the whole table when they are most of the policies (a first import, a full nightly
    extract: one rebuild was measured 28x faster than 100 chunks of ids on 200k policies).
    Return True when the whole table was written."""
    total = session.scalar(select(func.count()).select_from(Policy)) or 0
    if len(policies) * 2 >= total:
        refresh_persistency_base(session)
        return True
    refresh_persistency_base(session, policy_ids=policies)
    return False


def _attribute_customers(session: Session, customers: list[int]) -> None:
    """Set again who the marked customers' rows are attributed to."""
    # What the customers' marks watch (a customer's branch, grid, specialist and history)
    # decides only who a row is attributed to, never which rows exist: those come from the
    # policies and dues, whose own marks rewrite them. Setting those columns again is 7x
    # faster than rewriting the rows (30,000 customers on the large demo: 3.2 s against 23 s).
    refresh_attribution(session, customer_ids=customers)
    # Policies of these customers with no row at all (written before the policies' log
    # existed, or before the base did) get theirs written, so a move never leaves a due
    # uncounted; a young policy with no year-2 due yet has none to write.
    unwritten: list[int] = []
    for chunk in _chunks(customers):
        unwritten += session.scalars(
            select(Policy.id).where(
                Policy.customer_id.in_(chunk),
                ~exists().where(PersistencyBase.policy_id == Policy.id),
                exists().where(
                    PremiumDue.policy_id == Policy.id, (PremiumDue.policy_year + 0).in_(BASE_YEARS)
                ),
            )
        ).all()
    if unwritten:
        refresh_persistency_base(session, policy_ids=unwritten)


def refresh_attribution(session: Session, *, customer_ids: Iterable[int]) -> int:
    """Return the number of base rows of these customers whose specialist, grid and branch
    were set again from the assignment history and the customers' current grid and branch
    (after a move)."""
    offsets = branch_offsets(session)
    b = PersistencyBase
    later = _later_moves(offsets)
    first_from = _first_from(offsets)
    current = select(Customer.specialist_id).where(Customer.id == b.customer_id)
    grid = select(Customer.grid_id).where(Customer.id == b.customer_id)
    branch = select(Customer.branch_id).where(Customer.id == b.customer_id)
    touched = 0
    for chunk in _chunks(customer_ids):
        stmt = (
            update(b)
            .where(b.customer_id.in_(chunk))
            .values(
                specialist_id=case(
                    (exists(later), first_from),
                    else_=current.scalar_subquery(),
                ),
                grid_id=grid.scalar_subquery(),
                branch_id=branch.scalar_subquery(),
            )
            .execution_options(synchronize_session=False)
        )
        result = summary.apply_change(
            session, [b.customer_id.in_(chunk)], partial(session.execute, stmt)
        )
        touched += max(cast(CursorResult, result).rowcount or 0, 0)
    return touched


def _insert(session: Session, policy_chunk: list[int] | None) -> int:
    """Insert the base rows of the given policies (all) with today's specialist."""
    # The first due row of each policy year, found by grouping once (a correlated subquery
    # made SQLite scan a whole policy year per row).
    year: ColumnElement[int] = PremiumDue.policy_year.expression
    if policy_chunk is not None:
        # "+ 0" keeps SQLite off the (policy_year, due_date) index, which made it scan every
        # year-2 and year-3 due (2M rows on the large demo) instead of these policies' rows.
        year = year + 0
    firsts = select(
        PremiumDue.policy_id.label("pid"),
        PremiumDue.policy_year.label("year"),
        func.min(PremiumDue.due_date).label("first"),
    ).where(year.in_(BASE_YEARS))
    if policy_chunk is not None:
        firsts = firsts.where(PremiumDue.policy_id.in_(policy_chunk))
    first = firsts.group_by(PremiumDue.policy_id, PremiumDue.policy_year).subquery()
    terminated = case((Policy.status.in_(TERMINATED_BY_EVENT), Policy.status_date), else_=None)
    received = case(
        (PremiumDue.amount_received_fen > PremiumDue.amount_due_fen, PremiumDue.amount_due_fen),
        else_=PremiumDue.amount_received_fen,
    )
    days_late = case(
        (PremiumDue.received_on.is_(None), None),
        else_=days_between(PremiumDue.received_on, PremiumDue.due_date),
    )
    rows = (
        select(
            PremiumDue.policy_id,
            PremiumDue.policy_year,
            Customer.branch_id,
            PremiumDue.due_date,
            PremiumDue.amount_due_fen,
            received,
            PremiumDue.received_on,
            days_late,
            terminated,
            Policy.customer_id,
            Customer.grid_id,
            Customer.specialist_id,
            Policy.payment_mode,
            Policy.product,
        )
        .select_from(first)
        .join(
            PremiumDue,
            and_(
                PremiumDue.policy_id == first.c.pid,
                PremiumDue.policy_year == first.c.year,
                PremiumDue.due_date == first.c.first,
            ),
        )
        .join(Policy, Policy.id == PremiumDue.policy_id)
        .join(Customer, Customer.id == Policy.customer_id)
        .where(Policy.payment_mode != PaymentMode.SINGLE)
    )
    result = session.execute(
        insert(PersistencyBase)
        .from_select(_COLUMNS, rows)
        .execution_options(preserve_rowcount=True)  # psycopg reports -1 otherwise
    )
    return max(cast(CursorResult, result).rowcount or 0, 0)


def _later_moves(offsets: dict[int, int]):
    """Moves of the base row's customer taking effect after its due date (correlated): a move
    effective on the due date itself served that day (see app.services.customers.history)."""
    b = PersistencyBase
    e = AssignmentEvent
    return select(e.id).where(
        e.customer_id == b.customer_id, e.effective_on > b.due_date, counted()
    )


def _first_from(offsets: dict[int, int]):
    """Who served the base row's customer on its due date, given that they moved after it
    (correlated): whom the last move in effect that day gave them to, or, when none was, whom
    the first later move took them from (app.services.customers.history reads the history the same way;
    the two agree when every move's "from" is the one before's "to", and the first is right
    where an imported history left a gap)."""
    b = PersistencyBase
    e = AssignmentEvent
    earlier = select(e.id).where(
        e.customer_id == b.customer_id, e.effective_on <= b.due_date, counted()
    )
    last_to = (
        earlier.with_only_columns(e.to_specialist_id)
        .order_by(e.effective_on.desc(), e.at.desc(), e.id.desc())
        .limit(1)
    )
    first_from = (
        _later_moves(offsets)
        .with_only_columns(e.from_specialist_id)
        .order_by(e.effective_on, e.at, e.id)
        .limit(1)
    )
    return case((exists(earlier), last_to.scalar_subquery()), else_=first_from.scalar_subquery())


def _attribute_moved(
    session: Session, policy_chunk: list[int] | None, offsets: dict[int, int]
) -> None:
    """Give rows whose customer moved after the due date to who served them on that date."""
    b = PersistencyBase
    moved = select(AssignmentEvent.customer_id).where(AssignmentEvent.customer_id.is_not(None))
    stmt = (
        update(b)
        .where(b.customer_id.in_(moved), exists(_later_moves(offsets)))
        .values(specialist_id=_first_from(offsets))
        .execution_options(synchronize_session=False)
    )
    if policy_chunk is not None:
        stmt = stmt.where(b.policy_id.in_(policy_chunk))
    session.execute(stmt)
