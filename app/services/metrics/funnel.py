"""The 4-sell funnel of a pool-entry cohort: reached counts, step and cumulative conversion,
and the median days from pool entry to each step."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Customer, Specialist
from app.services.metrics.grouping import FUNNEL_FIELDS, Labels, check_field
from app.services.metrics.persistency import rate
from app.services.periods import Period
from app.services.sqlfuncs import month_of
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
    median_days: tuple[float | None, ...]


def _group_expr(by: str):
    if by == "grid":
        return Customer.grid_id
    if by == "specialist":
        return Customer.specialist_id
    if by == "team":
        return Specialist.team_id
    return month_of(Customer.pool_entered_on)


def funnel_report(
    session: Session,
    *,
    cohort: Period,
    by: str | None = None,
    branch_id: int | None = None,
    team_ids: Collection[int] | None = None,
    specialist_ids: Collection[int] | None = None,
) -> list[FunnelRow]:
    """Return the funnel of customers who entered the pool in ``cohort``, per group."""
    check_field(by, FUNNEL_FIELDS)
    key = _group_expr(by).label("k") if by else None
    steps = [getattr(Customer, c) for c in STEP_COLUMNS]
    stmt = select(*(x for x in (key,) if x is not None), Customer.pool_entered_on, *steps).where(
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

    sizes: dict[object, int] = defaultdict(int)
    reached: dict[object, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    days: dict[object, list[list[int]]] = defaultdict(lambda: [[], [], [], []])
    for row in session.execute(stmt):
        group = row[0] if by else "all"
        entered = row[1 if by else 0]
        dates = row[2:] if by else row[1:]
        sizes[group] += 1
        for i, d in enumerate(dates):
            if d is not None:
                reached[group][i] += 1
                days[group][i].append((d - entered).days)
    if not by and not sizes:
        sizes["all"] = 0
    labels = Labels.load(session) if by in ("grid", "specialist", "team") else None
    out = []
    for group, size in sizes.items():
        counts = reached[group]
        step = tuple(rate(counts[i], counts[i - 1] if i else size) for i in range(4))
        cumulative = tuple(rate(c, size) for c in counts)
        med = tuple(float(median(d)) if d else None for d in days[group])
        name = "all" if group == "all" else (labels.name(by, group) if labels else str(group))
        out.append(FunnelRow(group, name, size, tuple(counts), step, cumulative, med))  # type: ignore[arg-type]
    return sorted(out, key=lambda r: (r.group_key is None, r.group))
