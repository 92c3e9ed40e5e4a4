"""Finding grids on a drawn map: the grid under a point, and the grids a drawn lasso encloses
(those whose centroid lies inside it). Coordinates are the map's: lon, lat. No Qt here."""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from shapely.geometry import Polygon, shape

from app.services.mapping.moves import GridShape


class GridPicker:
    """The grids of a map, ready for picking."""

    def __init__(self, shapes: Sequence[GridShape]) -> None:
        self.codes = [g.code for g in shapes]
        self._geoms = [shape(g.geometry) for g in shapes]
        self._tree = shapely.STRtree(self._geoms)
        self._cx = [g.centroid[0] for g in shapes]
        self._cy = [g.centroid[1] for g in shapes]

    def at(self, x: float, y: float) -> str | None:
        """Return the code of the grid containing the point (lon, lat), or None."""
        hits = self._tree.query(shapely.Point(x, y), predicate="intersects")
        return self.codes[int(min(hits))] if len(hits) else None

    def enclosed(self, points: Sequence[tuple[float, float]]) -> list[str]:
        """Return the codes of the grids whose centroid the closed outline ``points`` encloses,
        in map order (an outline crossing itself counts what any of its loops encloses)."""
        if len(points) < 3 or not self.codes:
            return []
        outline = Polygon(points)
        if not outline.is_valid:
            outline = shapely.make_valid(outline)
        inside = shapely.contains_xy(outline, self._cx, self._cy)
        return [c for c, hit in zip(self.codes, inside.tolist(), strict=True) if hit]
