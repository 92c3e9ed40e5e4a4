"""Importing grid polygons from a GeoJSON FeatureCollection (WGS84 lon/lat).

A city has a few thousand grids at most, so the file is read whole. Problems name the feature
by its position in the collection (1 = the first feature) and the property at fault.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Grid
from app.models.enums import GridStatus
from app.services.importer.store import Target, save, table_of
from app.services.importer.values import clean, parse_text, split_list
from app.services.messages import Message

GRIDS = Target(table_of(Grid), ("branch_id", "code"), "code", versioned=True)
# Feature number, property, message (a Message for the file as a whole).
FeatureProblem = tuple[int | None, str | None, str | Message]
# Grids tile a city without overlap; an overlap above this share of the smaller grid's area is
# a drawing error, below it the rounding of a shared border.
OVERLAP_TOLERANCE = 0.01
TEXT_PROPERTIES = ("code", "name", "district")


def _communities(value: object) -> list[str]:
    """Return the community and street names: a JSON list, or names joined by 、 ; or ,."""
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        cleaned = clean(item) if isinstance(item, str) else item
        if cleaned is not None:
            names.extend(n for n in split_list(cleaned) if n not in names)
    return names


def _load(path: Path) -> tuple[list | None, FeatureProblem | None]:
    """Return the features of the file, or what is wrong with it as a whole."""
    data = path.read_bytes()
    if not data.strip():
        return None, (None, None, Message("file.empty"))
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None, (None, None, Message("geojson.not_text"))
    except json.JSONDecodeError as exc:
        return None, (None, None, Message(
            "geojson.invalid", problem=exc.msg, line=exc.lineno, column=exc.colno
        ))  # fmt: skip
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        return None, (None, None, Message("geojson.not_collection"))
    features = doc.get("features")
    if not isinstance(features, list):
        return None, (None, None, Message("geojson.no_features"))
    return features, None


def existing_grids(session: Session, branch_id: int) -> dict[str, str]:
    """Return {code: GeoJSON geometry} of the branch's grids in use, to check overlaps against."""
    stmt = select(Grid.code, Grid.geometry).where(
        Grid.branch_id == branch_id, Grid.status != GridStatus.RETIRED
    )
    return {code: geometry for code, geometry in session.execute(stmt)}


def read_grids(
    path: Path, existing: Mapping[str, str] | None = None
) -> tuple[list[dict], list[FeatureProblem]]:
    """Return the grid rows of a GeoJSON file and the problems found in it, overlaps with
    ``existing`` grids ({code: GeoJSON geometry} of the branch) among them."""
    features, whole = _load(path)
    if features is None:
        return [], [whole] if whole else []
    rows: list[dict] = []
    problems: list[FeatureProblem] = []
    seen: dict[str, int] = {}
    shapes: list[tuple[int, str, Any]] = []
    for n, feature in enumerate(features, start=1):
        row, geom, found = _feature(n, feature)
        problems.extend(found)
        code = row["code"] if row else _code_of(feature)
        if code is not None:
            if code in seen:
                problems.append((n, "code", f"'{code}' appears again (first in feature {seen[code]})"))  # fmt: skip
            seen.setdefault(code, n)
        if row is not None and geom is not None:
            rows.append(row)
            shapes.append((n, row["code"], geom))
    problems.extend(overlaps(shapes, existing or {}))
    problems.sort(key=lambda p: p[0] or 0)
    return rows, problems


def _code_of(feature: object) -> str | None:
    """Return the code of a feature that was refused, to find codes given twice."""
    props = feature.get("properties") if isinstance(feature, dict) else None
    value = clean(props.get("code")) if isinstance(props, dict) else None
    return parse_text(value) if isinstance(value, (str, int, float)) else None


def _feature(n: int, feature: object) -> tuple[dict | None, Any, list[FeatureProblem]]:
    """Return the row and shape of one feature, or None and what is wrong with it."""
    if not isinstance(feature, dict):
        return None, None, [(n, None, "is not a GeoJSON feature")]
    props = feature.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        msg = 'is not an object: write "properties": {"code": …, "name": …}'
        return None, None, [(n, "properties", msg)]
    texts, problems = _texts(n, props)
    raw = feature.get("geometry")
    geom, geometry_problem = _geometry(raw)
    if geometry_problem:
        problems.append((n, "geometry", geometry_problem))
    if problems or texts["code"] is None or texts["name"] is None:
        return None, None, problems
    centre = geom.centroid
    minx, miny, maxx, maxy = geom.bounds
    row = {"code": texts["code"], "name": texts["name"], "district": texts["district"],
           "geometry": json.dumps(raw, ensure_ascii=False, separators=(",", ":")),
           "communities": json.dumps(_communities(props.get("communities")), ensure_ascii=False),
           "min_lon": minx, "min_lat": miny, "max_lon": maxx, "max_lat": maxy,
           "centroid_lon": centre.x, "centroid_lat": centre.y}  # fmt: skip
    return row, geom, []


def _texts(n: int, props: dict) -> tuple[dict[str, str | None], list[FeatureProblem]]:
    """Return the code, name and district of a feature, and what is wrong with them."""
    texts: dict[str, str | None] = {}
    problems: list[FeatureProblem] = []
    for prop in TEXT_PROPERTIES:
        value = clean(props.get(prop))
        texts[prop] = None
        if value is None:
            if prop != "district":
                problems.append((n, prop, "is required but empty"))
        elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
            problems.append((n, prop, f"is not text but {type(value).__name__}"))
        elif len(text := parse_text(value)) > (longest := getattr(Grid, prop).type.length):
            problems.append((n, prop, f"is longer than the {longest} characters that fit"))
        else:
            texts[prop] = text
    return texts, problems


def _geometry(raw: object) -> tuple[Any, str | None]:
    """Return the shape of a feature's geometry, or None and what is wrong with it."""
    import shapely
    from shapely.geometry import shape

    open_ring = _unclosed_ring(raw)
    if open_ring:
        return None, open_ring
    try:
        geom = shape(raw) if isinstance(raw, dict) else None
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:  # fmt: skip
        return None, f"cannot be read: {exc}"
    if geom is None or geom.is_empty:
        return None, "is missing or empty"
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None, f"is a {geom.geom_type}, not a Polygon or MultiPolygon"
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return None, ("has coordinates outside longitude -180..180 / latitude -90..90 "
                      "(the file must be WGS84 lon/lat)")  # fmt: skip
    if not geom.is_valid:
        return None, f"is not a valid polygon: {shapely.is_valid_reason(geom)}"
    return geom, None


def _unclosed_ring(raw: object) -> str | None:
    """Return which ring of a Polygon or MultiPolygon does not end where it starts (shapely
    would close it silently, drawing an edge nobody drew). A malformed geometry is left to
    shapely to describe."""
    if not isinstance(raw, dict) or not isinstance(raw.get("coordinates"), list):
        return None
    if raw.get("type") == "Polygon":
        polygons = [raw["coordinates"]]
    elif raw.get("type") == "MultiPolygon":
        polygons = raw["coordinates"]
    else:
        return None
    for p, rings in enumerate(polygons, start=1):
        for r, ring in enumerate(rings if isinstance(rings, list) else [], start=1):
            if isinstance(ring, list) and len(ring) > 1 and ring[0] != ring[-1]:
                where = f"ring {r}" + (f" of polygon {p}" if len(polygons) > 1 else "")
                return f"{where} is not closed: its last position must repeat its first"
    return None


def overlaps(new: list[tuple[int, str, Any]], existing: Mapping[str, str]) -> list[FeatureProblem]:
    """Return a problem for every grid of the file overlapping an earlier one of the file, or a
    grid already in the branch that the file does not redraw, by more than the tolerance."""
    import shapely
    from shapely import STRtree

    redrawn = {code for _, code, _ in new}
    kept = [(None, code, _shape(g)) for code, g in existing.items() if code not in redrawn]
    items = [(n, code, g) for n, code, g in kept if g is not None] + new
    tree = STRtree([g for _, _, g in items])
    problems: list[FeatureProblem] = []
    for j in range(len(items) - len(new), len(items)):
        n, code, geom = items[j]
        for i in sorted(int(i) for i in tree.query(geom, predicate="intersects")):
            if i >= j:
                continue  # each pair once, reported on the later feature
            other_n, other, shape_ = items[i]
            try:
                share = geom.intersection(shape_).area / min(geom.area, shape_.area)
            except (shapely.errors.GEOSException, ZeroDivisionError):
                continue
            if share > OVERLAP_TOLERANCE:
                where = f"feature {other_n}" if other_n else "already in this branch"
                problems.append((n, "geometry", f"grid {code} overlaps grid {other} ({where}) by {share:.0%} of the smaller grid: grids must not overlap"))  # fmt: skip
    return problems


def _shape(geometry: str) -> Any:
    """Return the shape of a stored grid (made valid), or None if it cannot be read."""
    import shapely
    from shapely.geometry import shape

    try:
        geom = shape(json.loads(geometry))
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException):
        return None
    return geom if geom.is_valid else shapely.make_valid(geom)


def write_grids(session: Session, branch_id: int, rows: list[dict]) -> tuple[int, int]:
    """Insert or update the grids by branch and code; return (inserted, updated)."""
    saved = save(session, GRIDS, [{"branch_id": branch_id, **r} for r in rows])
    return saved.inserted, saved.updated
