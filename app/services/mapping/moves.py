"""A rebalancing plan on the map: the branch's grids in grey, the grids that change owner in
orange (customers moved out of a grid in yellow), each labelled with its code and its new
owner. Drawn with matplotlib so it works wherever the workload chart does."""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.patches import Patch, PathPatch
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.models import Grid, Specialist, Team
from app.models.enums import GridStatus
from app.services.mapping.data import iter_coordinates
from app.services.mapping.fallback import geometry_path

GRID_MOVE = "#f59f00"
CUSTOMER_MOVE = "#ffe08a"
IN_SCOPE = "#e3e8ee"
OUT_OF_SCOPE = "#f6f8fa"
EDGE = "#8c959f"


@dataclass(frozen=True)
class GridShape:
    code: str
    name: str
    geometry: Mapping[str, Any]
    owner_no: str | None
    team_code: str | None
    centroid: tuple[float, float]  # lon, lat


@dataclass(frozen=True)
class MapMove:
    """What the map says of one grid: who gives it (or some of its customers) to whom."""

    grid_code: str
    whole_grid: bool
    text: str  # e.g. "王芳 → 李强" or "3 customers: 王芳 → 李强"


def grid_shapes(session: Session, *, branch_id: int) -> list[GridShape]:
    """Return the active grids of the branch with their outline and owner, by code."""
    owner = aliased(Specialist)
    rows = session.execute(
        select(
            Grid.code,
            Grid.name,
            Grid.geometry,
            owner.employee_no,
            Team.code,
            Grid.centroid_lon,
            Grid.centroid_lat,
        )
        .outerjoin(owner, owner.id == Grid.owner_id)
        .outerjoin(Team, Team.id == owner.team_id)
        .where(Grid.branch_id == branch_id, Grid.status == GridStatus.ACTIVE)
        .order_by(Grid.code)
    )
    return [
        GridShape(code, name, json.loads(geo), no, team, (lon, lat))
        for code, name, geo, no, team, lon, lat in rows
    ]


def draw_moves_map(
    ax: Axes,
    shapes: Sequence[GridShape],
    moves: Sequence[MapMove],
    *,
    scope_teams: Collection[str] = (),
    labels: Mapping[str, str],
    selected: str | None = None,
) -> dict[PathPatch, str]:
    """Draw the grids with the moved ones highlighted and labelled; return each grid's patch
    mapped to its code (for tooltips). ``scope_teams`` empty means the whole branch is in
    scope. ``labels`` holds the legend texts "grid", "customers" and "unchanged"."""
    by_grid: dict[str, list[MapMove]] = {}
    for m in moves:
        by_grid.setdefault(m.grid_code, []).append(m)
    artists: dict[PathPatch, str] = {}
    outlines = []
    xs: list[float] = []
    ys: list[float] = []
    for g in shapes:
        path = geometry_path(g.geometry)
        if path is None:
            continue
        for x, y in iter_coordinates(g.geometry):
            xs.append(x)
            ys.append(y)
        mine = by_grid.get(g.code, [])
        if any(m.whole_grid for m in mine):
            fill = GRID_MOVE
        elif mine:
            fill = CUSTOMER_MOVE
        elif not scope_teams or g.team_code in scope_teams:
            fill = IN_SCOPE
        else:
            fill = OUT_OF_SCOPE
        patch = PathPatch(path, facecolor=fill, edgecolor="none", zorder=1)
        ax.add_patch(patch)
        artists[patch] = g.code
        chosen = g.code == selected
        outlines.append(
            PathPatch(
                path,
                facecolor="none",
                edgecolor="#0b5cd5" if chosen else EDGE,
                linewidth=2.4 if chosen else 0.5,
            )
        )
        if mine:
            ax.annotate(
                g.code,
                g.centroid,
                ha="center",
                va="center",
                fontsize=7,
                color="#1b1f23",
                zorder=4,
            )
    ax.add_collection(PatchCollection(outlines, match_original=True, zorder=3))
    if xs:
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        pad_x, pad_y = (x1 - x0) * 0.02 or 0.01, (y1 - y0) * 0.02 or 0.01
        ax.set_xlim(x0 - pad_x, x1 + pad_x)
        ax.set_ylim(y0 - pad_y, y1 + pad_y)
        ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_axis_off()
    # In the figure's corner, which the map (kept to the city's shape) leaves empty on a
    # pane wider than the city; inside the map it hid the grids under it.
    ax.figure.legend(
        handles=[
            Patch(facecolor=GRID_MOVE, edgecolor=EDGE, label=labels["grid"]),
            *(
                [Patch(facecolor=CUSTOMER_MOVE, edgecolor=EDGE, label=labels["customers"])]
                if "customers" in labels
                else []
            ),
            Patch(facecolor=IN_SCOPE, edgecolor=EDGE, label=labels["unchanged"]),
        ],
        loc="lower left",
        fontsize=8,
        framealpha=0.9,
    )
    return artists


def tooltip_text(code: str, shapes_by_code: Mapping[str, GridShape], moves: Sequence[MapMove]):
    """Return the tooltip of grid ``code``: its code and name, then each move of it."""
    g = shapes_by_code.get(code)
    head = f"{code} {g.name}" if g else code
    return "\n".join([head, *(m.text for m in moves if m.grid_code == code)])
