"""Importing grid polygons from a GeoJSON FeatureCollection (WGS84 lon/lat).

A city has a few thousand grids at most, so the file is read whole. Problems name the feature
by its position in the collection (1 = the first feature) and the property at fault.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session

from app.models import Grid
from app.services.importer.store import Target, save, table_of
from app.services.importer.values import clean, parse_text, split_list

GRIDS = Target(table_of(Grid), ("branch_id", "code"), "code", versioned=True)
FeatureProblem = tuple[int | None, str | None, str]  # feature number, property, message


def _communities(value: object) -> list[str]:
    """Return the community and street names: a JSON list, or names joined by 、 ; or ,."""
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        cleaned = clean(item) if isinstance(item, str) else item
        if cleaned is not None:
            names.extend(n for n in split_list(cleaned) if n not in names)
    return names


def read_grids(path: Path) -> tuple[list[dict], list[FeatureProblem]]:
    """Return the grid rows of a GeoJSON file and the problems found in it."""
    import shapely
    from shapely.geometry import shape

    data = path.read_bytes()
    if not data.strip():
        return [], [(None, None, "is empty")]
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return [], [(None, None, "is not a GeoJSON text file (UTF-8)")]
    except json.JSONDecodeError as exc:
        return [], [(None, None, f"is not valid GeoJSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]  # fmt: skip
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        return [], [(None, None, "is not a GeoJSON FeatureCollection")]
    features = doc.get("features")
    if not isinstance(features, list):
        return [], [(None, None, "has no list of features")]
    rows: list[dict] = []
    problems: list[FeatureProblem] = []
    seen: dict[str, int] = {}
    for n, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            problems.append((n, None, "is not a GeoJSON feature"))
            continue
        props = feature.get("properties") or {}
        code, name = clean(props.get("code")), clean(props.get("name"))
        if code is None:
            problems.append((n, "code", "is required but empty"))
        if name is None:
            problems.append((n, "name", "is required but empty"))
        if code is not None:
            code = parse_text(code)
            if code in seen:
                problems.append((n, "code", f"'{code}' appears again (first in feature {seen[code]})"))  # fmt: skip
            seen.setdefault(code, n)
        raw = feature.get("geometry")
        try:
            geom = shape(raw) if isinstance(raw, dict) else None
        except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:  # fmt: skip
            problems.append((n, "geometry", f"cannot be read: {exc}"))
            continue
        if geom is None or geom.is_empty:
            problems.append((n, "geometry", "is missing or empty"))
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append((n, "geometry", f"is a {geom.geom_type}, not a Polygon or MultiPolygon"))  # fmt: skip
            continue
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            problems.append(
                (n, "geometry", "has coordinates outside longitude -180..180 / latitude -90..90 "
                                "(the file must be WGS84 lon/lat)")
            )  # fmt: skip
            continue
        if not geom.is_valid:
            problems.append((n, "geometry", f"is not a valid polygon: {shapely.is_valid_reason(geom)}"))  # fmt: skip
            continue
        for prop in ("code", "name", "district"):
            longest = getattr(Grid, prop).type.length
            text = clean(props.get(prop))
            if text is not None and len(parse_text(text)) > longest:
                problems.append((n, prop, f"is longer than the {longest} characters that fit"))
                code = None
        if code is None or name is None:
            continue
        centre = geom.centroid
        rows.append(
            {"code": code, "name": parse_text(name),
             "district": None if clean(props.get("district")) is None else parse_text(clean(props.get("district"))),
             "geometry": json.dumps(raw, ensure_ascii=False, separators=(",", ":")),
             "communities": json.dumps(_communities(props.get("communities")), ensure_ascii=False),
             "min_lon": minx, "min_lat": miny, "max_lon": maxx, "max_lat": maxy,
             "centroid_lon": centre.x, "centroid_lat": centre.y}
        )  # fmt: skip
    return rows, problems


def write_grids(session: Session, branch_id: int, rows: list[dict]) -> tuple[int, int]:
    """Insert or update the grids by branch and code; return (inserted, updated)."""
    saved = save(session, GRIDS, [{"branch_id": branch_id, **r} for r in rows])
    return saved.inserted, saved.updated
