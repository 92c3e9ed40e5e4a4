"""Plans applied with a later effective date (for example the first of next month).

Scheduling checks the plan as applying it would (rights, and that nothing it relies on has
changed) without writing any change, and stores it. Nothing moves and no SMS is queued until
the day comes: then :func:`release_due` applies it with its author's rights, the history
recording the change as holding from the scheduled day (so persistency is attributed by that
day even when the release runs later). A plan overtaken meanwhile is refused then, and marked
so with the reason; it can be cancelled before its day. Two scheduled plans may not move the
same grid or customer.

Releases run when GridDesk opens on the branch's database (for the plans the user may see) and
with ``griddesk rebalance release`` (for a scheduled task on the server).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Branch, ScheduledPlan, Team
from app.models.base import utcnow
from app.services.changes import Changes
from app.services.clock import local_date
from app.services.errors import DomainError, NotAllowed, NotFound, StaleData
from app.services.messages import Message, from_data, to_data
from app.services.rebalance.apply import ApplyResult, apply_plan
from app.services.rebalance.plan import Plan, PlanError
from app.services.rebalance.plan_file import plan_from_json
from app.services.rebalance.problem import CUSTOMER, GRID

SCHEDULED, APPLIED, CANCELLED, REFUSED = "scheduled", "applied", "cancelled", "refused"


class _DryRun(Exception):
    """Raised inside a savepoint to take back a trial apply."""


@dataclass(frozen=True)
class ScheduledInfo:
    id: int
    effective_on: date
    status: str
    author: str
    created_at: datetime
    team_code: str | None
    moves: int
    grids: int
    customers: int  # single customers moved (grids bring theirs)
    decided_at: datetime | None
    decided_by: str | None
    batch_id: int | None
    # Why a refused plan was not applied: the refusal as a message (as a text, for a plan
    # refused before refusals were stored as codes).
    outcome: Message | str | None

    @property
    def changes(self) -> Changes:
        """A plan scheduled or cancelled: no customer changes until its day."""
        return Changes(plans=True)


@dataclass(frozen=True)
class Released:
    """What a release did with one scheduled plan."""

    id: int
    effective_on: date
    applied: ApplyResult | None
    # Why it was not applied: what applying it then raised.
    refused: DomainError | None

    @property
    def changes(self) -> Changes:
        return Changes(plans=True) | (self.applied.changes if self.applied else Changes())


def branch_today(session: Session, branch_id: int) -> date:
    zone = session.scalar(select(Branch.timezone).where(Branch.id == branch_id))
    return local_date(utcnow(), zone)


def schedule_plan(
    session: Session,
    plan: Plan,
    *,
    effective_on: date,
    actor: str,
    user_may_cross_teams: bool,
    team_scope: Collection[int] | None,
    branch_scope: int | None,
) -> ScheduledInfo:
    """Store ``plan`` to be applied on ``effective_on`` (a day after today) in the caller's
    transaction. Raises what applying it now would raise (StaleData, NotAllowed, PlanError),
    and PlanError for a day not in the future or a grid or customer another scheduled plan
    moves already; nothing is written then."""
    today = branch_today(session, plan.branch_id)
    if effective_on <= today:
        raise PlanError(
            "scheduled.not_in_future", day=effective_on.isoformat(), today=today.isoformat()
        )
    try:  # everything applying would check, taken back
        with session.begin_nested():
            apply_plan(
                session,
                plan,
                actor=actor,
                user_may_cross_teams=user_may_cross_teams,
                team_scope=team_scope,
                branch_scope=branch_scope,
            )
            raise _DryRun
    except _DryRun:
        pass
    session.expire_all()  # the objects still hold what the savepoint wrote
    _refuse_overlap(session, plan)
    team_id = _team_id(session, plan)
    row = ScheduledPlan(
        branch_id=plan.branch_id,
        team_id=team_id,
        effective_on=effective_on,
        plan=json.dumps(plan.to_json(), ensure_ascii=False),
        author=actor,
        may_cross_teams=user_may_cross_teams,
        team_scope=None if team_scope is None else json.dumps(sorted(team_scope)),
        created_at=utcnow(),
        status=SCHEDULED,
    )
    session.add(row)
    session.flush()
    return _info(row, plan, _team_code(session, team_id))


def list_scheduled(
    session: Session,
    *,
    branch_id: int,
    team_scope: Collection[int] | None,
    pending_only: bool = False,
) -> list[ScheduledInfo]:
    """Return the scheduled plans the user may see: pending ones first by day, then the
    decided ones newest first."""
    stmt = select(ScheduledPlan).where(*_visible(branch_id, team_scope))
    if pending_only:
        stmt = stmt.where(ScheduledPlan.status == SCHEDULED)
    rows = list(session.scalars(stmt))
    codes = dict(session.execute(select(Team.id, Team.code)).all())
    pending = sorted(
        (r for r in rows if r.status == SCHEDULED), key=lambda r: (r.effective_on, r.id)
    )
    decided = sorted(
        (r for r in rows if r.status != SCHEDULED),
        key=lambda r: r.decided_at or r.created_at,
        reverse=True,
    )
    return [
        _info(r, _plan(r), None if r.team_id is None else codes.get(r.team_id))
        for r in [*pending, *decided]
    ]


def cancel_scheduled(
    session: Session,
    scheduled_id: int,
    *,
    actor: str,
    branch_id: int,
    team_scope: Collection[int] | None,
) -> ScheduledInfo:
    """Cancel a plan still waiting for its day (the caller commits)."""
    row = _row(session, scheduled_id, branch_id, team_scope, lock=True)
    if row.status != SCHEDULED:
        raise PlanError("scheduled.not_waiting", plan=scheduled_id, plan_status=row.status)
    row.status, row.decided_at, row.decided_by = CANCELLED, utcnow(), actor
    session.flush()
    return _info(row, _plan(row), _team_code(session, row.team_id))


def release_due(
    session: Session,
    *,
    branch_id: int,
    team_scope: Collection[int] | None,
    today: date | None = None,
    released_by: str = "system",
) -> list[Released]:
    """Apply the plans whose day has come (those the user may see), oldest day first, each in
    a savepoint of the caller's transaction: one overtaken meanwhile is marked refused with the
    reason and the others go on."""
    today = today or branch_today(session, branch_id)
    due = session.scalars(
        select(ScheduledPlan)
        .where(
            *_visible(branch_id, team_scope),
            ScheduledPlan.status == SCHEDULED,
            ScheduledPlan.effective_on <= today,
        )
        .order_by(ScheduledPlan.effective_on, ScheduledPlan.id)
        .with_for_update(skip_locked=True)
    ).all()
    out = []
    for row in due:
        plan = _plan(row)
        scope = None if row.team_scope is None else json.loads(row.team_scope)
        try:
            with session.begin_nested():
                result = apply_plan(
                    session,
                    plan,
                    actor=row.author,
                    user_may_cross_teams=row.may_cross_teams,
                    team_scope=scope,
                    branch_scope=row.branch_id,
                    effective_on=row.effective_on,
                )
        except (StaleData, NotAllowed, PlanError) as exc:
            row.status = REFUSED
            row.outcome = json.dumps(to_data(exc.message), ensure_ascii=False)
            out.append(Released(row.id, row.effective_on, None, exc))
        else:
            row.status, row.batch_id = APPLIED, result.batch_id
            out.append(Released(row.id, row.effective_on, result, None))
        row.decided_at, row.decided_by = utcnow(), released_by
        session.flush()
    return out


# --- helpers ----------------------------------------------------------------------------------


def _moved(plan: Plan) -> tuple[set[int], set[int]]:
    grids = {m.grid_id for m in plan.moves if m.kind == GRID and m.grid_id is not None}
    customers = {
        m.customer_id for m in plan.moves if m.kind == CUSTOMER and m.customer_id is not None
    }
    for g in grids:
        customers |= set(plan.grid_customers.get(g, ()))
    return grids, customers


def _refuse_overlap(session: Session, plan: Plan) -> None:
    grids, customers = _moved(plan)
    for other in session.scalars(
        select(ScheduledPlan).where(
            ScheduledPlan.branch_id == plan.branch_id, ScheduledPlan.status == SCHEDULED
        )
    ):
        their_grids, their_customers = _moved(_plan(other))
        if grids & their_grids or customers & their_customers:
            raise PlanError("scheduled.overlap", plan=other.id, day=other.effective_on.isoformat())


def _team_id(session: Session, plan: Plan) -> int | None:
    if len(plan.scope) != 1:
        return None
    return session.scalar(
        select(Team.id).where(Team.branch_id == plan.branch_id, Team.code == plan.scope[0])
    )


def _team_code(session: Session, team_id: int | None) -> str | None:
    return None if team_id is None else session.scalar(select(Team.code).where(Team.id == team_id))


def _visible(branch_id: int, team_scope: Collection[int] | None) -> list:
    where = [ScheduledPlan.branch_id == branch_id]
    if team_scope is not None:
        where.append(ScheduledPlan.team_id.in_(list(team_scope)))
    return where


def _row(
    session: Session,
    scheduled_id: int,
    branch_id: int,
    team_scope: Collection[int] | None,
    *,
    lock: bool = False,
) -> ScheduledPlan:
    stmt = select(ScheduledPlan).where(
        ScheduledPlan.id == scheduled_id, *_visible(branch_id, team_scope)
    )
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        raise NotFound("scheduled.not_found", plan=scheduled_id)
    return row


def _outcome(stored: str | None) -> Message | str | None:
    """Return a stored refusal as a message (older rows hold the English sentence)."""
    if not stored or not stored.startswith("{"):
        return stored
    try:
        return from_data(json.loads(stored)) or stored
    except json.JSONDecodeError:
        return stored


def _plan(row: ScheduledPlan) -> Plan:
    return plan_from_json(json.loads(row.plan))


def _info(row: ScheduledPlan, plan: Plan, team_code: str | None) -> ScheduledInfo:
    return ScheduledInfo(
        id=row.id,
        effective_on=row.effective_on,
        status=row.status,
        author=row.author,
        created_at=row.created_at,
        team_code=team_code,
        moves=len(plan.moves),
        grids=sum(1 for m in plan.moves if m.kind == GRID),
        customers=sum(1 for m in plan.moves if m.kind == CUSTOMER),
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        batch_id=row.batch_id,
        outcome=_outcome(row.outcome),
    )
