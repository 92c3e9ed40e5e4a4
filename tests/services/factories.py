"""Small factories for test data, built through the ORM: a branch, teams, specialists, grids,
agents, customers, policies with their premium dues, tasks and assignment moves.

Every method flushes, so ids are set on return, and fills what the schema requires with
readable defaults; pass keyword arguments to set anything else. One ``Factory`` per test::

    f = Factory(session)
    a = f.specialist()
    c = f.customer(specialist=a, pool_entered_on=date(2024, 1, 10))
    p = f.policy(customer=c, mode=PaymentMode.MONTHLY, premium_fen=10_000)
    dues = f.schedule(p, years=3)          # every instalment, paid in full on its due date
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from app.models import (
    AssignmentEvent,
    Branch,
    Customer,
    DepartedAgent,
    Grid,
    Policy,
    PremiumDue,
    Specialist,
    Task,
    Team,
)
from app.models.enums import (
    AssignmentReason,
    GridStatus,
    PaymentMode,
    PolicyStatus,
    SpecialistStatus,
    TaskKind,
    TaskStatus,
)
from app.services.periods import add_months

UTC = timezone.utc


def utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """Return an aware UTC datetime (the database's time of record)."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


DEFAULT_CREATED = datetime(2024, 1, 1, tzinfo=UTC)


def square(lon: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    """Return a GeoJSON Polygon: the square of side ``size`` degrees at (lon, lat)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


class Factory:
    """Builds rows in one session; the first branch and team are made on first need."""

    def __init__(self, session: Session):
        self.s = session
        self._n = 0
        self._branch: Branch | None = None
        self._team: Team | None = None

    def _next(self) -> int:
        self._n += 1
        return self._n

    def _add(self, obj):
        self.s.add(obj)
        self.s.flush()
        return obj

    # -- organisation ---------------------------------------------------------------------

    @property
    def default_branch(self) -> Branch:
        if self._branch is None:
            self._branch = self.branch()
        return self._branch

    @property
    def default_team(self) -> Team:
        if self._team is None:
            self._team = self.team()
        return self._team

    def branch(self, *, code: str | None = None, **kw: Any) -> Branch:
        n = self._next()
        kw.setdefault("name", f"分公司{n}")
        kw.setdefault("city", "成都")
        return self._add(Branch(code=code or f"B{n}", **kw))

    def team(self, *, branch: Branch | None = None, code: str | None = None, **kw: Any) -> Team:
        n = self._next()
        kw.setdefault("name", f"第{n}团队")
        branch = branch or self.default_branch
        return self._add(Team(branch_id=branch.id, code=code or f"T{n}", **kw))

    def specialist(
        self,
        *,
        team: Team | None = None,
        employee_no: str | None = None,
        name: str | None = None,
        status: SpecialistStatus = SpecialistStatus.ACTIVE,
        **kw: Any,
    ) -> Specialist:
        n = self._next()
        team = team or self.default_team
        return self._add(
            Specialist(
                branch_id=team.branch_id,
                team_id=team.id,
                employee_no=employee_no or f"E{n:04d}",
                name=name or f"专员{n}",
                status=status,
                **kw,
            )
        )

    def grid(
        self,
        *,
        owner: Specialist | None = None,
        code: str | None = None,
        name: str | None = None,
        branch: Branch | None = None,
        status: GridStatus = GridStatus.ACTIVE,
        lon: float = 104.0,
        lat: float = 30.6,
        size: float = 0.01,
        communities: list[str] | None = None,
        **kw: Any,
    ) -> Grid:
        n = self._next()
        branch = branch or self.default_branch
        return self._add(
            Grid(
                branch_id=branch.id,
                code=code or f"G{n:03d}",
                name=name or f"网格{n}",
                geometry=json.dumps(square(lon, lat, size)),
                communities=json.dumps(communities or [], ensure_ascii=False),
                status=status,
                min_lon=lon,
                min_lat=lat,
                max_lon=lon + size,
                max_lat=lat + size,
                centroid_lon=lon + size / 2,
                centroid_lat=lat + size / 2,
                owner_id=owner.id if owner else None,
                **kw,
            )
        )

    def agent(self, *, code: str | None = None, left_on: date | None = None, **kw: Any):
        n = self._next()
        kw.setdefault("name", f"代理人{n}")
        return self._add(
            DepartedAgent(
                branch_id=self.default_branch.id, agent_code=code or f"A{n}", left_on=left_on, **kw
            )
        )

    # -- customers and policies -----------------------------------------------------------

    def customer(
        self,
        *,
        specialist: Specialist | None = None,
        grid: Grid | None = None,
        pool_entered_on: date | None = None,
        customer_no: str | None = None,
        branch: Branch | None = None,
        **kw: Any,
    ) -> Customer:
        n = self._next()
        kw.setdefault("name", f"客户{n}")
        kw.setdefault("address", f"成都市锦江区{n}号")
        branch = branch or self.default_branch
        return self._add(
            Customer(
                branch_id=branch.id,
                customer_no=customer_no or f"C{n:06d}",
                specialist_id=specialist.id if specialist else None,
                grid_id=grid.id if grid else None,
                pool_entered_on=pool_entered_on,
                **kw,
            )
        )

    def policy(
        self,
        *,
        customer: Customer | None = None,
        mode: PaymentMode = PaymentMode.ANNUAL,
        premium_fen: int = 100_000,
        issued: date = date(2023, 3, 10),
        status: PolicyStatus = PolicyStatus.IN_FORCE,
        status_date: date | None = None,
        product: str | None = "安康人寿",
        policy_no: str | None = None,
    ) -> Policy:
        """Add a policy (and a customer of its own when none is given)."""
        n = self._next()
        customer = customer or self.customer()
        return self._add(
            Policy(
                policy_no=policy_no or f"P{n:08d}",
                customer_id=customer.id,
                product=product,
                issue_date=issued,
                payment_mode=mode,
                modal_premium_fen=premium_fen,
                status=status,
                status_date=status_date,
            )
        )

    def due(
        self,
        policy: Policy,
        *,
        policy_year: int,
        due_date: date,
        amount_due_fen: int | None = None,
        received_fen: int = 0,
        received_on: date | None = None,
    ) -> PremiumDue:
        return self._add(
            PremiumDue(
                policy_id=policy.id,
                policy_year=policy_year,
                due_date=due_date,
                amount_due_fen=policy.modal_premium_fen
                if amount_due_fen is None
                else amount_due_fen,
                amount_received_fen=received_fen,
                received_on=received_on,
            )
        )

    def schedule(self, policy: Policy, *, years: int = 3, paid: bool = True) -> list[PremiumDue]:
        """Add every instalment of the first ``years`` policy years (one for single premium),
        each paid in full on its due date when ``paid``; return them in date order."""
        per_year = PaymentMode(policy.payment_mode).per_year
        count = 1 if per_year == 0 else per_year * years
        months = 12 // per_year if per_year else 12
        out = []
        for k in range(count):
            day = add_months(policy.issue_date, k * months)
            out.append(
                PremiumDue(
                    policy_id=policy.id,
                    policy_year=k // per_year + 1 if per_year else 1,
                    due_date=day,
                    amount_due_fen=policy.modal_premium_fen,
                    amount_received_fen=policy.modal_premium_fen if paid else 0,
                    received_on=day if paid else None,
                )
            )
        self.s.add_all(out)
        self.s.flush()
        return out

    # -- work -----------------------------------------------------------------------------

    def task(
        self,
        *,
        customer: Customer,
        kind: TaskKind = TaskKind.SERVICING,
        status: TaskStatus = TaskStatus.DONE,
        specialist: Specialist | None = None,
        created_at: datetime = DEFAULT_CREATED,
        completed_at: datetime | None = None,
        due_date: date | None = None,
        **kw: Any,
    ) -> Task:
        """Add a task; a done task without ``completed_at`` is completed when created."""
        n = self._next()
        if status is TaskStatus.DONE and completed_at is None:
            completed_at = created_at
        sid = specialist.id if specialist else customer.specialist_id
        return self._add(
            Task(
                task_no=f"K{n:08d}",
                kind=kind,
                customer_id=customer.id,
                specialist_id=sid,
                status=status,
                created_at=created_at,
                completed_at=completed_at,
                due_date=due_date,
                **kw,
            )
        )

    def move(
        self,
        customer: Customer,
        to: Specialist | None,
        *,
        at: datetime,
        reason: AssignmentReason = AssignmentReason.MANUAL,
    ) -> AssignmentEvent:
        """Give the customer to ``to`` at ``at``, recorded in the assignment history."""
        event = AssignmentEvent(
            customer_id=customer.id,
            from_specialist_id=customer.specialist_id,
            to_specialist_id=to.id if to else None,
            reason=reason,
            at=at,
        )
        customer.specialist_id = to.id if to else None
        return self._add(event)
