"""The grid map drawn on a matplotlib Axes, for when the embedded browser cannot start."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PatchCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path
from matplotlib.ticker import PercentFormatter

from app.services.mapping.data import MapData
from app.services.mapping.measures import FEW_FILL, NO_DATA, OUTLINE, colour_grids

SELECTED_EDGE = "#0b5cd5"


def draw_grid_map(
    ax: Axes,
    data: MapData,
    *,
    measure: str,
    lang: str = "zh_CN",
    points: bool = True,
    selected_grid: str | None = None,
) -> dict[PathPatch, str]:
    """Draw the grids coloured by ``measure`` (with a colour bar or legend) and the customers
    on ``ax``; return each grid's patch mapped to its code, for picking."""
    colouring = colour_grids(data, measure=measure, lang=lang)
    artists: dict[PathPatch, str] = {}
    outlines = []
    for g in data.grids:
        path = geometry_path(g.geometry)
        if path is None:
            continue
        # Fills under the customers, outlines over them (one collection), so both stay legible.
        patch = PathPatch(path, facecolor=colouring.fills[g.code], edgecolor="none", zorder=1)
        ax.add_patch(patch)
        artists[patch] = g.code
        outlines.append(
            PathPatch(
                path,
                facecolor="none",
                edgecolor=SELECTED_EDGE if g.code == selected_grid else OUTLINE,
                linewidth=2.2 if g.code == selected_grid else 0.4,
            )
        )
    ax.add_collection(PatchCollection(outlines, match_original=True, zorder=3))

    if points and data.points:
        lons = [p[0] for p in data.points]
        lats = [p[1] for p in data.points]
        colours = ["#b2182b" if p[2] is None else "#24425f" for p in data.points]
        size = 0.4 if len(data.points) > 5_000 else 2.0
        ax.scatter(
            lons, lats, s=size, c=colours, alpha=0.5, linewidths=0, rasterized=True, zorder=2
        )

    bounds = data.bounds()
    if bounds is not None:
        x0, y0, x1, y1 = bounds
        pad_x, pad_y = (x1 - x0) * 0.02 or 0.01, (y1 - y0) * 0.02 or 0.01
        ax.set_xlim(x0 - pad_x, x1 + pad_x)
        ax.set_ylim(y0 - pad_y, y1 + pad_y)
        # Degrees of longitude shrink with latitude: keep the city's shape.
        ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_axis_off()
    _legend(ax, colouring.legend)
    return artists


def geometry_path(geometry: Mapping[str, Any]) -> Path | None:
    """Return a Polygon or MultiPolygon (GeoJSON) as one compound path, holes included."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    polygons = coords if kind == "MultiPolygon" else [coords] if kind == "Polygon" else []
    vertices: list[tuple[float, float]] = []
    codes: list[Any] = []
    for polygon in polygons:
        for ring in polygon:
            if len(ring) < 3:
                continue
            pts = [(float(p[0]), float(p[1])) for p in ring]
            vertices += pts + [pts[0]]
            codes += [Path.MOVETO] + [Path.LINETO] * (len(pts) - 1) + [Path.CLOSEPOLY]
    return Path(vertices, codes) if vertices else None


def _legend(ax: Axes, legend: Any) -> None:
    handles = []
    if legend.kind == "gradient":
        cmap = LinearSegmentedColormap.from_list("measure", list(legend.colours))
        mappable = ScalarMappable(norm=Normalize(legend.vmin, legend.vmax), cmap=cmap)
        # Beside the map itself (an inset follows the map's box), which stays centred.
        bar = ax.figure.colorbar(mappable, cax=ax.inset_axes((1.02, 0.2, 0.025, 0.6)))
        bar.set_label(legend.title)
        if legend.percent:
            bar.formatter = PercentFormatter(1.0, decimals=0)
            bar.update_ticks()
        if legend.no_data:
            handles.append(Patch(facecolor=NO_DATA, edgecolor=OUTLINE, label=legend.no_data))
        if legend.few:
            handles.append(Patch(facecolor=FEW_FILL, edgecolor=OUTLINE, label=legend.few))
        title = None
    else:
        handles = [
            Patch(facecolor=c, edgecolor=OUTLINE, label=label)
            for c, label in zip(legend.colours, legend.labels, strict=True)
        ]
        title = legend.title
    if handles:
        ax.legend(handles=handles, title=title, loc="lower right", fontsize=8, framealpha=0.9)
    if legend.notes:
        ax.text(
            0.01,
            0.01,
            "\n".join(legend.notes),
            transform=ax.transAxes,
            fontsize=9,
            va="bottom",
            ha="left",
            color="#444444",
        )
