"""Which grids touch: the neighbours a grid may be handed to (see
:mod:`app.services.rebalance.workload`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

# Polygons closer than this (degrees, about 1 m) count as touching: real boundaries have seams.
TOUCH_TOLERANCE_DEG = 1e-5


def touching(geojson: Sequence[str], *, tolerance: float = TOUCH_TOLERANCE_DEG) -> list[list[int]]:
    """Return, for each GeoJSON geometry, the indices of the others it touches or overlaps
    (closer than ``tolerance`` degrees), in index order."""
    from shapely.geometry import shape

    return touching_shapes([shape(json.loads(text)) for text in geojson], tolerance=tolerance)


def touching_shapes(
    geometries: Sequence, *, tolerance: float = TOUCH_TOLERANCE_DEG
) -> list[list[int]]:
    """Return, for each shapely geometry, the indices of the others within ``tolerance``."""
    from shapely import STRtree

    result: list[list[int]] = [[] for _ in geometries]
    if not geometries:
        return result
    tree = STRtree(list(geometries))
    left, right = tree.query(list(geometries), predicate="dwithin", distance=tolerance)
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i != j:
            result[i].append(j)
    for near in result:
        near.sort()
    return result
