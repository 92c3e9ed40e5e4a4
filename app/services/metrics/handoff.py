"""The hand-off clock (交接时效): how fast a customer who entered the pool is reached.

Each customer with a pool entry date has three milestones, each dated by a branch-local day:

- ``sms``: the agent-change SMS sent (the earliest one the gateway's result file reported sent);
- ``contact``: first contact (建联加微), the day the customer reached pre-sell;
- ``service``: first service, the day the customer reached soft-sell (a renewal collected or a
  policy service done).

The step days are those ``app.services.customers.steps`` keeps: the earliest done task that is evidence of
the step *or of a higher one*, since reaching a step implies the earlier ones (a renewal
collected on day 3 is a contact on day 3 too). A milestone's delay is its day minus the pool
entry day (0 when it came first). A milestone counts only when it came on or before the as-of
date: as of an earlier date it had not happened yet.

Each milestone has a target in days, set per branch (defaults 1, 7 and 30). A milestone is
*late* on the as-of date when more days than its target have passed since pool entry and it has
not been reached; it was *on time* when it was reached within the target. The customer's
on-time record goes to the specialist who served them on the day it was decided: the day the
milestone was reached when that was on time, else the target's last day (pool entry + target),
when the clock ran out in their hands.

Persistency by hand-off delay groups the persistency base rows by their customer's days to
first contact: 0-7, 8-30, 31-90, over 90, or never (no contact by the as-of date; customers who
never entered the pool are left out).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from app.models import Branch, Customer, Grid, Notification, Specialist
from app.models.enums import NotificationStatus, NotificationTemplate
from app.services.database.sqlfuncs import branch_offsets, days_between, local_day, offset_for
from app.services.errors import DomainError
from app.services.messages import Message
from app.services.metrics.contact_bands import BAND_KEYS

MILESTONES = ("sms", "contact", "service")
# Each milestone's target named in a message.
_TARGET_WORDS = {
    "sms": "target.sms",
    "contact": "target.contact",
    "service": "target.service",
}
# The on-time share on the roster covers customers who entered the pool in this many days.
ON_TIME_DAYS = 90
MAX_TARGET_DAYS = 365


class TargetError(DomainError, ValueError):
    """Hand-off targets that cannot be used, in words."""


@dataclass(frozen=True)
class HandoffTargets:
    sms_days: int = 1
    contact_days: int = 7
    service_days: int = 30

    def of(self, milestone: str) -> int:
        return {"sms": self.sms_days, "contact": self.contact_days, "service": self.service_days}[
            milestone
        ]

    def check(self) -> HandoffTargets:
        """Return self when usable, else raise :class:`TargetError` saying which is wrong."""
        for m in MILESTONES:
            days = self.of(m)
            if not 0 <= days <= MAX_TARGET_DAYS:
                raise TargetError(
                    "handoff.target_range",
                    target=Message(_TARGET_WORDS[m]),
                    maximum=MAX_TARGET_DAYS,
                    days=days,
                )
        if not self.sms_days <= self.contact_days <= self.service_days:
            raise TargetError(
                "handoff.target_order",
                sms=self.sms_days,
                contact=self.contact_days,
                service=self.service_days,
            )
        return self


def handoff_targets(session: Session, branch_id: int) -> HandoffTargets:
    """Return the branch's hand-off targets."""
    b = session.get_one(Branch, branch_id)
    return HandoffTargets(b.handoff_sms_days, b.handoff_contact_days, b.handoff_service_days)


def milestone_days(session: Session, as_of: date) -> Select:
    """Return a select of (customer_id, entered_on, sms_on, contact_on, service_on, grid_id,
    specialist_id, branch_id) for every customer in the pool by ``as_of``; a milestone reached
    after ``as_of`` reads as not reached. Callers add their own filters on ``Customer``."""
    offsets = branch_offsets(session)
    sent = (
        select(
            Notification.customer_id.label("cid"),
            func.min(
                local_day(Notification.sent_at, offset_for(Customer.branch_id, offsets))
            ).label("day"),
        )
        .join(Customer, Customer.id == Notification.customer_id)
        .where(
            Notification.template == NotificationTemplate.AGENT_CHANGE,
            Notification.status == NotificationStatus.SENT,
            Notification.sent_at.is_not(None),
        )
        .group_by(Notification.customer_id)
        .subquery()
    )

    def by_as_of(col):
        return case((col <= as_of, col), else_=None)

    return (
        select(
            Customer.id,
            Customer.pool_entered_on,
            by_as_of(sent.c.day),
            by_as_of(Customer.pre_sell_on),
            by_as_of(Customer.soft_sell_on),
            Customer.grid_id,
            Customer.specialist_id,
            Customer.branch_id,
        )
        .outerjoin(sent, sent.c.cid == Customer.id)
        .where(Customer.pool_entered_on.is_not(None), Customer.pool_entered_on <= as_of)
    )


@dataclass(frozen=True)
class Clock:
    """One customer's hand-off clock as of a date."""

    customer_id: int
    entered_on: date
    sms_on: date | None
    contact_on: date | None
    service_on: date | None
    grid_id: int | None
    specialist_id: int | None

    def reached(self, milestone: str) -> date | None:
        return {"sms": self.sms_on, "contact": self.contact_on, "service": self.service_on}[
            milestone
        ]

    def delay(self, milestone: str) -> int | None:
        """Days from pool entry to the milestone (0 when it came first); None: not reached."""
        day = self.reached(milestone)
        return None if day is None else max(0, (day - self.entered_on).days)

    def late(self, milestone: str, target: int, as_of: date) -> bool:
        """Past the target on ``as_of`` and not reached."""
        return self.reached(milestone) is None and (as_of - self.entered_on).days > target

    def on_time(self, milestone: str, target: int) -> bool:
        delay = self.delay(milestone)
        return delay is not None and delay <= target

    def decided_on(self, milestone: str, target: int, as_of: date) -> date | None:
        """The day the milestone's on-time record was settled (None: not yet)."""
        if self.on_time(milestone, target):
            return self.reached(milestone)
        deadline = self.entered_on + timedelta(days=target)
        return deadline if deadline < as_of else None


def clocks(
    session: Session,
    *,
    as_of: date,
    branch_id: int | None = None,
    entered_from: date | None = None,
) -> list[Clock]:
    """Return the clocks of the customers in the pool by ``as_of`` (those who entered on or
    after ``entered_from`` when given), by customer id."""
    stmt = milestone_days(session, as_of)
    if branch_id is not None:
        stmt = stmt.where(Customer.branch_id == branch_id)
    if entered_from is not None:
        stmt = stmt.where(Customer.pool_entered_on >= entered_from)
    return [Clock(*r[:7]) for r in session.execute(stmt.order_by(Customer.id))]


@dataclass(frozen=True)
class LateHandoff:
    """A customer past a hand-off target with the milestone not reached."""

    customer_id: int
    customer_no: str
    customer_name: str
    entered_on: date
    days_waiting: int
    # The milestones missed, in order ("sms", "contact", "service").
    missed: tuple[str, ...]
    # Days past the target of the first milestone missed.
    days_over: int
    grid_id: int | None
    grid_code: str | None
    specialist_id: int | None
    specialist_name: str | None
    team_id: int | None


def late_handoffs(
    session: Session,
    *,
    as_of: date,
    branch_id: int,
    targets: HandoffTargets | None = None,
    team_ids: Collection[int] | None = None,
    specialist_ids: Collection[int] | None = None,
    grid_ids: Collection[int] | None = None,
) -> list[LateHandoff]:
    """Return the customers past a hand-off target on ``as_of`` with the milestone not
    reached, oldest pool entry first (then by customer number), with whom they are with now."""
    targets = targets or handoff_targets(session, branch_id)
    days = milestone_days(session, as_of).subquery()
    # Column positions: 0 id, 1 entered, 2 sms, 3 contact, 4 service (see milestone_days).
    names = list(days.c)
    waited = days_between(literal(as_of), names[1])
    cols = {"sms": names[2], "contact": names[3], "service": names[4]}
    late = {m: and_(cols[m].is_(None), waited > targets.of(m)) for m in MILESTONES}
    stmt = (
        select(
            names[0],
            Customer.customer_no,
            Customer.name,
            names[1],
            waited,
            *(case((late[m], 1), else_=0) for m in MILESTONES),
            Customer.grid_id,
            Grid.code,
            Customer.specialist_id,
            Specialist.name,
            Specialist.team_id,
        )
        .join(Customer, Customer.id == names[0])
        .outerjoin(Grid, Grid.id == Customer.grid_id)
        .outerjoin(Specialist, Specialist.id == Customer.specialist_id)
        .where(Customer.branch_id == branch_id, or_(*late.values()))
        .order_by(names[1], Customer.customer_no)
    )
    if team_ids is not None:
        stmt = stmt.where(Specialist.team_id.in_(list(team_ids)))
    if specialist_ids is not None:
        stmt = stmt.where(Customer.specialist_id.in_(list(specialist_ids)))
    if grid_ids is not None:
        stmt = stmt.where(Customer.grid_id.in_(list(grid_ids)))
    out = []
    for r in session.execute(stmt):
        missed = tuple(m for m, flag in zip(MILESTONES, r[5:8], strict=True) if flag)
        waiting = int(r[4])
        out.append(
            LateHandoff(
                customer_id=r[0],
                customer_no=r[1],
                customer_name=r[2],
                entered_on=r[3],
                days_waiting=waiting,
                missed=missed,
                days_over=waiting - targets.of(missed[0]),
                grid_id=r[8],
                grid_code=r[9],
                specialist_id=r[10],
                specialist_name=r[11],
                team_id=r[12],
            )
        )
    return out


@dataclass(frozen=True)
class OnTime:
    """A specialist's on-time record for one milestone over recent pool entries."""

    specialist_id: int
    milestone: str
    decided: int  # customers whose record is settled (reached on time, or target passed)
    on_time: int
    open: int  # customers still within their target, not reached yet: not counted
    target_days: int = 0

    @property
    def share(self) -> Decimal | None:
        from app.services.metrics.rates import rate

        return rate(self.on_time, self.decided)


def on_time_shares(
    session: Session,
    *,
    as_of: date,
    branch_id: int,
    milestones: Sequence[str] = MILESTONES,
    days: int = ON_TIME_DAYS,
    targets: HandoffTargets | None = None,
) -> dict[tuple[int, str], OnTime]:
    """Return, per (specialist, milestone), how many of the customers who entered the pool in
    the ``days`` days up to ``as_of`` reached the milestone within its target, of those whose
    record is settled, each counted for the specialist who served them the day it was settled
    (see the module's notes)."""
    from app.services.customers.history import specialists_on

    targets = targets or handoff_targets(session, branch_id)
    first = as_of - timedelta(days=days - 1)
    found = clocks(session, as_of=as_of, branch_id=branch_id, entered_from=first)
    pairs = []
    settled: list[tuple[Clock, str, date | None]] = []
    for c in found:
        for m in milestones:
            day = c.decided_on(m, targets.of(m), as_of)
            settled.append((c, m, day))
            pairs.append((c.customer_id, day or as_of))
    who = specialists_on(session, pairs)
    tally: dict[tuple[int, str], list[int]] = {}
    for c, m, day in settled:
        sid = who.get((c.customer_id, day or as_of))
        if sid is None:
            continue
        counts = tally.setdefault((sid, m), [0, 0, 0])
        if day is None:
            counts[2] += 1
        else:
            counts[0] += 1
            counts[1] += int(c.on_time(m, targets.of(m)))
    return {
        (sid, m): OnTime(sid, m, decided, on_time, still_open, targets.of(m))
        for (sid, m), (decided, on_time, still_open) in tally.items()
    }


def persistency_by_contact_band(
    session: Session,
    *,
    period,
    as_of: date,
    month: int = 13,
    branch_id: int | None = None,
    team_ids: Collection[int] | None = None,
    specialist_ids: Collection[int] | None = None,
) -> list:
    """Return persistency (``PersistencyRow``) for the period per first-contact delay band,
    one row per band in :data:`BAND_KEYS` order, empty bands included; policies of customers
    who never entered the pool are left out."""
    from app.services.metrics.persistency import _row, persistency_report

    found = {
        r.group_key: r
        for r in persistency_report(
            session,
            period=period,
            as_of=as_of,
            month=month,
            by="contact_band",
            branch_id=branch_id,
            team_ids=team_ids,
            specialist_ids=specialist_ids,
        )
    }
    return [found.get(k) or _row(k, k, (0,) * 5) for k in BAND_KEYS]
