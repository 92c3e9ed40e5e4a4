"""13- and 25-month persistency exactly as DOMAIN.md defines it, premium and count basis.

For a review period, the rows are the persistency base rows (first due of policy year 2 or 3
of regular-premium policies) whose due date falls in the period. A row whose policy was
terminated by death or claim before the due date is left out of both sides. A row whose due
date plus the grace period lies after the as-of date is *pending*: counted apart, not in the
rate. A receipt counts when it came within the grace period and on or before the as-of date,
capped at the amount due (the base table caps it). A row persists (count basis) when it was
paid in full within the grace period. Each row is attributed to the specialist who served the
customer on the due date.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from app.models import Branch, Customer, PersistencyBase, Specialist
from app.services.database.sqlfuncs import month_of
from app.services.metrics import summary
from app.services.metrics.grouping import PERSISTENCY_FIELDS, Labels, check_field
from app.services.metrics.rates import rate
from app.services.periods import Period

# A rate on fewer policies than this is shown pale and marked "few", and never coloured or
# flagged as a change: one lapse in five policies moves it 20 points.
FEW_POLICIES = 30
# The contact_band group of policies whose customer never entered the pool.
NEVER_IN_POOL = "(never in the pool)"
MONTH_TO_YEAR = {13: 2, 25: 3}


@dataclass(frozen=True)
class PersistencyRow:
    group_key: object
    group: str
    policies: int
    persisting_policies: int
    pending_policies: int
    premium_due_fen: int
    premium_received_fen: int
    persistency_premium: Decimal | None
    persistency_count: Decimal | None


@dataclass(frozen=True)
class PersistencyYoY:
    """A group's persistency beside the same period one year earlier."""

    current: PersistencyRow
    year_earlier: PersistencyRow | None

    @property
    def change_points(self) -> Decimal | None:
        """Premium-basis change in percentage points (None when either side has no rate)."""
        before = self.year_earlier.persistency_premium if self.year_earlier else None
        return _points(self.current.persistency_premium, before)

    @property
    def change_points_count(self) -> Decimal | None:
        """Count-basis change in percentage points (None when either side has no rate)."""
        before = self.year_earlier.persistency_count if self.year_earlier else None
        return _points(self.current.persistency_count, before)


def _points(now: Decimal | None, before: Decimal | None) -> Decimal | None:
    if now is None or before is None:
        return None
    return ((now - before) * 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _grace(session: Session, branch_id: int | None, grace_days: int | None) -> int:
    if grace_days is not None:
        return grace_days
    stmt = select(Branch.grace_days)
    if branch_id is not None:
        stmt = stmt.where(Branch.id == branch_id)
    return session.scalar(stmt.limit(1)) or 60


def _group_expr(by: str, as_of: date):
    b = PersistencyBase
    if by == "contact_band":
        from app.services.metrics.contact_bands import contact_band_expr

        return contact_band_expr(as_of)
    if by == "grid":
        return b.grid_id
    if by == "specialist":
        return b.specialist_id
    if by == "team":
        return Specialist.team_id
    if by == "payment_mode":
        return b.payment_mode
    if by == "product":
        return b.product
    return month_of(b.due_date)  # cohort: the due month


def _aggregate(
    session: Session,
    *,
    start: date,
    end: date,
    as_of: date,
    year: int,
    grace: int,
    by: Sequence[str],
    branch_id: int | None,
    team_ids: Collection[int] | None,
    specialist_ids: Collection[int] | None,
) -> list[tuple]:
    """Return rows (group keys..., policies, persisting, pending, due, received): the whole
    months past their grace period from the monthly cells, the rest from the base rows."""
    scope = {"branch_id": branch_id, "team_ids": team_ids, "specialist_ids": specialist_ids}
    rules: dict[str, Any] = {"year": year, "grace": grace, "by": by, **scope}

    def from_base(first: date) -> list[tuple]:
        return _aggregate_base(session, start=first, end=end, as_of=as_of, **rules)

    grain = summary.grain_for(by, team_ids, specialist_ids)
    covered = summary.covered_until(start, end, as_of, grace) if grain else None
    if grain is None or covered is None:
        return from_base(start)
    cells = summary.aggregate(
        session,
        grain=grain,
        first_month=f"{start:%Y-%m}",
        last_month=f"{covered:%Y-%m}",
        **rules,
    )
    if cells is None:  # a cell written with another grace period: read the base rows
        return from_base(start)
    rest = from_base(covered + timedelta(days=1)) if covered < end else []
    if not rest:
        return cells  # one row per group already
    width = len(by)
    merged: dict[tuple, list[int]] = {}
    for r in [*cells, *rest]:
        sums = merged.setdefault(tuple(r[:width]), [0] * 5)
        for i, v in enumerate(r[width:]):
            sums[i] += int(v or 0)
    return [(*k, *v) for k, v in merged.items()]


def _aggregate_base(
    session: Session,
    *,
    start: date,
    end: date,
    as_of: date,
    year: int,
    grace: int,
    by: Sequence[str],
    branch_id: int | None,
    team_ids: Collection[int] | None,
    specialist_ids: Collection[int] | None,
) -> list[tuple]:
    """Return rows (group keys..., policies, persisting, pending, due, received) computed from
    the base rows in one query."""
    b = PersistencyBase
    mature_cutoff = as_of - timedelta(days=grace)
    kept = or_(b.terminated_on.is_(None), b.terminated_on >= b.due_date)
    mature = b.due_date <= mature_cutoff
    in_grace = and_(b.days_late.is_not(None), b.days_late <= grace, b.received_on <= as_of)
    one = literal(1)
    cols = [
        func.sum(case((mature, one), else_=0)),
        func.sum(case((and_(mature, in_grace, b.received_fen >= b.amount_due_fen), one), else_=0)),
        func.sum(case((mature, 0), else_=one)),
        func.sum(case((mature, b.amount_due_fen), else_=0)),
        func.sum(case((and_(mature, in_grace), b.received_fen), else_=0)),
    ]
    keys = [_group_expr(f, as_of).label(f"k{i}") for i, f in enumerate(by)]
    stmt = select(*keys, *cols).where(
        b.policy_year == year, b.due_date >= start, b.due_date <= end, kept
    )
    if "team" in by or team_ids is not None:
        stmt = stmt.outerjoin(Specialist, Specialist.id == b.specialist_id)
    if "contact_band" in by:
        stmt = stmt.join(Customer, Customer.id == b.customer_id)
    if branch_id is not None:
        stmt = stmt.where(b.branch_id == branch_id)
    if team_ids is not None:
        stmt = stmt.where(Specialist.team_id.in_(list(team_ids)))
    if specialist_ids is not None:
        stmt = stmt.where(b.specialist_id.in_(list(specialist_ids)))
    if keys:
        stmt = stmt.group_by(*keys)
    return [tuple(r) for r in session.execute(stmt)]


def _row(key, label: str, counts: Sequence) -> PersistencyRow:
    policies, persisting, pending, due, received = counts
    policies, persisting, pending = int(policies or 0), int(persisting or 0), int(pending or 0)
    due, received = int(due or 0), int(received or 0)
    return PersistencyRow(
        group_key=key,
        group=label,
        policies=policies,
        persisting_policies=persisting,
        pending_policies=pending,
        premium_due_fen=due,
        premium_received_fen=received,
        persistency_premium=rate(received, due),
        persistency_count=rate(persisting, policies),
    )


def persistency_report(
    session: Session,
    *,
    period: Period,
    as_of: date,
    month: int = 13,
    by: str | Sequence[str] | None = None,
    grace_days: int | None = None,
    branch_id: int | None = None,
    team_ids: Collection[int] | None = None,
    specialist_ids: Collection[int] | None = None,
) -> list[PersistencyRow]:
    """Return persistency for the period: one row per group (one row 'all' without ``by``).

    ``by`` is one of grid, specialist, team, payment_mode, product or cohort (the due month
    'YYYY-MM'), or several of them (e.g. ``("specialist", "cohort")``), when the group key is
    the tuple of keys and the label joins their names with ' · '. ``grace_days`` None means
    the branch's grace period.
    """
    if month not in MONTH_TO_YEAR:
        raise ValueError("persistency is 13-month or 25-month")
    fields = [by] if isinstance(by, str) else list(by or ())
    for f in fields:
        check_field(f, PERSISTENCY_FIELDS)
    grace = _grace(session, branch_id, grace_days)
    rows = _aggregate(
        session,
        start=period.start,
        end=period.end,
        as_of=as_of,
        year=MONTH_TO_YEAR[month],
        grace=grace,
        by=fields,
        branch_id=branch_id,
        team_ids=team_ids,
        specialist_ids=specialist_ids,
    )
    if not fields:
        return [_row("all", "all", rows[0] if rows else (0,) * 5)]
    labels = Labels.load(session, fields) if set(fields) & {"grid", "specialist", "team"} else None
    width = len(fields)
    out = []
    named: dict[tuple[str, Any], str] = {}  # a specialist is in every month's row: named once
    for r in rows:
        keys = tuple(r[:width])
        names = []
        for f, k in zip(fields, keys, strict=True):
            name = named.get((f, k))
            if name is None:
                name = named[(f, k)] = _name(labels, f, k)
            names.append(name)
        key = keys[0] if width == 1 else keys
        out.append(_row(key, " · ".join(names), r[width:]))
    if fields == ["contact_band"]:  # the bands in their own order: 0-7 ... never
        from app.services.metrics.contact_bands import BAND_KEYS

        return sorted(out, key=lambda r: BAND_KEYS.index(r.group_key) if r.group_key else 99)
    return sorted(out, key=lambda r: (None in _tuple(r.group_key), r.group))


def _tuple(key) -> tuple:
    return key if isinstance(key, tuple) else (key,)


# A policy is attributed to who served its customer on the due date: with nobody, it has no
# specialist and no team for that reason, which the name says.
UNSERVED = "(unserved on the due date)"


def _name(labels: Labels | None, field: str, key) -> str:
    if key is None and field in ("specialist", "team"):
        return UNSERVED
    if key is None and field == "contact_band":
        return NEVER_IN_POOL
    return labels.name(field, key) if labels else _plain(key)


def _plain(key) -> str:
    if key is None:
        return "(none)"
    return str(getattr(key, "value", key))


def persistency_with_yoy(
    session: Session,
    *,
    period: Period,
    as_of: date,
    month: int = 13,
    by: str | None = None,
    **scope,
) -> list[PersistencyYoY]:
    """Return each group's persistency with the same period one year earlier beside it.

    The earlier period is evaluated at the same as-of date: a year older, it is complete, so
    the comparison is between this period as known today and last year's final figure.
    """
    now = persistency_report(session, period=period, as_of=as_of, month=month, by=by, **scope)
    before = persistency_report(
        session, period=period.year_earlier(), as_of=as_of, month=month, by=by, **scope
    )
    earlier = {r.group_key: r for r in before}
    return [PersistencyYoY(r, earlier.get(r.group_key)) for r in now]


@dataclass(frozen=True)
class TrendPoint:
    group_key: object
    group: str
    month: str
    rate: Decimal | None
    year_earlier: Decimal | None
    policies: int
    # Policies of the month whose grace period still runs on the as-of date: not in the rate.
    pending: int = 0


def persistency_trend(
    session: Session,
    *,
    months: Sequence[Period],
    as_of: date,
    month: int = 13,
    by: str | None = None,
    grace_days: int | None = None,
    branch_id: int | None = None,
    team_ids: Collection[int] | None = None,
) -> list[TrendPoint]:
    """Return premium-basis persistency per due month (and group), each with the rate of the
    same month a year earlier, from one query."""
    if not months:
        return []
    check_field(by, PERSISTENCY_FIELDS)
    grace = _grace(session, branch_id, grace_days)
    start = months[0].year_earlier().start
    group = [by, "cohort"] if by and by != "cohort" else ["cohort"]
    rows = _aggregate(
        session,
        start=start,
        end=months[-1].end,
        as_of=as_of,
        year=MONTH_TO_YEAR[month],
        grace=grace,
        by=group,
        branch_id=branch_id,
        team_ids=team_ids,
        specialist_ids=None,
    )
    cells: dict[tuple, tuple] = {}
    for r in rows:
        key = r[0] if len(group) == 2 else "all"
        cells[(key, r[len(group) - 1])] = r[len(group) :]
    labels = Labels.load(session, [by]) if by in ("grid", "specialist", "team") else None
    keys = sorted({k for k, _ in cells}, key=lambda k: (k is None, str(k)))
    out = []
    for key in keys:
        name = "all" if key == "all" or not by else _name(labels, by, key)
        for m in months:
            now = cells.get((key, m.label))
            before = cells.get((key, m.year_earlier().label))
            out.append(
                TrendPoint(
                    group_key=key,
                    group=name,
                    month=m.label,
                    rate=rate(int(now[4] or 0), int(now[3] or 0)) if now else None,
                    year_earlier=rate(int(before[4] or 0), int(before[3] or 0)) if before else None,
                    policies=int(now[0] or 0) if now else 0,
                    pending=int(now[2] or 0) if now else 0,
                )
            )
    return out
