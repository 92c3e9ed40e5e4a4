"""Workloads: what each specialist carries today and what each grid would take with it.

A specialist's workload is a weighted sum of

- the customers they serve,
- their open tasks (open or in progress), and
- the premium still to collect on in-force policies of their customers that falls due in the
  next 90 days (from the as-of date, that day included: ``as_of <= due_date < as_of + 90``),
  the amount due less what was already received,

with the weights of :class:`Weights` (kept in the settings by the views). The defaults make one
customer, two open tasks and 10,000 yuan of premium due each count 1.

A grid *carries* the part of its owner's workload that would follow it to a new owner: the
owner's unlocked customers in the grid, the open tasks the owner holds for them and their premium
due. Locked customers, customers served by someone other than the owner and tasks held by
someone else stay where they are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from functools import partial

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app.models import Customer, Grid, Policy, PremiumDue, Specialist, Task, Team
from app.models.enums import OPEN_TASK_STATUSES, GridStatus, PolicyStatus, SpecialistStatus
from app.services.database.sqlfuncs import chunks as id_chunks
from app.services.rebalance.dues import (
    due_conditions,
    outstanding,
    premium_due_by_customer,
    window_by_policy,
)
from app.services.rebalance.followers import following
from app.services.rebalance.neighbours import touching

FEN_PER_10K_YUAN = 1_000_000
_CHUNK = 500
_chunks = partial(id_chunks, size=_CHUNK)  # this module's IN (...) lists


@dataclass(frozen=True)
class Weights:
    """How much each part of the work counts in a workload.

    Defaults: a customer counts 1, an open task 0.5, and 10,000 yuan of premium due in the next
    90 days 1.
    """

    customer: float = 1.0
    open_task: float = 0.5
    premium_per_10k_yuan: float = 1.0

    def load(self, customers: int, open_tasks: int, premium_due_fen: int) -> float:
        """Return the weighted workload of the given counts and amount (fen)."""
        return (
            self.customer * customers
            + self.open_task * open_tasks
            + self.premium_per_10k_yuan * premium_due_fen / FEN_PER_10K_YUAN
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "customer": self.customer,
            "open_task": self.open_task,
            "premium_per_10k_yuan": self.premium_per_10k_yuan,
        }


@dataclass(frozen=True)
class SpecialistLoad:
    specialist_id: int
    employee_no: str
    name: str
    team_id: int
    team_code: str
    capacity: int
    customers: int
    open_tasks: int
    premium_due_fen: int
    load: float
    version: int

    @property
    def utilisation(self) -> float | None:
        """Customers served as a share of capacity."""
        return self.customers / self.capacity if self.capacity else None


@dataclass(frozen=True)
class GridLoad:
    grid_id: int
    code: str
    name: str
    owner_id: int | None
    locked: bool
    version: int
    centroid: tuple[float, float]  # lon, lat
    neighbours: tuple[int, ...]
    # What would follow the grid to a new owner.
    customers: int
    open_tasks: int
    premium_due_fen: int
    load: float


@dataclass(frozen=True)
class CustomerLoad:
    """One customer who would follow their grid to a new owner, with their own load."""

    customer_id: int
    customer_no: str
    grid_id: int
    specialist_id: int
    open_tasks: int
    premium_due_fen: int
    load: float
    version: int


@dataclass(frozen=True)
class DuePremium:
    """The premium due in the window of ``as_of`` (:func:`~app.services.rebalance.dues.premium_window`) on the in-force
    policies of a branch's customers, read in one pass for both :func:`workloads` (by
    specialist) and :func:`grid_loads` (what follows each grid): each reads the dues of the
    window through policies and customers, 2.7-2.8 s apiece on the large demo (341,000 dues),
    3.2 s together."""

    branch_id: int
    as_of: date
    keep_from_step: int | None
    by_specialist: dict[int, int]
    following_by_grid: dict[int, int]
    # Read for the grids of these owners only (None: the whole branch); by_specialist then
    # counts only those grids' customers.
    grid_owners: frozenset[int] | None = None

    def check(
        self,
        branch_id: int,
        as_of: date,
        keep_from_step: int | None,
        grid_owners: Collection[int] | None = None,
    ) -> None:
        """Refuse premium read for another branch, day or step kept, or for fewer grids than
        those of ``grid_owners`` (None: every grid of the branch)."""
        if (self.branch_id, self.as_of, self.keep_from_step) != (branch_id, as_of, keep_from_step):
            raise ValueError("premium due read for another branch, day or step kept")
        if self.grid_owners is not None and (
            grid_owners is None or not set(grid_owners) <= self.grid_owners
        ):
            raise ValueError("premium due read for other grids")


def due_premium(
    session: Session,
    *,
    branch_id: int,
    as_of: date,
    keep_from_step: int | None = None,
    grid_owners: Collection[int] | None = None,
) -> DuePremium:
    """Return the premium due of the branch's customers in ``as_of``'s window, by specialist
    and by grid for the customers who would follow their grid (:func:`.followers.following`).
    With ``grid_owners``, of the customers of those specialists' grids only (a team's plan)."""
    follows = following(keep_from_step)
    if grid_owners is None:
        # The whole branch: the window's dues summed by policy first (window_by_policy).
        per_policy = window_by_policy(session, as_of)
        stmt = (
            select(
                Customer.specialist_id,
                Customer.grid_id,
                follows,
                func.coalesce(func.sum(per_policy.c.fen), 0),
            )
            .select_from(per_policy)
            .join(Policy, Policy.id == per_policy.c.policy_id)
            .join(Customer, Customer.id == Policy.customer_id)
            .outerjoin(Grid, Grid.id == Customer.grid_id)
            .where(Customer.branch_id == branch_id, Policy.status == PolicyStatus.IN_FORCE)
        )
    else:
        # Some grids: their customers' policies and each one's dues in the window (on `large`,
        # a team's: 0.6 s against 2.9 s through the window's index).
        stmt = (
            select(Customer.specialist_id, Customer.grid_id, follows, outstanding())
            .select_from(Grid)
            .join(Customer, Customer.grid_id == Grid.id)
            .join(Policy, Policy.customer_id == Customer.id)
            .join(PremiumDue, PremiumDue.policy_id == Policy.id)
            .where(
                Grid.owner_id.in_(list(grid_owners)),
                Customer.branch_id == branch_id,
                *due_conditions(as_of),
            )
        )
    rows = session.execute(stmt.group_by(Customer.specialist_id, Customer.grid_id, follows)).all()
    by_specialist: defaultdict[int, int] = defaultdict(int)
    by_grid: defaultdict[int, int] = defaultdict(int)
    for specialist_id, grid_id, follow, amount in rows:
        if specialist_id is not None:
            by_specialist[specialist_id] += int(amount)
        if follow and grid_id is not None:
            by_grid[grid_id] += int(amount)
    owners = None if grid_owners is None else frozenset(grid_owners)
    return DuePremium(branch_id, as_of, keep_from_step, dict(by_specialist), dict(by_grid), owners)


def workloads(
    session: Session,
    *,
    branch_id: int,
    as_of: date,
    weights: Weights = Weights(),  # noqa: B008 - frozen, shared safely
    team_ids: Collection[int] | None = None,
    specialist_ids: Collection[int] | None = None,
    due: DuePremium | None = None,
) -> list[SpecialistLoad]:
    """Return the workload of every active specialist of the branch (or of the given teams),
    by team code then employee number; with ``specialist_ids``, of those specialists whatever
    their status (someone leaving or on leave). ``due`` (:func:`due_premium`, same branch and
    day) saves reading the premium due again."""
    people = select(
        Specialist.id,
        Specialist.employee_no,
        Specialist.name,
        Specialist.team_id,
        Team.code,
        Specialist.capacity,
        Specialist.version,
    ).join(Team, Team.id == Specialist.team_id)
    if specialist_ids is not None:
        people = people.where(
            Specialist.branch_id == branch_id, Specialist.id.in_(list(specialist_ids))
        )
    else:
        people = people.where(
            Specialist.branch_id == branch_id, Specialist.status == SpecialistStatus.ACTIVE
        )
    if team_ids is not None:
        people = people.where(Specialist.team_id.in_(list(team_ids)))
    rows = session.execute(people.order_by(Team.code, Specialist.employee_no)).all()
    ids = [r[0] for r in rows]
    customers: dict[int | None, int] = {}
    tasks: dict[int | None, int] = {}
    premium: dict[int | None, int] = {}
    if due is not None:
        due.check(branch_id, as_of, due.keep_from_step)
    for chunk in _chunks(ids):
        customers.update(
            session.execute(
                select(Customer.specialist_id, func.count())
                .where(Customer.specialist_id.in_(chunk))
                .group_by(Customer.specialist_id)
            ).all()
        )
        tasks.update(
            session.execute(
                select(Task.specialist_id, func.count())
                .where(Task.specialist_id.in_(chunk), Task.status.in_(OPEN_TASK_STATUSES))
                .group_by(Task.specialist_id)
            ).all()
        )
        if due is not None:
            premium.update({s: due.by_specialist.get(s, 0) for s in chunk})
            continue
        premium.update(
            session.execute(
                select(Customer.specialist_id, outstanding())
                .select_from(PremiumDue)
                .join(Policy, Policy.id == PremiumDue.policy_id)
                .join(Customer, Customer.id == Policy.customer_id)
                .where(Customer.specialist_id.in_(chunk), *due_conditions(as_of))
                .group_by(Customer.specialist_id)
            ).all()
        )
    result = []
    for sid, no, name, team_id, team_code, capacity, version in rows:
        c, t, p = customers.get(sid, 0), tasks.get(sid, 0), int(premium.get(sid, 0))
        result.append(
            SpecialistLoad(
                specialist_id=sid,
                employee_no=no,
                name=name,
                team_id=team_id,
                team_code=team_code,
                capacity=capacity,
                customers=c,
                open_tasks=t,
                premium_due_fen=p,
                load=weights.load(c, t, p),
                version=version,
            )
        )
    return result


def step_locked(
    session: Session,
    *,
    branch_id: int,
    keep_from_step: int,
    team_ids: Collection[int] | None = None,
) -> int:
    """Return how many customers keeping those at ``keep_from_step`` or above in place holds
    back: the unlocked customers of the branch's active specialists (of the given teams) who
    reached that 4-sell step."""
    query = (
        select(func.count())
        .select_from(Customer)
        .join(Specialist, Specialist.id == Customer.specialist_id)
        .where(
            Specialist.branch_id == branch_id,
            Specialist.status == SpecialistStatus.ACTIVE,
            Customer.locked.is_(False),
            Customer.step >= keep_from_step,
        )
    )
    if team_ids is not None:
        query = query.where(Specialist.team_id.in_(list(team_ids)))
    return int(session.scalar(query) or 0)


def grid_loads(
    session: Session,
    *,
    branch_id: int,
    as_of: date,
    weights: Weights = Weights(),  # noqa: B008
    keep_from_step: int | None = None,
    due: DuePremium | None = None,
    owners: Collection[int] | None = None,
) -> list[GridLoad]:
    """Return every active grid of the branch (with ``owners``, of those specialists only: their
    neighbours then among them) with its owner, neighbours and the load that would follow it
    to a new owner (never customers at ``keep_from_step`` or above), by grid code.
    The premium due is :func:`due_premium`'s, the one read of it: given as ``due`` (same
    branch, day and step) when the caller has it, read here otherwise."""
    follows = following(keep_from_step)
    in_branch = and_(Grid.branch_id == branch_id, Grid.status == GridStatus.ACTIVE)
    if owners is not None:
        in_branch = and_(in_branch, Grid.owner_id.in_(list(owners)))
    grids = session.execute(
        select(
            Grid.id,
            Grid.code,
            Grid.name,
            Grid.owner_id,
            Grid.locked,
            Grid.version,
            Grid.centroid_lon,
            Grid.centroid_lat,
            Grid.geometry,
        )
        .where(in_branch)
        .order_by(Grid.code)
    ).all()
    customers = dict(
        session.execute(
            select(Customer.grid_id, func.count())
            .join(Grid, Grid.id == Customer.grid_id)
            .where(in_branch, follows)
            .group_by(Customer.grid_id)
        ).all()
    )
    tasks = dict(
        session.execute(
            select(Customer.grid_id, func.count())
            .select_from(Task)
            .join(Customer, Customer.id == Task.customer_id)
            .join(Grid, Grid.id == Customer.grid_id)
            .where(
                in_branch,
                follows,
                Task.specialist_id == Grid.owner_id,
                Task.status.in_(OPEN_TASK_STATUSES),
            )
            .group_by(Customer.grid_id)
        ).all()
    )
    if due is None:
        due = due_premium(
            session,
            branch_id=branch_id,
            as_of=as_of,
            keep_from_step=keep_from_step,
            grid_owners=owners,
        )
    else:
        due.check(branch_id, as_of, keep_from_step, owners)
    premium = due.following_by_grid
    neighbours = touching([r[8] for r in grids])
    result = []
    for (gid, code, name, owner, locked, version, lon, lat, _geo), near in zip(
        grids, neighbours, strict=True
    ):
        c, t, p = customers.get(gid, 0), tasks.get(gid, 0), int(premium.get(gid, 0))
        result.append(
            GridLoad(
                grid_id=gid,
                code=code,
                name=name,
                owner_id=owner,
                locked=bool(locked),
                version=version,
                centroid=(lon, lat),
                neighbours=tuple(grids[j][0] for j in near),
                customers=c,
                open_tasks=t,
                premium_due_fen=p,
                load=weights.load(c, t, p),
            )
        )
    return result


def following_customers(
    session: Session,
    grid_ids: Iterable[int],
    *,
    as_of: date,
    weights: Weights = Weights(),  # noqa: B008
    keep_from_step: int | None = None,
) -> list[CustomerLoad]:
    """Return the customers who would follow the given grids to a new owner, each with their own
    load and version, by grid then customer number."""
    result: list[CustomerLoad] = []
    for chunk in _chunks(sorted(set(grid_ids))):
        rows = session.execute(
            select(
                Customer.id,
                Customer.customer_no,
                Customer.grid_id,
                Customer.specialist_id,
                Customer.version,
            )
            .join(Grid, Grid.id == Customer.grid_id)
            .where(Grid.id.in_(chunk), following(keep_from_step))
        ).all()
        ids = [r[0] for r in rows]
        tasks: defaultdict[int, int] = defaultdict(int)
        premium: defaultdict[int, int] = defaultdict(int)
        for ids_chunk in _chunks(ids):
            tasks.update(
                session.execute(
                    select(Task.customer_id, func.count())
                    .join(Customer, Customer.id == Task.customer_id)
                    .where(
                        Task.customer_id.in_(ids_chunk),
                        Task.specialist_id == Customer.specialist_id,
                        Task.status.in_(OPEN_TASK_STATUSES),
                    )
                    .group_by(Task.customer_id)
                ).all()
            )
            premium.update(premium_due_by_customer(session, ids_chunk, as_of))
        for cid, no, gid, sid, version in rows:
            assert gid is not None and sid is not None  # the join and following() ensure it
            t, p = tasks[cid], int(premium[cid])
            result.append(
                CustomerLoad(
                    customer_id=cid,
                    customer_no=no,
                    grid_id=gid,
                    specialist_id=sid,
                    open_tasks=t,
                    premium_due_fen=p,
                    load=weights.load(1, t, p),
                    version=version,
                )
            )
    result.sort(key=lambda c: (c.grid_id, c.customer_no))
    return result


def grid_versions(session: Session, grid_ids: Iterable[int | None]) -> dict[int, int]:
    """Return grid id -> version of the given grids (None, a customer without a grid, left
    out): what a plan records of the grids it relies on."""
    ids = sorted({g for g in grid_ids if g is not None})
    found: dict[int, int] = {}
    for chunk in _chunks(ids):
        found.update(
            (r.id, r.version)
            for r in session.execute(select(Grid.id, Grid.version).where(Grid.id.in_(chunk)))
        )
    return found
