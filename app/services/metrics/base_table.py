"""Keeps the persistency_base table (one row per policy and policy year 2 or 3) current."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, bindparam, case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from app.models import Customer, PersistencyBase, Policy, PremiumDue
from app.models.enums import PaymentMode, PolicyStatus
from app.services.history import ServingTimeline
from app.services.sqlfuncs import days_between

CHUNK = 2_000
BASE_YEARS = (2, 3)  # 13-month and 25-month persistency


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def refresh_persistency_base(
    session: Session,
    *,
    policy_ids: Iterable[int] | None = None,
    customer_ids: Iterable[int] | None = None,
) -> int:
    """Rebuild the persistency base rows of the given policies or customers (all when both are
    None) from policies, dues and the assignment history; return the number of rows written."""
    if policy_ids is None and customer_ids is None:
        session.execute(delete(PersistencyBase))
        written = _insert(session, None)
        _attribute(session, None)
        return written
    pids: set[int] = set(policy_ids or ())
    if customer_ids is not None:
        cids = sorted(set(customer_ids))
        for chunk in _chunks(cids):
            pids.update(session.scalars(select(Policy.id).where(Policy.customer_id.in_(chunk))))
    written = 0
    ordered = sorted(pids)
    for chunk in _chunks(ordered):
        session.execute(delete(PersistencyBase).where(PersistencyBase.policy_id.in_(chunk)))
        written += _insert(session, chunk)
    affected_customers: set[int] = set()
    for chunk in _chunks(ordered):
        affected_customers.update(
            session.scalars(select(Policy.customer_id).where(Policy.id.in_(chunk)).distinct())
        )
    _attribute(session, affected_customers)
    return written


def refresh_attribution(session: Session, *, customer_ids: Iterable[int]) -> None:
    """Recompute who served each base row of these customers on its due date (after moves)."""
    _attribute(session, set(customer_ids))


def _insert(session: Session, policy_chunk: list[int] | None) -> int:
    # The first due row of each policy year, found by grouping once (a correlated subquery
    # made SQLite scan a whole policy year per row).
    firsts = select(
        PremiumDue.policy_id.label("pid"),
        PremiumDue.policy_year.label("year"),
        func.min(PremiumDue.due_date).label("first"),
    ).where(PremiumDue.policy_year.in_(BASE_YEARS))
    if policy_chunk is not None:
        firsts = firsts.where(PremiumDue.policy_id.in_(policy_chunk))
    first = firsts.group_by(PremiumDue.policy_id, PremiumDue.policy_year).subquery()
    terminated = case(
        (Policy.status.in_([PolicyStatus.DEATH, PolicyStatus.CLAIM]), Policy.status_date),
        else_=None,
    )
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
            and_(PremiumDue.policy_id == first.c.pid, PremiumDue.due_date == first.c.first),
        )
        .join(Policy, Policy.id == PremiumDue.policy_id)
        .join(Customer, Customer.id == Policy.customer_id)
        .where(Policy.payment_mode != PaymentMode.SINGLE)
    )
    cols = [
        "policy_id", "policy_year", "branch_id", "due_date", "amount_due_fen", "received_fen",
        "received_on", "days_late", "terminated_on", "customer_id", "grid_id", "specialist_id",
        "payment_mode", "product",
    ]  # fmt: skip
    result = session.execute(insert(PersistencyBase).from_select(cols, rows))
    return max(result.rowcount or 0, 0)


def _attribute(session: Session, customer_ids: set[int] | None) -> None:
    """Set specialist_id of base rows to whoever served the customer on the due date."""
    timeline = ServingTimeline.load(session, customer_ids)
    stmt = select(
        PersistencyBase.policy_id,
        PersistencyBase.policy_year,
        PersistencyBase.customer_id,
        PersistencyBase.due_date,
        PersistencyBase.specialist_id,
    )
    candidates = customer_ids if customer_ids is not None else timeline.moved_customers()
    changes = []
    for chunk in _chunks(sorted(candidates)):
        for pid, year, cid, due, current in session.execute(
            stmt.where(PersistencyBase.customer_id.in_(chunk))
        ):
            served = timeline.specialist_on(cid, due)
            if served != current:
                changes.append({"p": pid, "y": year, "s": served})
    if changes:
        t = PersistencyBase.__table__
        session.execute(
            update(t)
            .where(and_(t.c.policy_id == bindparam("p"), t.c.policy_year == bindparam("y")))
            .values(specialist_id=bindparam("s")),
            changes,
        )
