"""The monthly scorecard (月度考核): per specialist and month, the five figures the pay scheme
rests on, each against the branch's standard and beside the month before.

A scorecard is for a month M and an as-of date A: the figures as known on A. The previous month
is computed by the same rules on the same A. "The month's end" below is the earlier of M's last
day and A. Specialists are attributed as noted per figure; a team's scorecard lists the
specialists in the team today.

1. **Renewal premium collected (续收达成率)**, premium basis. The premium-due rows of policy year 2
   and later (renewal premiums; single-premium policies have none) whose due date falls in M,
   each attributed to the specialist who served the policy's customer on the due date (the
   assignment history, read as app.services.customers.history and the persistency base read it; rows
   nobody served that day count for nobody). Rows of a policy terminated by death or claim
   before the due date are left out of both sides. A row whose due date plus the branch's grace
   period lies after A is *pending*: counted apart, not in the rate. Of the other rows,
   collected = Σ min(received, due) of the rows received within the grace period and on or
   before A, divided by Σ due. This is 13-month persistency's rule applied to every renewal
   instalment of the month instead of the first of policy year 2.
2. **13-month persistency (13个月继续率)**, premium basis: ``persistency_report`` for period M,
   as of A, by specialist; the figure of the meeting workbook's persistency-by-specialist
   sheet and of ``griddesk metrics persistency --period M --by specialist``.
3. **Tasks done on time (任务按时完成率)**: the tasks whose due date falls in M, counted for the
   specialist holding them (open tasks follow their customer; done ones stay with who did
   them). Cancelled tasks are left out. A task is *on time* when it was done on or before its
   due date (the branch-local day it was completed) and on or before A. It is settled and
   *late* when it was done after its due date, failed, or is not done and its due date is
   before A. Tasks not done with a due date on or after A are *pending*: counted apart.
   Share = on time / settled.
4. **First contact on time (首次建联及时率)**: the hand-off clock's first-contact on-time share
   (``on_time_shares``, milestone "contact", the branch's target) over the customers who
   entered the pool in the 90 days up to the month's end, each counted for who served them the
   day it was settled; customers still within the target are pending. It is the roster's
   figure as it stood on the month's end (the roster reads the same 90 days up to today).
5. **Service equity (服务公平)**: ``equity_report`` on the month's end (servicing and renewal
   tasks of the 365 days up to it); the standard is *no flag*. The meeting workbook's equity
   sheet shows the same when its as-of date is the month's end. A specialist with too few
   tasks in either group to compare (equity.MIN_TASKS) has no gap and is not judged.

Standards, per branch (Branch settings; migration 0011), whole percent: renewal collected
≥ 90, persistency ≥ 85, tasks on time ≥ 80, first contact on time ≥ 80; equity: no flag. A
figure meets its standard when its rate, as a percentage, is at least the standard; a share
with nothing settled is neither met nor not met, and so is a premium rate (renewal collected,
persistency) resting on fewer than FEW_POLICIES policies (renewal: settled rows): one lapse
in five moves it twenty points, so it is shown, marked few, and not judged.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Branch, Specialist, Team
from app.models.enums import SpecialistStatus
from app.services.errors import DomainError
from app.services.messages import Message
from app.services.metrics import scorecard_figures as figs
from app.services.metrics.equity import DEFAULT_THRESHOLD_POINTS
from app.services.metrics.scorecard_figures import CONTACT_DAYS, Figure
from app.services.periods import Period

MEASURES = ("renewal", "persistency", "tasks", "contact", "equity")
SHARES = MEASURES[:4]
# Each share's standard named in a message.
_STANDARD_WORDS = {
    "renewal": "standard.renewal",
    "persistency": "standard.persistency",
    "tasks": "standard.tasks",
    "contact": "standard.contact",
}
__all__ = ["CONTACT_DAYS", "MEASURES", "Figure", "Mark", "Scorecard", "Standards", "scorecard"]


class StandardError(DomainError, ValueError):
    """Scorecard standards that cannot be used, in words."""


@dataclass(frozen=True)
class Standards:
    """The branch's scorecard standards, whole percent; equity's is fixed: no flag."""

    renewal_pct: int = 90
    persistency_pct: int = 85
    tasks_pct: int = 80
    contact_pct: int = 80

    def of(self, measure: str) -> int | None:
        """Return the standard of a share in percent (None for equity: no flag)."""
        return getattr(self, f"{measure}_pct", None)

    def check(self) -> Standards:
        """Return self when usable, else raise :class:`StandardError` saying which is wrong."""
        for m in SHARES:
            pct = self.of(m)
            if pct is None or not 0 <= pct <= 100:
                raise StandardError(
                    "scorecard.standard_range", standard=Message(_STANDARD_WORDS[m]), pct=pct
                )
        return self


def scorecard_standards(session: Session, branch_id: int) -> Standards:
    b = session.get_one(Branch, branch_id)
    return Standards(
        b.scorecard_renewal_pct,
        b.scorecard_persistency_pct,
        b.scorecard_tasks_pct,
        b.scorecard_contact_pct,
    )


def _points(now: Decimal | None, before: Decimal | None, scale: int) -> Decimal | None:
    if now is None or before is None:
        return None
    return ((now - before) * scale).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Mark:
    """One figure of one specialist: this month, the month before, and the standard."""

    measure: str
    now: Figure
    before: Figure
    standard: int | None  # percent; None for equity (the standard is no flag)

    def met_by(self, figure: Figure) -> bool | None:
        if self.measure == "equity":  # too few tasks to compare: nothing to judge
            return None if figure.value is None else not figure.flagged
        if figure.value is None or self.standard is None or figure.few:
            return None
        return figure.value * 100 >= self.standard

    @property
    def met(self) -> bool | None:
        """Met (True), not met (False), or nothing to judge (None)."""
        return self.met_by(self.now)

    @property
    def met_before(self) -> bool | None:
        return self.met_by(self.before)

    @property
    def change(self) -> Decimal | None:
        """This month minus the month before, in percentage points (equity: gap points)."""
        scale = 1 if self.measure == "equity" else 100
        return _points(self.now.value, self.before.value, scale)


@dataclass(frozen=True)
class ScorecardRow:
    specialist_id: int
    employee_no: str
    name: str
    team_id: int
    team_name: str
    status: SpecialistStatus
    marks: tuple[Mark, ...]  # in MEASURES order

    def mark(self, measure: str) -> Mark:
        return self.marks[MEASURES.index(measure)]

    @property
    def met(self) -> int:
        return sum(1 for m in self.marks if m.met)

    @property
    def judged(self) -> int:
        return sum(1 for m in self.marks if m.met is not None)


@dataclass(frozen=True)
class Scorecard:
    month: Period
    previous: Period
    as_of: date
    grace_days: int
    standards: Standards
    equity_threshold: float
    rows: list[ScorecardRow]

    def teams(self) -> list[tuple[int, str]]:
        """Return the (id, name) of the teams with rows, in row order."""
        return list(dict.fromkeys((r.team_id, r.team_name) for r in self.rows))


def previous_month(month: Period) -> Period:
    day = month.start - timedelta(days=1)
    return Period.month(day.year, day.month)


def month_figures(
    session: Session,
    *,
    branch_id: int,
    month: Period,
    as_of: date,
    people: Collection[int],
    team_ids: Collection[int] | None,
    specialist_ids: Collection[int] | None,
) -> dict[str, dict[int, Figure]]:
    """Return each measure's figures of the month, by specialist id."""
    b, m, a = branch_id, month, as_of
    return {
        "renewal": figs.renewal_collected(session, branch_id=b, month=m, as_of=a),
        "persistency": figs.persistency_13(
            session,
            branch_id=b,
            month=m,
            as_of=a,
            team_ids=team_ids,
            specialist_ids=specialist_ids,
        ),
        "tasks": figs.tasks_on_time(session, branch_id=b, month=m, as_of=a, people=people),
        "contact": figs.contact_on_time(session, branch_id=b, month=m, as_of=a),
        "equity": figs.equity_flag(session, branch_id=b, month=m, as_of=a, team_ids=team_ids),
    }


def scorecard(
    session: Session,
    *,
    branch_id: int,
    month: Period,
    as_of: date,
    team_ids: Collection[int] | None = None,
    specialist_ids: Collection[int] | None = None,
) -> Scorecard:
    """Return the scorecard of ``month`` as known on ``as_of`` for the branch's specialists
    (of ``team_ids`` / ``specialist_ids`` when given), by team code then employee number.
    Specialists who have left and have no figure in either month are left out."""
    people = _people(session, branch_id, team_ids, specialist_ids)
    ids = [p[0] for p in people]
    standards = scorecard_standards(session, branch_id)
    before = previous_month(month)
    now_f, before_f = (
        month_figures(
            session,
            branch_id=branch_id,
            month=m,
            as_of=as_of,
            people=ids,
            team_ids=team_ids,
            specialist_ids=specialist_ids,
        )
        for m in (month, before)
    )
    rows = []
    for sid, emp, name, team_id, team_name, status in people:
        marks = tuple(
            Mark(
                m,
                now_f[m].get(sid, Figure()),
                before_f[m].get(sid, Figure()),
                standards.of(m),
            )
            for m in MEASURES
        )
        status = SpecialistStatus(status)
        if status is SpecialistStatus.LEFT and all(k.now.empty and k.before.empty for k in marks):
            continue
        rows.append(ScorecardRow(sid, emp, name, team_id, team_name, status, marks))
    return Scorecard(
        month=month,
        previous=before,
        as_of=as_of,
        grace_days=session.get_one(Branch, branch_id).grace_days,
        standards=standards,
        equity_threshold=DEFAULT_THRESHOLD_POINTS,
        rows=rows,
    )


def _people(session, branch_id, team_ids, specialist_ids) -> list[tuple]:
    stmt = (
        select(
            Specialist.id,
            Specialist.employee_no,
            Specialist.name,
            Specialist.team_id,
            Team.name,
            Specialist.status,
        )
        .join(Team, Team.id == Specialist.team_id)
        .where(Specialist.branch_id == branch_id)
        .order_by(Team.code, Specialist.employee_no)
    )
    if team_ids is not None:
        stmt = stmt.where(Specialist.team_id.in_(list(team_ids)))
    if specialist_ids is not None:
        stmt = stmt.where(Specialist.id.in_(list(specialist_ids)))
    return [tuple(r) for r in session.execute(stmt)]
