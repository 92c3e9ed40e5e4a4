"""The premium due in a workload's window: the in-force policies' dues from the as-of date for
:data:`PREMIUM_WINDOW_DAYS` days, each the amount due less what was already received (see
:mod:`app.services.rebalance.workload`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import Policy, PremiumDue
from app.models.enums import PolicyStatus

PREMIUM_WINDOW_DAYS = 90


def premium_window(as_of: date) -> tuple[date, date]:
    """Return the first day and the day after the last of the premium-due window."""
    return as_of, as_of + timedelta(days=PREMIUM_WINDOW_DAYS)


def outstanding():
    """The sum of what is still to collect on the dues read (0 when none)."""
    return func.coalesce(
        func.sum(
            case(
                (
                    PremiumDue.amount_due_fen > PremiumDue.amount_received_fen,
                    PremiumDue.amount_due_fen - PremiumDue.amount_received_fen,
                ),
                else_=0,
            )
        ),
        0,
    )


def due_conditions(as_of: date) -> list:
    """The dues in ``as_of``'s window on in-force policies (the policy joined)."""
    first, end = premium_window(as_of)
    return [
        PremiumDue.due_date >= first,
        PremiumDue.due_date < end,
        Policy.status == PolicyStatus.IN_FORCE,
    ]


def policy_years(session: Session) -> list[int]:
    """Every policy year that has dues: the (policy year, due date) index is read one range per
    year rather than policy by policy."""
    return list(range(1, (session.scalar(select(func.max(PremiumDue.policy_year))) or 0) + 1))


def window_by_policy(session: Session, as_of: date):
    """The dues in ``as_of``'s window summed by policy (``policy_id``, ``fen``: what is still
    to collect), read from the (policy year, due date) index alone; as a subquery. Join the
    policy for its status and customer: read by policy, they come in id order rather than once
    per due in date order (on `large`, 341,458 dues of 277,673 policies: 2.6 -> 0.8 s)."""
    first, end = premium_window(as_of)
    return (
        select(PremiumDue.policy_id, outstanding().label("fen"))
        .where(
            PremiumDue.policy_year.in_(policy_years(session)),
            PremiumDue.due_date >= first,
            PremiumDue.due_date < end,
        )
        .group_by(PremiumDue.policy_id)
        .subquery()
    )


def premium_due_by_customer(
    session: Session, customer_ids: Collection[int], as_of: date
) -> dict[int, int]:
    """Return the premium (fen) still to collect in the next 90 days per customer, for the
    given customers (a chunk: their ids go into one IN list)."""
    return dict(
        session.execute(
            select(Policy.customer_id, outstanding())
            .select_from(PremiumDue)
            .join(Policy, Policy.id == PremiumDue.policy_id)
            .where(Policy.customer_id.in_(list(customer_ids)), *due_conditions(as_of))
            .group_by(Policy.customer_id)
        ).all()
    )
