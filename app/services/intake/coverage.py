"""Addresses outside the branch's coverage: a person marks pool customers whose address no grid
is meant to take (a district with no grids, an address in another city, one too incomplete to
place), which takes them out of the unmatched-address queue into a list of their own; they go
back to the queue when put back, and leave the list by themselves when a rematch finds a grid
for them (``unmatched.rematch_unmatched``).

Each mark is a ``CoverageMark`` row, kept after it ends: who marked, when and why, and who put
it back or that a grid was found."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.orm import Session

from app.models import Branch, CoverageMark, Customer
from app.models.base import utcnow
from app.services.changes import Changes
from app.services.database.sqlfuncs import chunks
from app.services.errors import DomainError, NotAllowed, NotFound, StaleData
from app.services.people.auth import UserInfo

# Why an address is outside coverage: codes, worded by the views (and the command line).
REASONS = ("no_grid_district", "out_of_town", "incomplete", "other")
REASON_TEXTS = {
    "no_grid_district": "a district of the city with no grids",
    "out_of_town": "an address outside the city",
    "incomplete": "address incomplete, to be checked",
    "other": "other",
}
NOTE_LENGTH = 200
# How a mark ended.
RESTORED = "restored"
MATCHED = "matched"
UNDONE = "undone"  # the intake that took the customer into the pool was undone


class InvalidMark(DomainError, ValueError):
    """A mark that cannot be saved (no reason, an unknown one, a note too long), with why."""


@dataclass(frozen=True)
class OutsideRow:
    customer_id: int
    customer_no: str
    name: str
    address: str
    # The district the address names (as address matching reads it), or None.
    district: str | None
    reason: str
    note: str
    marked_by: str
    marked_at: datetime
    pool_entered_on: date | None
    # Days since the customer entered the pool (the branch's today).
    days_waiting: int | None


@dataclass(frozen=True)
class CoverageChange:
    """Customers marked outside coverage, or put back in the unmatched queue."""

    customer_ids: tuple[int, ...]
    outside: bool  # True: marked outside coverage; False: back in the queue

    @property
    def changes(self) -> Changes:
        return Changes(customers=frozenset(self.customer_ids))


def open_mark() -> ColumnElement[bool]:
    """The customers whose address is marked outside coverage now (for a ``Customer`` query)."""
    return exists(
        select(CoverageMark.id).where(
            CoverageMark.customer_id == Customer.id, CoverageMark.cleared_at.is_(None)
        )
    )


def outside_coverage(session: Session, branch_id: int) -> list[OutsideRow]:
    """Return the branch's pool customers without a grid marked outside coverage, oldest pool
    entry first."""
    rows = session.execute(
        select(
            Customer.id,
            Customer.customer_no,
            Customer.name,
            Customer.address,
            CoverageMark.reason,
            CoverageMark.note,
            CoverageMark.marked_by,
            CoverageMark.marked_at,
            Customer.pool_entered_on,
        )
        .join(CoverageMark, CoverageMark.customer_id == Customer.id)
        .where(
            Customer.branch_id == branch_id,
            Customer.pool_entered_on.is_not(None),
            Customer.grid_id.is_(None),
            CoverageMark.cleared_at.is_(None),
        )
        .order_by(Customer.pool_entered_on, Customer.customer_no)
    ).all()
    if not rows:
        return []
    # Here, not at the top: the figures that only ask which customers are marked (open_mark:
    # the meeting workbook, the map) need not load the intake and shapely.
    from app.services.intake.address import parse_address
    from app.services.intake.intake import branch_today
    from app.services.intake.matching import normalise_address

    city = session.scalar(select(Branch.city).where(Branch.id == branch_id))
    today = branch_today(session, branch_id)
    return [
        OutsideRow(
            customer_id=r.id,
            customer_no=r.customer_no,
            name=r.name,
            address=r.address,
            district=parse_address(normalise_address(r.address or "", city=city)).district,
            reason=r.reason,
            note=r.note,
            marked_by=r.marked_by,
            marked_at=r.marked_at,
            pool_entered_on=r.pool_entered_on,
            days_waiting=(today - r.pool_entered_on).days if r.pool_entered_on else None,
        )
        for r in rows
    ]


def mark_outside_coverage(
    session: Session,
    *,
    customer_ids: Sequence[int],
    reason: str,
    note: str = "",
    actor: str,
    user: UserInfo | None = None,
) -> CoverageChange:
    """Return the customers marked outside coverage: all of them, or none when one cannot be.

    Each must be a pool customer of the user's branch, still without a grid and not marked
    already. ``reason`` is one of REASONS; 'other' needs a note. Raises NotAllowed (only a
    senior supervisor files unmatched addresses), InvalidMark, NotFound or StaleData."""
    _check_role(user, "coverage.senior_only_mark")
    if reason not in REASONS:
        raise InvalidMark("coverage.reason", choices=list(REASONS))
    note = " ".join((note or "").split())
    if reason == "other" and not note:
        raise InvalidMark("coverage.note_needed")
    if len(note) > NOTE_LENGTH:
        raise InvalidMark("coverage.note_too_long", maximum=NOTE_LENGTH)
    customers = _customers(session, customer_ids, user)
    marked = _marked(session, [c.id for c in customers])
    for c in customers:
        if c.pool_entered_on is None:
            raise StaleData("coverage.not_in_pool", customer=c.customer_no)
        if c.grid_id is not None:
            raise StaleData("intake.put_in_grid_meanwhile", customer=c.customer_no)
        if c.id in marked:
            raise StaleData("coverage.marked_already", customer=c.customer_no)
    now = utcnow()
    session.add_all(
        CoverageMark(
            branch_id=c.branch_id,
            customer_id=c.id,
            reason=reason,
            note=note,
            marked_by=actor,
            marked_at=now,
        )
        for c in customers
    )
    session.flush()
    return CoverageChange(tuple(c.id for c in customers), outside=True)


def restore_to_queue(
    session: Session,
    *,
    customer_ids: Sequence[int],
    actor: str,
    user: UserInfo | None = None,
) -> CoverageChange:
    """Return the customers put back in the unmatched queue: all of them, or none when one is
    not marked outside coverage (any more). Their marks stay in the history, ended. Raises
    NotAllowed, NotFound or StaleData."""
    _check_role(user, "coverage.senior_only_restore")
    customers = _customers(session, customer_ids, user)
    marked = _marked(session, [c.id for c in customers])
    for c in customers:
        if c.id not in marked:
            raise StaleData("coverage.not_marked", customer=c.customer_no)
    close_marks(session, [c.id for c in customers], actor=actor, how=RESTORED)
    return CoverageChange(tuple(c.id for c in customers), outside=False)


def close_marks(session: Session, customer_ids: Iterable[int], *, actor: str, how: str) -> int:
    """End the open marks of these customers (``how``: RESTORED, MATCHED or UNDONE); return
    how many."""
    now, n = utcnow(), 0
    for part in chunks(sorted(set(customer_ids))):
        result = session.execute(
            update(CoverageMark)
            .where(CoverageMark.customer_id.in_(part), CoverageMark.cleared_at.is_(None))
            .values(cleared_at=now, cleared_by=actor, cleared_how=how)
            .execution_options(synchronize_session=False)
        )
        n += result.rowcount or 0  # type: ignore[attr-defined]
    return n


def _check_role(user: UserInfo | None, refusal: str) -> None:
    """Refuse (``refusal``, a message code) unless ``user`` is a senior supervisor."""
    if user is not None and not user.may_move_across_teams:
        raise NotAllowed(refusal)


def _customers(
    session: Session, customer_ids: Sequence[int], user: UserInfo | None
) -> list[Customer]:
    """Return the customers in the order given; raise NotFound naming those missing."""
    wanted = list(dict.fromkeys(customer_ids))
    if not wanted:
        raise NotFound("coverage.none_chosen")
    found: dict[int, Customer] = {}
    for part in chunks(wanted):
        found.update(
            (c.id, c) for c in session.scalars(select(Customer).where(Customer.id.in_(part)))
        )
    missing = [
        i
        for i in wanted
        if i not in found or (user is not None and found[i].branch_id != user.branch_id)
    ]
    if missing:
        raise NotFound("coverage.customers_gone", customers=missing[:10])
    return [found[i] for i in wanted]


def _marked(session: Session, customer_ids: Sequence[int]) -> set[int]:
    out: set[int] = set()
    for part in chunks(list(customer_ids)):
        out.update(
            session.scalars(
                select(CoverageMark.customer_id).where(
                    CoverageMark.customer_id.in_(part), CoverageMark.cleared_at.is_(None)
                )
            )
        )
    return out
