"""The 4-sell funnel of a pool-entry cohort: reached counts, step and cumulative conversion,
and the median days from pool entry to each step (DOMAIN.md).

The cohort is every customer whose ``pool_entered_on`` falls in the period. A step is reached
when its date column (``pre_sell_on`` ... ``up_sell_on``, kept by ``app.services.steps``) is
set. Step conversion k = reached k / reached k-1 (step 1: / cohort size); cumulative
conversion k = reached k / cohort size. Medians are over the customers who reached the step.
Counting and medians both run in the database: two queries, whatever the number of groups.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, literal_column, select, union_all
from sqlalchemy.orm import Session

from app.models import Customer, Specialist
from app.services.metrics.grouping import FUNNEL_FIELDS, Labels, check_field
from app.services.metrics.persistency import rate
from app.services.metrics.sql import grouped_medians
from app.services.periods import Period
from app.services.sqlfuncs import days_between, month_of
from app.services.steps import STEP_COLUMNS


@dataclass(frozen=True)
class FunnelRow:
    group_key: object
    group: str
    cohort_size: int
    reached: tuple[int, int, int, int]
    # reached[k] / reached[k-1]; step 1 over the cohort.
    step_conversion: tuple[Decimal | None, ...]
    # reached[k] / cohort size.
    cumulative_conversion: tuple[Decimal | None, ...]
    # Median days from pool entry to the step, over the customers who reached it.
    median_days: tuple[float | None, ...]


def _group_expr(by: str):
    if by == "grid":
        return Customer.grid_id
    if by == "specialist":
        return Customer.specialist_id
    if by == "team":
        return Specialist.team_id
    return month_of(Customer.pool_entered_on)  # cohort: the pool-entry month


def funnel_report(
    session: Session,
    *,
    cohort: Period,
    by: str | None = None,
    branch_id: int | None = None,
    team_ids: Collection[int] | None = None,
    specialist_ids: Collection[int] | None = None,
) -> list[FunnelRow]:
    """Return the funnel of the customers who entered the pool in ``cohort``: one row per
    group of ``by`` (grid, specialist, team, cohort), or one row 'all' without it.

    Grid, specialist and team are the customer's current ones."""
    check_field(by, FUNNEL_FIELDS)
    keys = [_group_expr(by).label("k")] if by else []

    def scoped(stmt):
        stmt = stmt.select_from(Customer).where(
            Customer.pool_entered_on >= cohort.start, Customer.pool_entered_on <= cohort.end
        )
        if by == "team" or team_ids is not None:
            stmt = stmt.outerjoin(Specialist, Specialist.id == Customer.specialist_id)
        if branch_id is not None:
            stmt = stmt.where(Customer.branch_id == branch_id)
        if team_ids is not None:
            stmt = stmt.where(Specialist.team_id.in_(list(team_ids)))
        if specialist_ids is not None:
            stmt = stmt.where(Customer.specialist_id.in_(list(specialist_ids)))
        return stmt

    steps = [getattr(Customer, c) for c in STEP_COLUMNS]
    counts = scoped(select(*keys, func.count(), *(func.count(s) for s in steps)))
    if keys:
        counts = counts.group_by(*keys)
    width = len(keys)
    totals: dict[object, tuple[int, tuple[int, ...]]] = {}
    for r in session.execute(counts):
        group = r[0] if by else "all"
        totals[group] = (int(r[width]), tuple(int(n or 0) for n in r[width + 1 :]))
    days = union_all(
        *(
            scoped(
                select(
                    *keys,
                    literal_column(str(i)).label("step"),
                    days_between(s, Customer.pool_entered_on).label("days"),
                ).where(s.is_not(None))
            )
            for i, s in enumerate(steps)
        )
    )
    medians = {
        (k[0] if by else "all", k[-1]): v
        for k, v in grouped_medians(session, select(days.subquery())).items()
    }
    labels = Labels.load(session) if by in ("grid", "specialist", "team") else None
    out = []
    for group, (size, reached) in totals.items():
        if by is None and size == 0:
            reached = (0, 0, 0, 0)
        step = tuple(rate(reached[i], reached[i - 1] if i else size) for i in range(4))
        cumulative = tuple(rate(n, size) for n in reached)
        med = tuple(medians.get((group, i)) for i in range(4))
        if group == "all" and by is None:
            name = "all"
        elif labels is not None and by is not None:
            name = labels.name(by, group)
        else:
            name = "(none)" if group is None else str(group)
        out.append(FunnelRow(group, name, size, reached, step, cumulative, med))  # type: ignore[arg-type]
    return sorted(out, key=lambda r: (r.group_key is None, r.group))
