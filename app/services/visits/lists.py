"""The weekly visit list (issue 19): where a specialist should go in a week, and in what order.

For one specialist and one week (Monday to Sunday) the list gathers, as of a date:

- their open offline tasks due by the week's Sunday: those due in the week and every earlier
  one (overdue on the as-of date, or due before the week starts); tasks without a due date and
  online-seat tasks are left out (nobody walks to a call);
- the premiums falling due in the 30 days from the week's Monday (Monday + 29 days) on in-force
  policies of their customers, not yet received in full, where the customer has no open
  ``renewal_collection`` task for that policy (nor one naming no policy);
- their customers past a hand-off target (``app.services.metrics.handoff.late_handoffs``).

One customer is one stop, with everything to do there. Stops are grouped by community (the
customer's grid, by grid code; customers without a grid last), and each community's stops are
ordered along a short walking route over the customers' coordinates (``visits.route``: nearest
neighbour then 2-opt on haversine distances). Customers without coordinates come at the end of
their community. The list says how long the route is against the same stops unordered (in
customer-number order, as they are gathered).

The week's stops are then spread over the working days, Monday to Friday, at most ``per_day``
a day (15 by default: one printed A4 page), as evenly as the days allow: each day first takes
the stops that cannot wait (overdue tasks and late hand-offs from Monday, a task or premium due
this week by its day, a weekend counting as Friday), then the next stops in route order. What
does not fit is listed as unplanned. Pure data: no Qt, no writes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.models import Customer, Grid, Policy, PremiumDue, Specialist, Task, Team
from app.models.enums import OPEN_TASK_STATUSES, Channel, PolicyStatus, TaskKind
from app.services.errors import DomainError
from app.services.exports.files import contact_masks, shows_contact_data
from app.services.metrics.handoff import late_handoffs
from app.services.people.auth import UserInfo
from app.services.visits.route import length_of, route

WORKING_DAYS = 5  # Monday to Friday
PREMIUM_WINDOW_DAYS = 30
MAX_PER_DAY = 15
CHUNK = 5_000


class WeekError(DomainError, ValueError):
    """A week that cannot be read, in words."""


def week_of(text: str) -> date:
    """Return the Monday of the week written as ``2025-W49`` or as any day ``2025-12-03``."""
    raw = text.strip()
    try:
        if "W" in raw.upper():
            year, _, week = raw.upper().partition("-W")
            return date.fromisocalendar(int(year), int(week), 1)
        day = date.fromisoformat(raw)
    except ValueError:
        raise WeekError("week.unreadable", text=text) from None
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Todo:
    """One thing to do at a stop: a task, a premium to collect or a hand-off milestone missed."""

    what: str  # "task", "premium" or "handoff"
    task_kind: str | None = None  # TaskKind value, for a task
    task_no: str | None = None
    due_date: date | None = None  # a task's due date, a premium's due date
    overdue: bool = False  # a task past its due date on the as-of date
    policy_no: str | None = None
    amount_fen: int | None = None  # the premium still to receive
    missed: tuple[str, ...] = ()  # hand-off milestones missed ("sms", "contact", "service")
    days_over: int | None = None  # days past the first missed milestone's target

    def latest_day(self, monday: date) -> int | None:
        """Return the working day (0 Monday … 4 Friday) by which this must be done in the
        week, or None when any day of the week will do."""
        if self.what == "handoff" or self.overdue:
            return 0
        if self.due_date is None or self.due_date > monday + timedelta(days=6):
            return None
        return max(0, min(WORKING_DAYS - 1, (self.due_date - monday).days))


@dataclass(frozen=True)
class Stop:
    """One customer to visit and everything to do there."""

    customer_id: int
    customer_no: str
    name: str
    phone: str  # masked unless the user may see contact data
    address: str
    lon: float | None
    lat: float | None
    grid_code: str | None
    grid_name: str | None
    todos: tuple[Todo, ...]

    @property
    def located(self) -> bool:
        return self.lon is not None and self.lat is not None

    def latest_day(self, monday: date) -> int | None:
        days = [d for d in (t.latest_day(monday) for t in self.todos) if d is not None]
        return min(days) if days else None


@dataclass(frozen=True)
class Community:
    """The stops of one grid (or of no grid) in walking order, unlocated ones last."""

    grid_code: str | None
    grid_name: str | None
    stops: tuple[Stop, ...]
    route_m: float
    unordered_m: float

    @property
    def unlocated(self) -> int:
        return sum(not s.located for s in self.stops)


@dataclass(frozen=True)
class Day:
    day: date
    stops: tuple[Stop, ...]  # in list order: community by community, route order inside
    route_m: float


@dataclass(frozen=True)
class VisitList:
    specialist_id: int
    employee_no: str
    specialist_name: str
    team_name: str
    week_monday: date
    as_of: date
    premium_until: date  # premiums due from the Monday to this day are gathered
    communities: tuple[Community, ...]
    days: tuple[Day, ...]
    unplanned: tuple[Stop, ...]  # stops beyond the working days' capacity
    route_m: float  # the whole list walked in its order (located stops)
    unordered_m: float  # the same stops in customer-number order
    contact_data_shown: bool

    @property
    def stops(self) -> list[Stop]:
        return [s for c in self.communities for s in c.stops]

    @property
    def week_label(self) -> str:
        year, week, _ = self.week_monday.isocalendar()
        return f"{year}-W{week:02d}"


def build_visit_list(
    session: Session,
    specialist_id: int,
    week_monday: date,
    as_of: date,
    *,
    user: UserInfo | None = None,
    per_day: int = MAX_PER_DAY,
) -> VisitList:
    """Return the visit list of one specialist for the week starting ``week_monday``."""
    (found,) = build_visit_lists(
        session, [specialist_id], week_monday, as_of, user=user, per_day=per_day
    )
    return found


def build_visit_lists(
    session: Session,
    specialist_ids: Sequence[int],
    week_monday: date,
    as_of: date,
    *,
    user: UserInfo | None = None,
    per_day: int = MAX_PER_DAY,
) -> list[VisitList]:
    """Return the visit lists of the specialists for the week starting ``week_monday``, in the
    order given; phones are masked unless ``user`` may see contact data."""
    if week_monday.weekday() != 0:
        raise WeekError("week.not_monday", day=week_monday.isoformat())
    if per_day < 1:
        raise ValueError("at least one stop a day")
    people = _specialists(session, specialist_ids)
    todos = _gather(session, people, week_monday, as_of)
    customers = _customers(session, {cid for by in todos.values() for cid in by}, user)
    out = []
    for sid in specialist_ids:
        emp, name, team, _branch = people[sid]
        stops = [Stop(**customers[cid], todos=tuple(t)) for cid, t in todos[sid].items()]
        communities = group_and_route(stops)
        days, unplanned = plan_days(communities, week_monday, per_day=per_day)
        walked = [s for c in communities for s in c.stops if s.located]
        gathered = sorted(walked, key=lambda s: s.customer_no)
        out.append(
            VisitList(
                specialist_id=sid,
                employee_no=emp,
                specialist_name=name,
                team_name=team,
                week_monday=week_monday,
                as_of=as_of,
                premium_until=week_monday + timedelta(days=PREMIUM_WINDOW_DAYS - 1),
                communities=tuple(communities),
                days=tuple(days),
                unplanned=tuple(unplanned),
                route_m=_length(walked),
                unordered_m=_length(gathered),
                contact_data_shown=shows_contact_data(user),
            )
        )
    return out


def _length(stops: Sequence[Stop]) -> float:
    return length_of([s.lon for s in stops], [s.lat for s in stops])  # type: ignore[misc]


def _specialists(session: Session, ids: Collection[int]) -> dict[int, tuple[str, str, str, int]]:
    rows = session.execute(
        select(
            Specialist.id, Specialist.employee_no, Specialist.name, Team.name, Specialist.branch_id
        )
        .join(Team, Team.id == Specialist.team_id)
        .where(Specialist.id.in_(list(ids)))
    ).all()
    found = {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}
    missing = set(ids) - set(found)
    if missing:
        raise LookupError(f"no specialist with id {min(missing)}")
    return found


def _gather(
    session: Session, people: dict[int, tuple[str, str, str, int]], monday: date, as_of: date
) -> dict[int, dict[int, list[Todo]]]:
    """Return, per specialist and customer (in customer-id order), the things to do."""
    sids = list(people)
    found: dict[int, dict[int, list[Todo]]] = {sid: defaultdict(list) for sid in sids}
    for sid, cid, todo in _tasks(session, sids, monday, as_of):
        found[sid][cid].append(todo)
    for sid, cid, todo in _premiums(session, sids, monday):
        found[sid][cid].append(todo)
    branches = {b for *_, b in people.values()}
    for branch_id in sorted(branches):
        for late in late_handoffs(session, as_of=as_of, branch_id=branch_id, specialist_ids=sids):
            todo = Todo("handoff", missed=late.missed, days_over=late.days_over)
            found[late.specialist_id][late.customer_id].append(todo)  # type: ignore[index]
    return {sid: dict(sorted(by.items())) for sid, by in found.items()}


def _tasks(
    session: Session, sids: list[int], monday: date, as_of: date
) -> Iterable[tuple[int, int, Todo]]:
    sunday = monday + timedelta(days=6)
    stmt = (
        select(
            Task.specialist_id,
            Task.customer_id,
            Task.kind,
            Task.task_no,
            Task.due_date,
            Policy.policy_no,
        )
        .outerjoin(Policy, Policy.id == Task.policy_id)
        .where(
            Task.specialist_id.in_(sids),
            Task.status.in_(OPEN_TASK_STATUSES),
            Task.channel == Channel.OFFLINE,
            Task.due_date <= sunday,
        )
        .order_by(Task.due_date, Task.task_no)
    )
    for sid, cid, kind, task_no, due, policy_no in session.execute(stmt):
        kind = TaskKind(kind)
        yield (
            cast(int, sid),  # the query asks for given specialists only
            cid,
            Todo("task", kind.value, task_no, due, due is not None and due < as_of, policy_no),
        )


def _premiums(session: Session, sids: list[int], monday: date) -> Iterable[tuple[int, int, Todo]]:
    until = monday + timedelta(days=PREMIUM_WINDOW_DAYS - 1)
    stmt = (
        select(
            Customer.specialist_id,
            Customer.id,
            Policy.id,
            Policy.policy_no,
            PremiumDue.due_date,
            PremiumDue.amount_due_fen - PremiumDue.amount_received_fen,
        )
        .join(Policy, Policy.customer_id == Customer.id)
        .join(
            PremiumDue,
            and_(
                PremiumDue.policy_id == Policy.id,
                PremiumDue.due_date >= monday,
                PremiumDue.due_date <= until,
            ),
        )
        .where(
            Customer.specialist_id.in_(sids),
            Policy.status == PolicyStatus.IN_FORCE,
            PremiumDue.amount_received_fen < PremiumDue.amount_due_fen,
        )
        .order_by(PremiumDue.due_date, Policy.policy_no)
    )
    rows = session.execute(stmt).all()
    covered = _renewal_tasks(session, {r[1] for r in rows})
    for sid, cid, pid, policy_no, due, left in rows:
        if (cid, pid) not in covered and (cid, None) not in covered:
            yield (
                cast(int, sid),  # the query asks for given specialists only
                cid,
                Todo("premium", due_date=due, policy_no=policy_no, amount_fen=int(left)),
            )


def _renewal_tasks(session: Session, customer_ids: set[int]) -> set[tuple[int, int | None]]:
    """Return (customer, policy or None) of the open renewal-collection tasks of the customers.
    Read apart from the premiums: checked per policy inside their query, SQLite ran the check
    for every policy of the specialists before looking at the due dates (0.7 s on `city`)."""
    found: set[tuple[int, int | None]] = set()
    ordered = sorted(customer_ids)
    for start in range(0, len(ordered), CHUNK):
        stmt = select(Task.customer_id, Task.policy_id).where(
            Task.customer_id.in_(ordered[start : start + CHUNK]),
            Task.kind == TaskKind.RENEWAL_COLLECTION,
            Task.status.in_(OPEN_TASK_STATUSES),
        )
        found.update((cid, pid) for cid, pid in session.execute(stmt))
    return found


def _customers(session: Session, ids: set[int], user: UserInfo | None) -> dict[int, dict]:
    """Return, per customer id, the fields of its stop but the things to do."""
    phone_of, _ = contact_masks(user)
    out: dict[int, dict] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        stmt = (
            select(
                Customer.id,
                Customer.customer_no,
                Customer.name,
                Customer.phone,
                Customer.address,
                Customer.lon,
                Customer.lat,
                Grid.code,
                Grid.name,
            )
            .outerjoin(Grid, Grid.id == Customer.grid_id)
            .where(Customer.id.in_(chunk))
        )
        for cid, no, name, phone, address, lon, lat, code, gname in session.execute(stmt):
            located = lon is not None and lat is not None
            out[cid] = dict(
                customer_id=cid,
                customer_no=no,
                name=name,
                phone=phone_of(phone),
                address=address,
                lon=lon if located else None,
                lat=lat if located else None,
                grid_code=code,
                grid_name=gname,
            )
    return out


def group_and_route(stops: Iterable[Stop]) -> list[Community]:
    """Return the stops grouped by grid (by code; no grid last), each group in walking order
    with its stops without coordinates at the end (in customer-number order)."""
    groups: dict[tuple[str, str] | None, list[Stop]] = defaultdict(list)
    for s in stops:
        groups[(s.grid_code, s.grid_name or "") if s.grid_code else None].append(s)
    keys = sorted((k for k in groups if k is not None), key=lambda k: k[0])
    if None in groups:
        keys.append(None)  # type: ignore[arg-type]
    return [_community(k, groups[k]) for k in keys]


def _community(key: tuple[str, str] | None, stops: list[Stop]) -> Community:
    stops = sorted(stops, key=lambda s: s.customer_no)
    here = [s for s in stops if s.located]
    away = [s for s in stops if not s.located]
    order, route_m, unordered_m = route([s.lon for s in here], [s.lat for s in here])  # type: ignore[misc]
    walked = tuple(here[i] for i in order) + tuple(away)
    code, name = key if key else (None, None)
    return Community(code, name, walked, route_m, unordered_m)


def plan_days(
    communities: Sequence[Community], monday: date, *, per_day: int = MAX_PER_DAY
) -> tuple[list[Day], list[Stop]]:
    """Return the working days with their stops, and the stops that did not fit (see the
    module's notes)."""
    listed = [s for c in communities for s in c.stops]
    position = {s.customer_id: i for i, s in enumerate(listed)}
    latest = {s.customer_id: s.latest_day(monday) for s in listed}
    left = list(listed)
    days = []
    for k in range(WORKING_DAYS):
        quota = min(per_day, math.ceil(len(left) / (WORKING_DAYS - k))) if left else 0
        urgent = [s for s in left if (d := latest[s.customer_id]) is not None and d <= k]
        today = urgent[:per_day]
        taken = {s.customer_id for s in today}
        for s in left:
            if len(today) >= quota:
                break
            if s.customer_id not in taken:
                today.append(s)
                taken.add(s.customer_id)
        today.sort(key=lambda s: position[s.customer_id])
        left = [s for s in left if s.customer_id not in taken]
        here = [s for s in today if s.located]
        days.append(Day(monday + timedelta(days=k), tuple(today), _length(here)))
    return days, left
