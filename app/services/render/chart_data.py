"""The figures each chart draws, read in one go as plain data (for a background job)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Branch, Specialist
from app.services.metrics.activity import activity_report, recent_weeks, weekly_totals
from app.services.metrics.equity import equity_report
from app.services.metrics.funnel import funnel_report
from app.services.metrics.persistency import persistency_trend
from app.services.periods import Period, last_months
from app.services.render.charts import Series


@dataclass(frozen=True)
class TrendData:
    months: list[str]
    current: list[Series]
    year_earlier: list[Series]
    pilot_month: str | None
    # Months with policies still in their grace period on the as-of date: the rate so far
    # covers only the policies already past it.
    pending_months: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FunnelData:
    cohort_size: int
    reached: list[int]
    step_conversion: list[float | None]
    median_days: list[float | None]


@dataclass(frozen=True)
class ActivityData:
    weeks: list[str]
    by_kind: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class EquityData:
    names: list[str]
    rate_without: list[float | None]
    rate_with: list[float | None]
    flagged: list[bool]
    tasks_without: list[int] = field(default_factory=list)  # the tasks each rate rests on
    tasks_with: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class HandoffData:
    """Persistency per first-contact delay band (app.services.metrics.handoff.BAND_KEYS)."""

    period: str
    bands: list[str]
    rates: list[float | None]
    policies: list[int]
    pending: int


def _f(value) -> float | None:
    return None if value is None else float(value)


def trend_data(
    session: Session,
    *,
    branch_id: int,
    as_of: date,
    month: int = 13,
    team_ids: Collection[int] | None = None,
    by_team: bool = False,
    months: int = 24,
    unserved_label: str = "(unserved on the due date)",
) -> TrendData:
    """Return persistency per due month over the last ``months`` months, per team if asked,
    with the year-earlier rates. Per team, the policies nobody served on their due date make
    a line of their own, named ``unserved_label``, last."""
    periods = last_months(as_of, months)
    points = persistency_trend(
        session,
        months=periods,
        as_of=as_of,
        month=month,
        by="team" if by_team else None,
        branch_id=branch_id,
        team_ids=team_ids,
    )
    groups: dict[object, list] = {}
    by_month: dict[str, list] = {p.label: [] for p in periods}
    for p in points:
        by_month[p.month].append(p)
        groups.setdefault(p.group_key, []).append(p)
    # Policies nobody served on their due date belong to no team: their own line, last and
    # named by the caller (unserved_label), so that the team lines add up to the branch.
    if by_team and None in groups:
        groups[None] = groups.pop(None)

    def name(key, pts) -> str:
        return "" if not by_team else unserved_label if key is None else pts[0].group

    current = [
        Series(name(k, pts), [_f(p.rate) for p in pts], [p.policies for p in pts])
        for k, pts in groups.items()
    ]
    earlier = [Series(name(k, pts), [_f(p.year_earlier) for p in pts]) for k, pts in groups.items()]
    pilot = session.scalar(select(Branch.pilot_start).where(Branch.id == branch_id))
    # The chart starts at the first month with something to draw: a team that began with the
    # pilot has no empty months before it on the axis.
    first = next(
        (
            i
            for i in range(len(periods))
            if any(s.values[i] is not None or (s.bases and s.bases[i]) for s in current)
            or any(s.values[i] is not None for s in earlier)
        ),
        0,
    )
    return TrendData(
        months=[p.label for p in periods[first:]],
        current=[replace(s, values=s.values[first:], bases=s.bases[first:]) for s in current],
        year_earlier=[replace(s, values=s.values[first:]) for s in earlier],
        pilot_month=f"{pilot:%Y-%m}" if pilot else None,
        pending_months=[
            p.label for p in periods[first:] if any(t.pending for t in by_month[p.label])
        ],
    )


def funnel_data(
    session: Session, *, branch_id: int, cohort: Period, team_ids: Collection[int] | None = None
) -> FunnelData:
    rows = funnel_report(session, cohort=cohort, branch_id=branch_id, team_ids=team_ids)
    if not rows:
        return FunnelData(0, [0, 0, 0, 0], [None] * 4, [None] * 4)
    (row,) = rows
    return FunnelData(
        cohort_size=row.cohort_size,
        reached=list(row.reached),
        step_conversion=[_f(v) for v in row.step_conversion],
        median_days=list(row.median_days),
    )


def activity_data(
    session: Session,
    *,
    branch_id: int,
    as_of: date,
    team_ids: Collection[int] | None = None,
    weeks: int = 12,
) -> ActivityData:
    labels = recent_weeks(as_of, weeks)
    rows = activity_report(
        session, as_of=as_of, weeks=weeks, branch_id=branch_id, team_ids=team_ids
    )
    return ActivityData(
        weeks=labels, by_kind={k.value: v for k, v in weekly_totals(rows, labels).items()}
    )


def equity_data(
    session: Session, *, branch_id: int, as_of: date, team_ids: Collection[int] | None = None
) -> EquityData:
    rows = [
        r
        for r in equity_report(session, as_of=as_of, branch_id=branch_id, team_ids=team_ids)
        if r.tasks_without or r.tasks_with
    ]
    names = dict(session.execute(select(Specialist.id, Specialist.name)).all())
    return EquityData(
        names=[names.get(r.specialist_id, str(r.specialist_id)) for r in rows],
        rate_without=[_f(r.rate_without) for r in rows],
        rate_with=[_f(r.rate_with) for r in rows],
        flagged=[r.flagged for r in rows],
        tasks_without=[r.tasks_without for r in rows],
        tasks_with=[r.tasks_with for r in rows],
    )


def handoff_data(
    session: Session,
    *,
    branch_id: int,
    as_of: date,
    month: int = 13,
    team_ids: Collection[int] | None = None,
) -> HandoffData:
    """Return persistency per first-contact delay band for the policies due in the last
    twelve whole months (the roster's period), with each band's policy count."""
    from app.services.metrics.handoff import persistency_by_contact_band
    from app.services.people.roster import trailing_year

    period = trailing_year(as_of)
    rows = persistency_by_contact_band(
        session, period=period, as_of=as_of, month=month, branch_id=branch_id, team_ids=team_ids
    )
    return HandoffData(
        period=period.label,
        bands=[str(r.group_key) for r in rows],
        rates=[_f(r.persistency_premium) for r in rows],
        policies=[r.policies for r in rows],
        pending=sum(r.pending_policies for r in rows),
    )
