"""Intake of a departed agent's customers: into the pool, an SMS each, matched to a grid, given
the grid owner as specialist, with their first tasks. Running it again changes nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy import exists, func, insert, or_, select
from sqlalchemy.orm import Session

from app.models import (
    AssignmentEvent,
    Branch,
    ChangeBatch,
    Customer,
    DepartedAgent,
    Grid,
    Policy,
    PremiumDue,
    Specialist,
    Task,
)
from app.models.base import utcnow
from app.models.enums import (
    AssignmentReason,
    Channel,
    MatchMethod,
    PolicyStatus,
    SpecialistStatus,
    TaskKind,
    TaskStatus,
)
from app.services.changes import Changes, some_if
from app.services.clock import local_date
from app.services.customers.history import effective_days
from app.services.customers.notify import SmsCounts, Told, tell_customers
from app.services.database.sqlfuncs import chunks as id_chunks
from app.services.errors import NotAllowed, NotFound
from app.services.intake.matching import GridIndex
from app.services.intake.sms import SpecialistContact, phone_known
from app.services.people.auth import UserInfo

# The change batch of an intake (its customers' entry into the pool), undone from the history.
INTAKE_KIND = "intake"

PRE_SELL_DAYS = 7
RENEWAL_WINDOW_DAYS = 60
_CHUNK = 2000  # ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits
chunks = partial(id_chunks, size=_CHUNK)  # this module's IN (...) lists


@dataclass(frozen=True)
class IntakeResult:
    """What one intake run did. The second run for the same agent reports only
    ``already_in_pool``."""

    agent_code: str
    on_date: date
    customers_entered: int
    already_in_pool: int
    matched_by_point: int
    matched_by_address: int
    matched_by_rule: int
    # Entering customers that had a grid already (set by a person before intake ran).
    matched_before: int
    unmatched: int
    # Matched to a grid that has no active owner: a coverage gap, specialist left empty.
    without_specialist: int
    sms_queued: int
    tasks_created: int
    customer_ids: tuple[int, ...]

    @property
    def changes(self) -> Changes:
        return Changes(
            customers=frozenset(self.customer_ids),
            tasks=some_if(self.tasks_created),
            specialists=some_if(self.customers_entered),
        )

    # The agent's customers outside the pool with no policy in force: intake leaves them out.
    no_policy_in_force: int = 0
    # Of the SMS queued, those whose customer has no phone number: they wait for one.
    sms_without_phone: int = 0
    # Messages already waiting for these customers: replaced by the new one, or withdrawn.
    sms_replaced: int = 0
    sms_withdrawn: int = 0

    @property
    def sms(self) -> SmsCounts:
        """What the change did to the outbox."""
        return SmsCounts(self.sms_queued, self.sms_replaced, self.sms_withdrawn)


@dataclass(frozen=True)
class Owner:
    """A grid's active owning specialist."""

    id: int
    name: str
    phone: str | None

    @property
    def contact(self) -> SpecialistContact:
        return SpecialistContact(self.name, self.phone)


def branch_today(session: Session, branch_id: int) -> date:
    """Return today's date in the branch's time zone."""
    tz = session.scalar(select(Branch.timezone).where(Branch.id == branch_id))
    return local_date(utcnow(), tz)


def active_owners(session: Session, grid_ids: Iterable[int], on_date: date) -> dict[int, Owner]:
    """Return grid id -> its owner, for the grids whose owner is active on ``on_date``."""
    out: dict[int, Owner] = {}
    for part in chunks(sorted(set(grid_ids))):
        rows = session.execute(
            select(Grid.id, Specialist.id, Specialist.name, Specialist.phone)
            .join(Specialist, Specialist.id == Grid.owner_id)
            .where(
                Grid.id.in_(part),
                Specialist.status == SpecialistStatus.ACTIVE,
                or_(Specialist.left_on.is_(None), Specialist.left_on > on_date),
            )
        )
        for grid_id, sid, name, phone in rows:
            out[grid_id] = Owner(sid, name, phone)
    return out


def serve_by_grid_owner(
    session: Session,
    customers: Sequence[Customer],
    owners: dict[int, Owner],
    *,
    reason: AssignmentReason,
    actor: str,
    now: datetime,
    effective_on: date,
    batch_id: int | None = None,
) -> dict[int, Owner | None]:
    """Make each customer's grid owner their specialist (None when the grid has no active
    owner: the customer keeps no specialist), recording each change in the history as holding
    from ``effective_on``; return customer id -> the owner."""
    events = []
    served: dict[int, Owner | None] = {}
    # Never before a change already on record for the customer (an imported history, say).
    days = effective_days(
        session,
        AssignmentEvent.customer_id,
        [c.id for c in customers],
        effective_on,
        today=max(effective_on, local_date(now)),
    )
    for c in customers:
        owner = owners.get(c.grid_id) if c.grid_id is not None else None
        served[c.id] = owner
        new_id = owner.id if owner else None
        if new_id is not None and c.specialist_id != new_id:
            events.append(
                {
                    "customer_id": c.id,
                    "from_specialist_id": c.specialist_id,
                    "to_specialist_id": new_id,
                    "reason": reason,
                    "actor": actor,
                    "at": now,
                    "effective_on": days[c.id],
                    "batch_id": batch_id,
                }
            )
            c.specialist_id = new_id
    if events:
        session.flush()
        session.execute(insert(AssignmentEvent), events)
    return served


def task_no(natural: str) -> str:
    """Return ``natural`` if it fits the task number column, else a stable digest of it."""
    if len(natural) <= 40:
        return natural
    return "IN-" + hashlib.sha1(natural.encode()).hexdigest()[:37]


def create_first_tasks(
    session: Session,
    customers: Sequence[tuple[int, str, int | None]],
    *,
    on_date: date,
    now: datetime,
    renewals: bool = True,
) -> int:
    """Create the pre_sell task (due in 7 days) of each (customer id, customer no, specialist
    id) that has none, and a renewal_collection task for each unpaid premium of their in-force
    policies due within 60 days that has none; return how many tasks were created."""
    if not customers:
        return 0
    ids = [c[0] for c in customers]
    has_pre_sell: set[int] = set()
    for part in chunks(ids):
        has_pre_sell.update(
            session.scalars(
                select(Task.customer_id).where(
                    Task.kind == TaskKind.PRE_SELL, Task.customer_id.in_(part)
                )
            )
        )
    rows: list[dict] = []
    pre_due = on_date + timedelta(days=PRE_SELL_DAYS)
    for cid, customer_no, sid in customers:
        if cid not in has_pre_sell:
            rows.append(
                _task(
                    f"IN-{customer_no}-PS-{pre_due:%Y%m%d}",
                    TaskKind.PRE_SELL,
                    cid,
                    None,
                    sid,
                    pre_due,
                    now,
                )
            )
    if renewals:
        specialist_of = {c[0]: c[2] for c in customers}
        end = on_date + timedelta(days=RENEWAL_WINDOW_DAYS)
        for part in chunks(ids):
            dues = session.execute(
                select(Policy.customer_id, Policy.id, Policy.policy_no, PremiumDue.due_date)
                .join(PremiumDue, PremiumDue.policy_id == Policy.id)
                .where(
                    Policy.customer_id.in_(part),
                    Policy.status == PolicyStatus.IN_FORCE,
                    PremiumDue.due_date >= on_date,
                    PremiumDue.due_date <= end,
                    PremiumDue.amount_received_fen < PremiumDue.amount_due_fen,
                    ~exists().where(
                        Task.policy_id == Policy.id,
                        Task.kind == TaskKind.RENEWAL_COLLECTION,
                        Task.due_date == PremiumDue.due_date,
                    ),
                )
                .order_by(Policy.customer_id, PremiumDue.due_date, Policy.policy_no)
            )
            for cid, pid, policy_no, due in dues:
                rows.append(
                    _task(
                        f"IN-{policy_no}-RC-{due:%Y%m%d}",
                        TaskKind.RENEWAL_COLLECTION,
                        cid,
                        pid,
                        specialist_of[cid],
                        due,
                        now,
                    )
                )
    if not rows:
        return 0
    # A task imported under the same number already stands for this one.
    taken: set[str] = set()
    numbers = [r["task_no"] for r in rows]
    for i in range(0, len(numbers), _CHUNK):
        taken.update(
            session.scalars(select(Task.task_no).where(Task.task_no.in_(numbers[i : i + _CHUNK])))
        )
    rows = [r for r in rows if r["task_no"] not in taken]
    if rows:
        session.execute(insert(Task), rows)
    return len(rows)


def _task(natural_no, kind, customer_id, policy_id, specialist_id, due, now) -> dict:
    return {
        "task_no": task_no(natural_no),
        "kind": kind,
        "customer_id": customer_id,
        "policy_id": policy_id,
        "specialist_id": specialist_id,
        "channel": Channel.OFFLINE,
        "created_at": now,
        "due_date": due,
        "status": TaskStatus.OPEN,
    }


def _has_in_force_policy():
    return exists().where(Policy.customer_id == Customer.id, Policy.status == PolicyStatus.IN_FORCE)


def intake_agent(
    session: Session,
    *,
    agent_code: str,
    on_date: date | None = None,
    actor: str = "system",
    index: GridIndex | None = None,
    signature: str | None = None,
    user: UserInfo | None = None,
) -> IntakeResult:
    """Return what the intake of a departed agent's customers did.

    Every customer of the agent with an in-force policy and not yet in the pool enters it on
    ``on_date`` (default: the agent's leaving date, else today), is matched to a grid, gets the
    grid's active owner as specialist, an agent-change SMS in the outbox and a pre_sell task
    plus renewal_collection tasks for unpaid premiums due in the next 60 days (customers left
    without a specialist get the same tasks, unassigned: resolving their grid assigns them).
    Customers already in the pool are left alone, so a second run changes nothing. An agent
    without a leaving date gets ``on_date`` as one. ``index`` reuses a GridIndex across calls;
    ``signature`` is the SMS signature (default: the branch name). Raises NotFound.
    """
    if user is not None and not user.may_move_across_teams:
        raise NotAllowed("intake.senior_only")
    agent = session.scalar(select(DepartedAgent).where(DepartedAgent.agent_code == agent_code))
    if agent is None or (user is not None and agent.branch_id != user.branch_id):
        raise NotFound("intake.no_agent", agent=agent_code)
    branch = session.get(Branch, agent.branch_id)
    assert branch is not None
    if on_date is None:
        on_date = agent.left_on or local_date(utcnow(), branch.timezone)
    dated_agent = agent.left_on is None
    if dated_agent:
        agent.left_on = on_date

    already = session.scalar(
        select(func.count(Customer.id)).where(
            Customer.agent_id == agent.id,
            Customer.pool_entered_on.is_not(None),
            _has_in_force_policy(),
        )
    )
    left_out = session.scalar(
        select(func.count(Customer.id)).where(
            Customer.agent_id == agent.id,
            Customer.pool_entered_on.is_(None),
            ~_has_in_force_policy(),
        )
    )
    entering = list(
        session.scalars(
            select(Customer)
            .where(
                Customer.agent_id == agent.id,
                Customer.pool_entered_on.is_(None),
                _has_in_force_policy(),
            )
            .order_by(Customer.id)
        )
    )
    counts = dict.fromkeys(MatchMethod, 0)
    unmatched = matched_before = 0
    # What the intake changes of each customer, so that undo can put it back.
    before = {
        c.id: [c.grid_id, None if c.match_method is None else str(c.match_method), c.specialist_id]
        for c in entering
    }
    if entering:
        to_match = [c for c in entering if c.grid_id is None]
        matched_before = len(entering) - len(to_match)
        if to_match:
            index = index or GridIndex.from_session(session, agent.branch_id)
            for c, m in zip(to_match, index.match(to_match), strict=True):
                if m.grid_id is None:
                    unmatched += 1
                    continue
                c.grid_id = m.grid_id
                c.match_method = m.method
                counts[m.method] += 1  # type: ignore[index]
        for c in entering:
            c.pool_entered_on = on_date
    now = utcnow()
    batch = None
    if entering:
        batch = ChangeBatch(branch_id=branch.id, kind=INTAKE_KIND, actor=actor, created_at=now)
        session.add(batch)
        session.flush()
    grid_ids = [c.grid_id for c in entering if c.grid_id is not None]
    owners = active_owners(session, grid_ids, on_date)
    # The customers are served from the day they entered the pool, whenever this runs.
    served = serve_by_grid_owner(
        session,
        entering,
        owners,
        reason=AssignmentReason.AUTO_MATCH,
        actor=actor,
        now=now,
        effective_on=on_date,
        batch_id=None if batch is None else batch.id,
    )
    session.flush()
    sms = tell_customers(
        session,
        [
            Told(
                c.id,
                c.name,
                c.id_number,
                o.id if (o := served[c.id]) else None,
                o.contact if o else None,
            )
            for c in entering
        ],
        signature=signature or branch.name,
        now=now,
        agent_left=True,
    )
    tasks = create_first_tasks(
        session,
        [(c.id, c.customer_no, c.specialist_id) for c in entering],
        on_date=on_date,
        now=now,
    )
    customer_ids = tuple(c.id for c in entering)
    session.flush()  # their base rows are rewritten by the unit of work
    if batch is not None:
        created = [
            tid
            for part in chunks(list(customer_ids))
            for tid in session.scalars(
                select(Task.id).where(Task.customer_id.in_(part), Task.created_at == now)
            )
        ]
        batch.plan = json.dumps(
            {
                "intake": {
                    "agent_code": agent.agent_code,
                    "on_date": on_date.isoformat(),
                    "dated_agent": dated_agent,  # the intake gave the agent their leaving date
                    "customers": {str(c.id): [*before[c.id], c.specialist_id] for c in entering},
                    "tasks": created,
                },
                "applied": {"customers": [[c.id] for c in entering], "tasks": created},
                "sms": {"queued": sms.queued, "replaced": sms.replaced, "withdrawn": sms.withdrawn},
            }
        )
        session.flush()
    return IntakeResult(
        agent_code=agent.agent_code,
        on_date=on_date,
        customers_entered=len(entering),
        already_in_pool=already or 0,
        matched_by_point=counts[MatchMethod.POINT],
        matched_by_address=counts[MatchMethod.ADDRESS],
        matched_by_rule=counts[MatchMethod.RULE],
        matched_before=matched_before,
        unmatched=unmatched,
        without_specialist=sum(
            1 for c in entering if c.grid_id is not None and served[c.id] is None
        ),
        sms_queued=sms.queued,
        sms_replaced=sms.replaced,
        sms_withdrawn=sms.withdrawn,
        tasks_created=tasks,
        customer_ids=customer_ids,
        no_policy_in_force=left_out or 0,
        sms_without_phone=sum(1 for c in entering if not phone_known(c.phone)),
    )
