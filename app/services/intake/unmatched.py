"""The unmatched-address queue: pool customers no grid was found for, a person's choice of grid
(optionally kept as an address rule), and re-matching the queue after new rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from app.models import AddressRule, Branch, Customer, Grid, Task
from app.models.base import utcnow
from app.models.enums import (
    OPEN_TASK_STATUSES,
    AssignmentReason,
    GridStatus,
    MatchMethod,
)
from app.services.changes import Changes, ids_of, some_if
from app.services.customers.notify import SmsCounts, Told, tell_customers
from app.services.errors import DomainError, NotAllowed, NotFound, StaleData
from app.services.intake.address import ParsedAddress, parse_address
from app.services.intake.coverage import MATCHED, close_marks, open_mark
from app.services.intake.intake import (
    Owner,
    active_owners,
    branch_today,
    chunks,
    create_first_tasks,
    serve_by_grid_owner,
)
from app.services.intake.matching import (
    MIN_NAME_LENGTH,
    GridIndex,
    Suggestion,
    normalise,
    normalise_address,
)
from app.services.messages import Message
from app.services.people.auth import UserInfo


class InvalidChoice(DomainError, ValueError):
    """A grid choice or address rule that cannot be saved, with the reason for the user."""


@dataclass(frozen=True)
class UnmatchedRow:
    customer_id: int
    customer_no: str
    name: str
    address: str
    pool_entered_on: date | None
    # The grids sharing the longest piece of text with the address, best first.
    suggestions: tuple[Suggestion, ...]
    # Days since the customer entered the pool (the branch's today).
    days_waiting: int | None = None
    # The most specific piece of the address to remember as a rule: its street and community
    # when it names them, else the piece shared with the first suggested grid.
    proposed_rule: str = ""


@dataclass(frozen=True)
class RulePreview:
    """What remembering an address rule would do, before it is saved."""

    pattern: str
    grid_code: str
    # Customers whose address contains the pattern: in the pool, and in the whole branch.
    pool: int
    branch: int
    # Where those customers are now: (grid code, or None without a grid; how many).
    now_in: tuple[tuple[str | None, int], ...]
    # Why the rule may not be saved, or None when it is specific enough.
    refused: Message | None


@dataclass(frozen=True)
class Resolved:
    """What resolving one unmatched customer changed."""

    customer_id: int
    grid_id: int
    specialist_id: int | None
    rule_id: int | None
    tasks_assigned: int
    tasks_created: int

    @property
    def changes(self) -> Changes:
        return Changes(
            customers=frozenset({self.customer_id}),
            grids=frozenset({self.grid_id}),
            tasks=some_if(self.tasks_assigned + self.tasks_created),
            specialists=ids_of([self.specialist_id]),
        )


def unmatched_queue(
    session: Session,
    branch_id: int,
    *,
    limit: int | None = None,
    index: GridIndex | None = None,
) -> list[UnmatchedRow]:
    """Return the branch's pool customers without a grid, oldest pool entry first, each with up
    to three suggested grids."""
    stmt = (
        select(
            Customer.id,
            Customer.customer_no,
            Customer.name,
            Customer.address,
            Customer.pool_entered_on,
        )
        .where(
            Customer.branch_id == branch_id,
            Customer.pool_entered_on.is_not(None),
            Customer.grid_id.is_(None),
            ~open_mark(),  # those marked outside coverage wait in a list of their own
        )
        .order_by(Customer.pool_entered_on, Customer.customer_no)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = session.execute(stmt).all()
    if not rows:
        return []
    index = index or GridIndex.from_session(session, branch_id)
    today = branch_today(session, branch_id)
    out = []
    for r in rows:
        suggestions = tuple(index.suggest(r.address))
        out.append(
            UnmatchedRow(
                *r,
                suggestions=suggestions,
                days_waiting=(today - r.pool_entered_on).days if r.pool_entered_on else None,
                proposed_rule=_proposed_rule(index.parse(r.address), suggestions),
            )
        )
    return out


def _proposed_rule(place: ParsedAddress, suggestions: Sequence[Suggestion]) -> str:
    if place.community:
        return (place.street or "") + place.community
    return suggestions[0].fragment if suggestions else ""


def resolve_unmatched(
    session: Session,
    *,
    customer_id: int,
    grid_id: int,
    actor: str,
    save_rule: str | None = None,
    on_date: date | None = None,
    signature: str | None = None,
    user: UserInfo | None = None,
) -> Resolved:
    """Return what putting an unmatched customer in the grid a person chose changed.

    The grid's active owner becomes the specialist (history reason manual), the customer's
    open unassigned tasks go to them, a pre_sell task is created if the customer has none, and
    the SMS tells the customer who serves them. ``save_rule`` (a piece of the address) is kept
    as an address rule so the next import sends such addresses to this grid by itself.
    Raises NotFound, StaleData (matched meanwhile) or InvalidChoice.
    """
    if user is not None and not user.may_move_across_teams:
        raise NotAllowed("unmatched.senior_only")
    c = session.get(Customer, customer_id)
    if c is None or (user is not None and c.branch_id != user.branch_id):
        raise NotFound("customer.not_found", customer=customer_id)
    grid = session.get(Grid, grid_id)
    if grid is None:
        raise NotFound("grid.not_found", grid=grid_id)
    if grid.branch_id != c.branch_id:
        raise InvalidChoice("unmatched.grid_other_branch", grid=grid.code)
    if grid.status != GridStatus.ACTIVE:
        raise InvalidChoice("unmatched.grid_retired", grid=grid.code)
    if c.grid_id is not None:
        raise StaleData("intake.put_in_grid_meanwhile", customer=c.customer_no)
    rule_id = None
    if save_rule is not None:
        rule_id = _save_rule(session, c, grid, save_rule, actor)
    c.grid_id = grid.id
    c.match_method = MatchMethod.MANUAL
    close_marks(session, [c.id], actor=actor, how=MATCHED)
    on_date = on_date or branch_today(session, c.branch_id)
    assigned, created = _settle(
        session,
        [c],
        reason=AssignmentReason.MANUAL,
        actor=actor,
        on_date=on_date,
        signature=signature,
    )
    return Resolved(
        customer_id=c.id,
        grid_id=grid.id,
        specialist_id=c.specialist_id,
        rule_id=rule_id,
        tasks_assigned=assigned,
        tasks_created=created,
    )


def _rule_pattern(c: Customer, text: str, city: str | None) -> str:
    """Return the rule text as matching compares it; raise InvalidChoice when it is too short
    or not part of the customer's address."""
    pattern = normalise(text)
    if len(pattern) < MIN_NAME_LENGTH:
        raise InvalidChoice("rule.too_short", rule=text, minimum=MIN_NAME_LENGTH)
    address = normalise_address(c.address, city=city)
    if pattern not in address:
        raise InvalidChoice("rule.not_in_address", rule=text)
    return pattern


def rule_preview(session: Session, *, customer_id: int, grid_id: int, text: str) -> RulePreview:
    """Return how many customers (in the pool, and in the branch) a rule sending addresses
    containing ``text`` to the grid would route, where they are now, and why it is refused
    if it is: the grid lies in another district than the address; the rule leaves out the
    address's community (社区/村), so it would send other communities' addresses too; or it
    would route addresses of another district or another community. Raises NotFound or
    InvalidChoice (too short, not in the address)."""
    c = session.get(Customer, customer_id)
    grid = session.get(Grid, grid_id)
    if c is None or grid is None:
        raise NotFound("unmatched.customer_or_grid_gone", customer=customer_id, grid=grid_id)
    city = session.scalar(select(Branch.city).where(Branch.id == c.branch_id))
    pattern = _rule_pattern(c, text, city)
    place = parse_address(normalise_address(c.address, city=city))
    like = "%" + "%".join(pattern) + "%"  # the address as stored may hold spaces between
    pool = total = 0
    now_in: dict[int | None, int] = {}
    other_districts: set[str] = set()
    other_communities: set[str] = set()
    for address, pool_on, in_grid in session.execute(
        select(Customer.address, Customer.pool_entered_on, Customer.grid_id).where(
            Customer.branch_id == c.branch_id, Customer.address.like(like)
        )
    ):
        text_n = normalise_address(address or "", city=city)
        if pattern not in text_n:
            continue
        total += 1
        pool += pool_on is not None
        now_in[in_grid] = now_in.get(in_grid, 0) + 1
        there = parse_address(text_n)
        if there.district and there.district != place.district:
            other_districts.add(there.district)
        elif there.community and (
            there.community != place.community
            or (there.street and place.street and there.street != place.street)
        ):
            other_communities.add((there.street or "") + there.community)
    codes = dict(
        session.execute(
            select(Grid.id, Grid.code).where(Grid.id.in_([g for g in now_in if g is not None]))
        ).all()
    )
    grid_district = normalise(grid.district) if grid.district else None
    refused: Message | None = None
    if place.district and grid_district and place.district != grid_district:
        refused = Message(
            "rule.other_district",
            grid=grid.code,
            grid_district=grid_district,
            district=place.district,
        )
    elif place.community and place.community not in pattern:
        refused = Message(
            "rule.community_missing", community=place.community, rule=pattern, grid=grid.code
        )
    elif other_districts:
        refused = Message(
            "rule.other_districts",
            rule=pattern,
            places="、".join(sorted(other_districts)),
            grid=grid.code,
        )
    elif other_communities:
        refused = Message(
            "rule.other_communities",
            rule=pattern,
            places="、".join(sorted(other_communities)),
            grid=grid.code,
        )
    return RulePreview(
        pattern=pattern,
        grid_code=grid.code,
        pool=pool,
        branch=total,
        now_in=tuple(
            sorted(
                ((codes.get(g) if g is not None else None, n) for g, n in now_in.items()),
                key=lambda kv: (-kv[1], kv[0] or ""),
            )
        ),
        refused=refused,
    )


def _save_rule(session: Session, c: Customer, grid: Grid, text: str, actor: str) -> int:
    city = session.scalar(select(Branch.city).where(Branch.id == c.branch_id))
    pattern = _rule_pattern(c, text, city)
    existing = session.scalar(
        select(AddressRule).where(
            AddressRule.branch_id == c.branch_id, AddressRule.pattern == pattern
        )
    )
    if existing is not None:
        if existing.grid_id != grid.id:
            other = session.scalar(select(Grid.code).where(Grid.id == existing.grid_id))
            raise InvalidChoice("rule.taken", rule=pattern, grid=other)
        return existing.id
    preview = rule_preview(session, customer_id=c.id, grid_id=grid.id, text=text)
    if preview.refused:
        raise InvalidChoice(preview.refused.code, **preview.refused.params)
    rule = AddressRule(branch_id=c.branch_id, pattern=pattern, grid_id=grid.id, created_by=actor)
    session.add(rule)
    session.flush()
    return rule.id


def rematch_unmatched(
    session: Session,
    branch_id: int,
    *,
    actor: str = "system",
    on_date: date | None = None,
    signature: str | None = None,
) -> int:
    """Run matching again over the branch's pool customers without a grid (after new grids or
    address rules); return how many found a grid. They are settled as in resolve_unmatched
    (reason auto-match). Those marked outside coverage are matched too: a grid drawn where
    their address lies takes them, and their mark ends (the history keeps it)."""
    queue = list(
        session.scalars(
            select(Customer)
            .where(
                Customer.branch_id == branch_id,
                Customer.pool_entered_on.is_not(None),
                Customer.grid_id.is_(None),
            )
            .order_by(Customer.id)
        )
    )
    if not queue:
        return 0
    index = GridIndex.from_session(session, branch_id)
    matched = []
    for c, m in zip(queue, index.match(queue), strict=True):
        if m.grid_id is not None:
            c.grid_id = m.grid_id
            c.match_method = m.method
            matched.append(c)
    if matched:
        close_marks(session, [c.id for c in matched], actor=actor, how=MATCHED)
        _settle(
            session,
            matched,
            reason=AssignmentReason.AUTO_MATCH,
            actor=actor,
            on_date=on_date or branch_today(session, branch_id),
            signature=signature,
        )
    return len(matched)


def _settle(
    session: Session,
    customers: Sequence[Customer],
    *,
    reason: AssignmentReason,
    actor: str,
    on_date: date,
    signature: str | None,
) -> tuple[int, int]:
    """Serve customers just given a grid; return (open tasks assigned, tasks created)."""
    now = utcnow()
    owners = active_owners(session, [c.grid_id for c in customers if c.grid_id], on_date)
    served = serve_by_grid_owner(
        session, customers, owners, reason=reason, actor=actor, now=now, effective_on=on_date
    )
    session.flush()
    by_owner: dict[int, list[int]] = {}
    for c in customers:
        if (owner := served[c.id]) is not None:
            by_owner.setdefault(owner.id, []).append(c.id)
    assigned = 0
    for owner_id, ids in by_owner.items():
        for part in chunks(ids):
            result = session.execute(
                update(Task)
                .where(
                    Task.customer_id.in_(part),
                    Task.specialist_id.is_(None),
                    Task.status.in_(OPEN_TASK_STATUSES),
                )
                .values(specialist_id=owner_id, version=Task.version + 1)
                .execution_options(synchronize_session=False)
            )
            assigned += cast(CursorResult, result).rowcount or 0
    created = create_first_tasks(
        session,
        [(c.id, c.customer_no, c.specialist_id) for c in customers],
        on_date=on_date,
        now=now,
        renewals=False,
    )
    _tell_customers(session, customers, served, signature=signature, now=now)
    session.flush()  # their base rows are rewritten by the unit of work
    return assigned, created


def _tell_customers(
    session: Session,
    customers: Sequence[Customer],
    served: dict[int, Owner | None],
    *,
    signature: str | None,
    now: datetime,
) -> SmsCounts:
    """Name the new specialist in the agent-change SMS still waiting, or queue a
    specialist-change SMS when that one has gone out already (``app.services.customers.notify``)."""
    told = [c for c in customers if served.get(c.id) is not None]
    if not told:
        return SmsCounts()
    sign = (
        signature or session.scalar(select(Branch.name).where(Branch.id == told[0].branch_id)) or ""
    )
    return tell_customers(
        session,
        [
            Told(c.id, c.name, c.id_number, o.id, o.contact)
            for c in told
            if (o := served[c.id]) is not None
        ],
        signature=sign,
        now=now,
    )
