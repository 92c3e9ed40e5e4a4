"""What the grid map shows, read with Core column selects: one row per grid and the customers'
points."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.models import Customer, Grid, Specialist, Task, Team
from app.models.enums import OPEN_TASK_STATUSES, GridStatus, SpecialistStatus
from app.services.intake.coverage import open_mark
from app.services.periods import Period, add_months


@dataclass(frozen=True)
class GridRow:
    """One grid with its owner and the figures the map colours by.

    ``owner_*`` describe the grid's current owner whatever their status; ``uncovered`` says the
    grid has no *active* owner on the as-of date (none at all, on leave, or left).
    """

    code: str
    name: str
    district: str | None
    geometry: Mapping[str, Any]  # GeoJSON Polygon or MultiPolygon, WGS84 lon/lat
    owner_name: str | None = None
    owner_employee_no: str | None = None
    team_name: str | None = None
    uncovered: bool = True
    customers: int = 0  # customers matched to this grid
    unserved: int = 0  # customers matched to this grid who have no specialist
    owner_customers: int | None = None  # customers the owner serves, across their grids
    owner_capacity: int | None = None
    owner_open_tasks: int | None = None  # open and in-progress tasks of the owner
    persistency_13: Decimal | None = None  # 13-month persistency, premium basis, trailing year
    # The policies that rate rests on (None: not known); on fewer than FEW_POLICIES the grid is
    # left out of the colour scale and its rate marked "few".
    persistency_policies: int | None = None

    @property
    def load(self) -> float | None:
        """Return the owner's customers as a share of their capacity, or None without an owner."""
        if self.owner_customers is None or not self.owner_capacity:
            return None
        return self.owner_customers / self.owner_capacity


@dataclass(frozen=True, eq=False)
class Points:
    """The customers with coordinates, as columns: ``lon`` and ``lat`` (float64) and ``grid``,
    each point's index into ``codes`` (-1: in no grid). Iterating yields (lon, lat, grid code
    or None). Columns, not one tuple per customer: a big city's 300k points are 7 MB here
    against some 50 MB of tuples, and they go to the page as packed integers."""

    lon: np.ndarray
    lat: np.ndarray
    grid: np.ndarray
    codes: tuple[str, ...] = ()

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[float, float, str | None]]) -> Points:
        """Return the points of (lon, lat, grid code or None) rows."""
        codes = tuple(sorted({code for _lon, _lat, code in rows if code is not None}))
        index = {code: i for i, code in enumerate(codes)}
        return cls(
            lon=np.array([r[0] for r in rows], dtype=np.float64),
            lat=np.array([r[1] for r in rows], dtype=np.float64),
            grid=np.array([-1 if r[2] is None else index[r[2]] for r in rows], dtype=np.int32),
            codes=codes,
        )

    def __len__(self) -> int:
        return len(self.lon)

    def __iter__(self) -> Iterator[tuple[float, float, str | None]]:
        codes = self.codes
        for lon, lat, k in zip(
            self.lon.tolist(), self.lat.tolist(), self.grid.tolist(), strict=True
        ):
            yield lon, lat, (codes[k] if k >= 0 else None)

    @property
    def in_no_grid(self) -> np.ndarray:
        """Return a boolean column: True for the points in no grid (pool customers unmatched)."""
        return self.grid < 0


NO_POINTS = Points(
    lon=np.zeros(0, dtype=np.float64),
    lat=np.zeros(0, dtype=np.float64),
    grid=np.zeros(0, dtype=np.int32),
)


@dataclass(frozen=True)
class MapData:
    """The grids in scope and the customers with coordinates, ready to draw.

    ``points`` holds the customers' (lon, lat, grid code or None); ``unmatched`` counts pool
    customers no grid was found for (with or without coordinates) waiting in the unmatched
    queue, ``outside_coverage`` those of them whose address is marked outside coverage.
    """

    grids: tuple[GridRow, ...]
    points: Points = NO_POINTS
    unmatched: int = 0
    outside_coverage: int = 0
    as_of: date | None = None
    persistency_period: str = ""
    _by_code: dict[str, GridRow] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {g.code: g for g in self.grids})

    def grid(self, code: str) -> GridRow | None:
        """Return the grid with this code, or None."""
        return self._by_code.get(code)

    def bounds(self) -> tuple[float, float, float, float] | None:
        """Return (min lon, min lat, max lon, max lat) over the grids, or None without grids."""
        xs: list[float] = []
        ys: list[float] = []
        for g in self.grids:
            for x, y in iter_coordinates(g.geometry):
                xs.append(x)
                ys.append(y)
        if not xs:
            return None
        return min(xs), min(ys), max(xs), max(ys)


def iter_coordinates(geometry: Mapping[str, Any]) -> Iterator[tuple[float, float]]:
    """Yield every (lon, lat) vertex of a Polygon or MultiPolygon."""
    coords = geometry.get("coordinates") or []
    polygons = coords if geometry.get("type") == "MultiPolygon" else [coords]
    for polygon in polygons:
        for ring in polygon:
            for x, y, *_ in ring:
                yield float(x), float(y)


def persistency_year(as_of: date) -> Period:
    """Return the twelve whole months before ``as_of``'s month: the map's persistency period."""
    first = add_months(as_of.replace(day=1), -12)
    end = as_of.replace(day=1) - timedelta(days=1)
    return Period(first, end, f"{first:%Y-%m}…{end:%Y-%m}")


def grid_persistency_13(
    session: Session, *, as_of: date, branch_id: int | None = None
) -> dict[str, tuple[Decimal, int]]:
    """Return 13-month persistency (premium basis) per grid code over the trailing year, with
    the policies it rests on."""
    from app.services.metrics.persistency import persistency_report

    rows = persistency_report(
        session, period=persistency_year(as_of), as_of=as_of, by="grid", branch_id=branch_id
    )
    codes = dict(session.execute(select(Grid.id, Grid.code)).all())
    return {
        codes[r.group_key]: (r.persistency_premium, r.policies)
        for r in rows
        if r.group_key in codes and r.persistency_premium is not None
    }


def load_map_data(
    session: Session,
    *,
    branch_id: int | None = None,
    team_ids: Collection[int] | None = None,
    as_of: date,
    points: bool = True,
) -> MapData:
    """Return the active grids of the branch (or of the grids owned by ``team_ids``) with their
    owners and figures, and the in-scope customers that have coordinates (with ``points=False``
    none: the app's map reads them with :func:`load_map_points` while the browser draws the
    grids)."""
    owner = aliased(Specialist)
    scope = _grid_scope(owner, branch_id=branch_id, team_ids=team_ids)
    active_owner = and_(
        owner.status == SpecialistStatus.ACTIVE,
        or_(owner.left_on.is_(None), owner.left_on > as_of),
    )
    grid_rows = session.execute(
        scope.with_only_columns(
            Grid.id,
            Grid.code,
            Grid.name,
            Grid.district,
            Grid.geometry,
            owner.id,
            owner.name,
            owner.employee_no,
            owner.capacity,
            Team.name,
            case((active_owner, True), else_=False),
        )
        .outerjoin(Team, Team.id == owner.team_id)
        .order_by(Grid.code)
    ).all()
    grid_ids = scope.with_only_columns(Grid.id)

    ids = [row[0] for row in grid_rows]
    in_grid = _grid_counts(session, grid_ids, ids)
    owner_ids = scope.with_only_columns(Grid.owner_id).where(Grid.owner_id.is_not(None))
    served: dict[int | None, int] = {
        sid: n
        for sid, n in session.execute(
            select(Customer.specialist_id, func.count())
            .where(Customer.specialist_id.in_(owner_ids))
            .group_by(Customer.specialist_id)
        )
    }
    open_tasks: dict[int | None, int] = {
        sid: n
        for sid, n in session.execute(
            select(Task.specialist_id, func.count())
            .where(Task.status.in_(OPEN_TASK_STATUSES), Task.specialist_id.in_(owner_ids))
            .group_by(Task.specialist_id)
        )
    }
    persistency = grid_persistency_13(session, as_of=as_of, branch_id=branch_id)

    grids = []
    for k, (_gid, code, name, district, geometry, oid, oname, ono, cap, team, active) in enumerate(
        grid_rows
    ):
        customers, unserved = int(in_grid[0][k]), int(in_grid[1][k])
        grids.append(
            GridRow(
                code=code,
                name=name,
                district=district,
                geometry=json.loads(geometry),
                owner_name=oname,
                owner_employee_no=ono,
                team_name=team,
                uncovered=not active,
                customers=customers,
                unserved=unserved,
                owner_customers=served.get(oid, 0) if oid is not None else None,
                owner_capacity=cap,
                owner_open_tasks=open_tasks.get(oid, 0) if oid is not None else None,
                persistency_13=persistency[code][0] if code in persistency else None,
                persistency_policies=persistency[code][1] if code in persistency else None,
            )
        )

    unmatched_q = select(func.count(), func.sum(case((open_mark(), 1), else_=0))).where(
        Customer.pool_entered_on.is_not(None), Customer.grid_id.is_(None)
    )
    if branch_id is not None:
        unmatched_q = unmatched_q.where(Customer.branch_id == branch_id)
    if team_ids is not None:
        # A team's scope holds the grids it owns; unmatched customers belong to nobody yet.
        unmatched_q = unmatched_q.where(Customer.specialist_id.in_(_team_members(team_ids)))

    no_grid, outside = session.execute(unmatched_q).one()
    return MapData(
        grids=tuple(grids),
        points=(
            _points(
                session,
                grid_ids,
                ids,
                [row[1] for row in grid_rows],
                branch_id=branch_id,
                team_ids=team_ids,
            )
            if points
            else NO_POINTS
        ),
        unmatched=(no_grid or 0) - (outside or 0),
        outside_coverage=outside or 0,
        as_of=as_of,
        persistency_period=persistency_year(as_of).label,
    )


def _grid_scope(
    owner: Any, *, branch_id: int | None, team_ids: Collection[int] | None
) -> Select[Any]:
    """Return a select over the in-scope active grids joined to their owner (outer)."""
    q = (
        select(Grid.id)
        .select_from(Grid)
        .outerjoin(owner, owner.id == Grid.owner_id)
        .where(Grid.status == GridStatus.ACTIVE)
    )
    if branch_id is not None:
        q = q.where(Grid.branch_id == branch_id)
    if team_ids is not None:
        q = q.where(owner.team_id.in_(list(team_ids)))
    return q


def _team_members(team_ids: Collection[int]) -> Select[Any]:
    return select(Specialist.id).where(Specialist.team_id.in_(list(team_ids)))


_CHUNK = 10_000


def load_map_points(
    session: Session, *, branch_id: int | None = None, team_ids: Collection[int] | None = None
) -> Points:
    """Return the points :func:`load_map_data` would give (its grids' customers with
    coordinates, and the pool customers no grid was found for), read on their own."""
    scope = _grid_scope(aliased(Specialist), branch_id=branch_id, team_ids=team_ids)
    rows = session.execute(scope.with_only_columns(Grid.id, Grid.code).order_by(Grid.code)).all()
    return _points(
        session,
        scope.with_only_columns(Grid.id),
        [r[0] for r in rows],
        [r[1] for r in rows],
        branch_id=branch_id,
        team_ids=team_ids,
    )


def _grid_counts(
    session: Session, grid_ids: Select[Any], ids: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Return the customers and those without a specialist per grid, in the order of ``ids``:
    counted from the indexes alone (grid; no specialist), not by looking every customer up."""
    position = {gid: k for k, gid in enumerate(ids)}
    customers = np.zeros(len(ids), dtype=np.int64)
    without = np.zeros(len(ids), dtype=np.int64)
    for column, where in (
        (customers, Customer.grid_id.in_(grid_ids)),
        (without, and_(Customer.specialist_id.is_(None), Customer.grid_id.in_(grid_ids))),
    ):
        for gid, count in session.execute(
            select(Customer.grid_id, func.count()).where(where).group_by(Customer.grid_id)
        ):
            if gid in position:
                column[position[gid]] = count
    return customers, without


def _points(
    session: Session,
    grid_ids: Select[Any],
    ids: Sequence[int],
    codes: Sequence[str],
    *,
    branch_id: int | None,
    team_ids: Collection[int] | None,
) -> Points:
    """Return the points of the customers with coordinates in the grids ``ids`` (whose codes
    are ``codes``), plus the pool customers no grid was found for.

    One narrow pass as the driver's tuples, turned into columns here: for a big city's 210k
    points ~0.2 s, against 0.7 s as SQLAlchemy rows."""
    no_grid = and_(Customer.grid_id.is_(None), Customer.pool_entered_on.is_not(None))
    if team_ids is not None:
        # A team's grids are a small part of the branch: read their customers by grid.
        no_grid = and_(no_grid, Customer.specialist_id.in_(_team_members(team_ids)))
        in_grid = Customer.grid_id.in_(grid_ids)
    else:
        # The whole branch in one scan; grids out of scope (not active) are left out below.
        in_grid = Customer.grid_id.is_not(None)
    q = select(func.coalesce(Customer.grid_id, 0), Customer.lon, Customer.lat).where(
        Customer.lon.is_not(None), Customer.lat.is_not(None), or_(in_grid, no_grid)
    )
    if branch_id is not None:
        q = q.where(Customer.branch_id == branch_id)
    result = session.connection().execute(q)
    chunks = []
    # In chunks: turning 200k rows into an array at once holds the interpreter for 0.1 s, and
    # the window (on the GUI thread) would stall that long.
    while rows := result.cursor.fetchmany(_CHUNK):
        chunks.append(np.array(rows, dtype=np.float64))
    result.close()
    table = np.concatenate(chunks) if chunks else np.zeros((0, 3))
    grid = table[:, 0].astype(np.int64)

    # Each point's grid as its position in ``ids`` (-1: in no grid or out of scope).
    order = np.argsort(np.asarray(ids, dtype=np.int64), kind="stable")
    sorted_ids = np.asarray(ids, dtype=np.int64)[order]
    at = np.searchsorted(sorted_ids, grid)
    found = at < len(sorted_ids)
    found[found] = sorted_ids[at[found]] == grid[found]
    position_of = np.full(len(grid), -1, dtype=np.int32)
    position_of[found] = order[at[found]]
    drawn = found | (grid == 0)
    return Points(
        lon=np.ascontiguousarray(table[drawn, 1]),
        lat=np.ascontiguousarray(table[drawn, 2]),
        grid=position_of[drawn],
        codes=tuple(codes),
    )
