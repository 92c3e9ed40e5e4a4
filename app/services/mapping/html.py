"""The grid map as one folium HTML page that needs no network.

folium takes ~0.4 s to import: the package imports this module on first use only."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterator
from typing import Any, Literal

import folium
import numpy as np
from branca.element import Element, Figure
from folium.elements import MacroElement
from folium.map import Layer
from folium.template import Template

from app.services.mapping.assets import head_html
from app.services.mapping.data import NO_POINTS, MapData, Points
from app.services.mapping.measures import (
    FEW_FILL,
    NO_DATA,
    OUTLINE,
    Colouring,
    Legend,
    colour_grids,
    labels,
    tooltip_lines,
)
from app.services.render.fonts import cjk_font_path

AssetMode = Literal["relative", "inline"]

MAX_ZOOM = 18
MIN_ZOOM = 8
# Coordinates are written as integers of 1e-5 degree (about one metre).
POINT_SCALE = 100_000
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'


def build_map_html(
    data: MapData,
    *,
    measure: str,
    lang: str = "zh_CN",
    asset_mode: AssetMode = "relative",
    tiles: bool = False,
    selected_grid: str | None = None,
    points_later: bool = False,
) -> str:
    """Return a complete HTML page drawing the grids coloured by ``measure``, with a legend,
    tooltips and the customers as points, loading Leaflet from resources/web.

    ``asset_mode="relative"`` links the bundled files by file URL (for a page written to a file
    and loaded by the app); ``"inline"`` embeds them (for a standalone exported file). With
    ``tiles=True`` an OpenStreetMap layer is offered as well; offline it simply stays empty.
    ``points_later=True`` leaves the customers' layer empty, to be filled by running
    :func:`customers_script` once the page is shown (the app reads the customers while the
    browser draws the grids).
    """
    colouring = colour_grids(data, measure=measure, lang=lang)
    t = labels(lang)

    bounds = data.bounds()
    centre = [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2] if bounds else [0.0, 0.0]
    m = folium.Map(
        location=centre,
        zoom_start=12,
        tiles=None,
        control_scale=False,  # folium's shows miles too: a metric one is added below
        # folium passes min/max zoom to its tile layer only: the map's own bounds the zoom.
        minZoom=MIN_ZOOM,
        maxZoom=MAX_ZOOM,
    )
    # Only what resources/web ships: no jQuery, Bootstrap or awesome-markers from CDNs.
    m.default_js = []
    m.default_css = []
    figure = m.get_root()
    assert isinstance(figure, Figure)
    # The bundled Leaflet, inline or linked, then the grids and customers as data, placed as
    # they are (see _Verbatim).
    font = cjk_font_path() if asset_mode == "relative" else None
    figure.header.add_child(
        _Verbatim(head_html(mode=asset_mode, cjk_font=font)), name="griddesk_assets"
    )
    packed, matched = _packed_points(NO_POINTS if points_later else data.points)
    figure.header.add_child(
        _Verbatim(
            "<script>var griddeskData = {"
            f'"grids":{_feature_collection_json(data, colouring, lang=lang)},'
            f'"customers":"{packed}"'
            "};</script>"
        ),
        name="griddesk_data",
    )

    fit = [[bounds[1], bounds[0]], [bounds[3], bounds[2]]] if bounds else None
    if fit:
        # Before any layer: drawn once at the view they are shown at (fitting afterwards
        # projected and drew a big city's grids twice, 0.1 s).
        _Fit(map_name=m.get_name(), bounds=fit).add_to(m)

    if tiles:
        folium.TileLayer(
            tiles=OSM_TILES,
            attr=OSM_ATTRIBUTION,
            name=t["map_tiles_layer"],
            max_zoom=MAX_ZOOM,
            # A tick box, so it can be switched off; tiles stay under the grids either way.
            overlay=True,
            control=True,
        ).add_to(m)

    _Grids(name=t["map_grids_layer"]).add_to(m)
    if len(data.points) or points_later:
        _CustomerLayer(name=t["map_customers_layer"], unmatched_from=matched).add_to(m)

    folium.LayerControl(collapsed=True).add_to(m)
    _Init(
        map_name=m.get_name(), legend=legend_html(colouring.legend), selected=selected_grid
    ).add_to(m)

    return figure.render()


def _feature_collection_json(data: MapData, colouring: Colouring, *, lang: str) -> str:
    """Return the grids as a GeoJSON FeatureCollection, as JavaScript: a feature at a time, since
    one dump of a big city's 3 MB holds the interpreter (and the window with it) for ~0.1 s."""
    features = ",".join(_js_json(f) for f in _features(data, colouring, lang=lang))
    return '{"type":"FeatureCollection","features":[' + features + "]}"


def _features(data: MapData, colouring: Colouring, *, lang: str) -> Iterator[dict[str, Any]]:
    for g in data.grids:
        style = {
            "fillColor": colouring.fills[g.code],
            "fillOpacity": 0.62,
            "color": OUTLINE,
            "weight": 1,
            "opacity": 0.9,
        }
        yield {
            "type": "Feature",
            "geometry": _rounded(g.geometry),
            "properties": {
                "code": g.code,
                "style": style,
                "tip": _tooltip(tooltip_lines(g, lang=lang)),
            },
        }


def _rounded(geometry: Any) -> dict[str, Any]:
    """Return the geometry with coordinates rounded to 1e-6 degree (0.1 m) to keep pages small."""

    def walk(c: Any) -> Any:
        if c and isinstance(c[0], (int, float)):
            return [round(float(v), 6) for v in c]
        return [walk(x) for x in c]

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def _tooltip(lines: list[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in lines)
    return f"<table>{rows}</table>"


def legend_html(legend: Legend) -> str:
    """Return the legend box's inner HTML."""
    parts = [f'<div class="title">{html.escape(legend.title)}</div>']
    if legend.kind == "gradient":
        stops = ", ".join(legend.colours)
        parts.append(
            f'<div class="bar" style="background: linear-gradient(to right, {stops})"></div>'
        )
        low, high = legend.labels
        parts.append(
            f'<div class="ends"><span>{html.escape(low)}</span><span>{html.escape(high)}</span></div>'
        )
        if legend.no_data:
            parts.append(_swatch(NO_DATA, legend.no_data))
        if legend.few:
            parts.append(_swatch(FEW_FILL, legend.few))
    else:
        parts += [_swatch(c, label) for c, label in zip(legend.colours, legend.labels, strict=True)]
    parts += [f'<div class="note">{html.escape(n)}</div>' for n in legend.notes]
    return "".join(parts)


def _swatch(colour: str, label: str) -> str:
    return (
        f'<div><span class="swatch" style="background:{colour}"></span>{html.escape(label)}</div>'
    )


def _js_json(value: Any) -> str:
    """Return ``value`` as a JavaScript literal safe inside a <script> element."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def restyle_script(data: MapData, *, measure: str, lang: str = "zh_CN") -> str:
    """Return the JavaScript that colours a page already showing ``data`` by ``measure``
    (fills and legend) in place: what the app runs when only the measure changes."""
    colouring = colour_grids(data, measure=measure, lang=lang)
    fills = {g.code: colouring.fills[g.code] for g in data.grids}
    return f"griddesk.restyle({_js_json(fills)}, {_js_json(legend_html(colouring.legend))})"


def grids_script(data: MapData, *, measure: str, lang: str = "zh_CN") -> str:
    """Return the JavaScript that shows ``data``'s grids, coloured by ``measure``, with their
    legend, in a page already showing a map (the map read again after a change); its
    customers follow with :func:`customers_script`."""
    colouring = colour_grids(data, measure=measure, lang=lang)
    grids = _feature_collection_json(data, colouring, lang=lang)
    return f"griddesk.setGrids({grids}, {_js_json(legend_html(colouring.legend))})"


def customers_script(points: Points) -> str:
    """Return the JavaScript that draws ``points`` as the customers of a page built with
    ``points_later=True`` (or replaces the customers it shows)."""
    packed, matched = _packed_points(points)
    return f'griddesk.setCustomers("{packed}", {matched})'


def _packed_points(points: Points) -> tuple[str, int]:
    """Return the points as base64 of little-endian int32 [lat, lon, ...] in 1e-5 degree, those
    in a grid first, and the index the points in no grid start at."""
    order = np.argsort(points.in_no_grid, kind="stable")
    pairs = np.empty((len(points), 2), dtype="<i4")
    pairs[:, 0] = np.rint(points.lat[order] * POINT_SCALE)
    pairs[:, 1] = np.rint(points.lon[order] * POINT_SCALE)
    matched = int(np.count_nonzero(~points.in_no_grid))
    return base64.b64encode(pairs.tobytes()).decode("ascii"), matched


class _Verbatim(Element):
    """Text placed in the page as it is. branca compiles an Element's text as a Jinja template,
    and a macro's output once more: for a big city's 5 MB of grids and customers that took
    0.4 s, and Leaflet's source inlined holds "{{"."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class _Grids(Layer):
    """The grids (griddeskData.grids), each styled as its properties say and registered with
    griddesk for tooltips, clicks and highlighting."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = griddesk.grids(griddeskData.grids);
        {% endmacro %}
        """
    )

    def __init__(self, *, name: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)


class _CustomerLayer(Layer):
    """The customers (griddeskData.customers) as dots on one canvas (griddesk.customers)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = griddesk.customers(griddeskData.customers, {{ this.js_options }});
        {% endmacro %}
        """
    )

    def __init__(self, *, name: str, unmatched_from: int) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self.js_options = _js_json({"scale": POINT_SCALE, "unmatchedFrom": unmatched_from})


class _Fit(MacroElement):
    """Fits the map's view to the grids (not animated: a zoom animation still running would
    swallow the first highlight)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.map_name }}.fitBounds({{ this.bounds }}, {padding: [10, 10], animate: false});
        {% endmacro %}
        """
    )

    def __init__(self, *, map_name: str, bounds: list[list[float]]) -> None:
        super().__init__()
        self.map_name = map_name
        self.bounds = _js_json(bounds)


class _Init(MacroElement):
    """Starts griddesk.init (legend, first selection, Qt bridge) once the layers exist."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false}).addTo({{ this.map_name }});
        griddesk.init({{ this.map_name }}, {{ this.js_options }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        *,
        map_name: str,
        legend: str,
        selected: str | None,
    ) -> None:
        super().__init__()
        self.map_name = map_name
        self.js_options = _js_json({"legend": legend, "selected": selected})
