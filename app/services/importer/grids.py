"""Importing grid polygons from a GeoJSON FeatureCollection (WGS84 lon/lat)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Grid
from app.services.importer.values import split_list, text


def read_grids(path: Path) -> tuple[list[dict], list[tuple[int | None, str | None, str]]]:
    """Return grid rows and problems (feature number, property, message) from a GeoJSON file."""
    import shapely
    from shapely.geometry import shape

    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        return [], [(None, None, "is not UTF-8 text")]
    except json.JSONDecodeError as exc:
        return [], [
            (
                None,
                None,
                f"is not valid GeoJSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            )
        ]
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        return [], [(None, None, "is not a GeoJSON FeatureCollection")]
    rows, problems, seen = [], [], {}
    for n, feature in enumerate(doc.get("features") or [], start=1):
        props = feature.get("properties") or {}
        code, name = text(props.get("code")), text(props.get("name"))
        if not code:
            problems.append((n, "code", "is missing"))
            continue
        if not name:
            problems.append((n, "name", "is missing"))
            continue
        if code in seen:
            problems.append((n, "code", f"'{code}' appears again (first in feature {seen[code]})"))
            continue
        seen[code] = n
        try:
            geom = shape(feature.get("geometry") or {})
        except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException) as exc:
            problems.append((n, "geometry", f"cannot be read: {exc}"))
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(
                (n, "geometry", f"is a {geom.geom_type}, not a Polygon or MultiPolygon")
            )
            continue
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            problems.append((n, "geometry", "coordinates are not WGS84 longitude/latitude"))
            continue
        if not geom.is_valid:
            problems.append(
                (n, "geometry", f"is not a valid polygon ({shapely.is_valid_reason(geom)})")
            )
            continue
        communities = props.get("communities") or []
        if isinstance(communities, str):
            communities = split_list(communities)
        centre = geom.representative_point()
        rows.append(
            {"code": code, "name": name, "district": text(props.get("district")) or None,
             "geometry": json.dumps(feature["geometry"], ensure_ascii=False),
             "communities": json.dumps([text(c) for c in communities if text(c)], ensure_ascii=False),
             "min_lon": minx, "min_lat": miny, "max_lon": maxx, "max_lat": maxy,
             "centroid_lon": centre.x, "centroid_lat": centre.y}
        )  # fmt: skip
    return rows, problems


def write_grids(session: Session, branch_id: int, rows: list[dict]) -> tuple[int, int]:
    """Upsert the grids by branch and code; return (inserted, updated)."""
    from app.services.importer.writers import upsert

    codes = {r["code"] for r in rows}
    existing = set(
        session.scalars(select(Grid.code).where(Grid.branch_id == branch_id, Grid.code.in_(codes)))
    )
    upsert(
        session,
        Grid.__table__,
        [{"branch_id": branch_id, **r} for r in rows],
        ["branch_id", "code"],
    )
    updated = len(existing)
    return len(rows) - updated, updated
