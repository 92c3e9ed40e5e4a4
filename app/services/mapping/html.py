"""The grid map as one folium HTML page that needs no network.

folium takes ~0.4 s to import: the package imports this module on first use only."""

from __future__ import annotations

import html
import json
from typing import Any, Literal

import folium
from branca.element import Figure
from folium.elements import MacroElement
from folium.map import Layer
from folium.template import Template

from app.services.fonts import cjk_font_path
from app.services.mapping.assets import head_html
from app.services.mapping.data import MapData
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

AssetMode = Literal["relative", "inline"]

# Above this many customers, points are grouped into clusters: one canvas circle per customer
# stays fluid to ~30k (0.7 s painted), past that the page slows down.
CLUSTER_ABOVE = 30_000
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
) -> str:
    """Return a complete HTML page drawing the grids coloured by ``measure``, with a legend,
    tooltips and the customers as points, loading Leaflet from resources/web.

    ``asset_mode="relative"`` links the bundled files by file URL (for a page written to a file
    and loaded by the app); ``"inline"`` embeds them (for a standalone exported file). With
    ``tiles=True`` an OpenStreetMap layer is offered as well; offline it simply stays empty.
    """
    colouring = colour_grids(data, measure=measure, lang=lang)
    t = labels(lang)
    cluster = len(data.points) > CLUSTER_ABOVE

    bounds = data.bounds()
    centre = [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2] if bounds else [0.0, 0.0]
    m = folium.Map(
        location=centre,
        zoom_start=12,
        tiles=None,
        control_scale=False,  # folium's shows miles too: a metric one is added below
        # folium passes min/max zoom to its tile layer only; markercluster needs the map's.
        minZoom=MIN_ZOOM,
        maxZoom=MAX_ZOOM,
    )
    # Only what resources/web ships: no jQuery, Bootstrap or awesome-markers from CDNs.
    m.default_js = []
    m.default_css = []
    figure = m.get_root()
    assert isinstance(figure, Figure)
    # The bundled Leaflet, inline or linked, as it is: a Jinja raw block, since folium renders
    # an Element's text as a template and the inlined scripts hold "{{".
    font = cjk_font_path() if asset_mode == "relative" else None
    head = head_html(mode=asset_mode, cluster=cluster, cjk_font=font)
    if "{% endraw %}" in head:  # pragma: no cover - not in Leaflet's source
        raise ValueError("the bundled map assets cannot be placed in the page")
    figure.header.add_child(
        folium.Element("{% raw %}" + head + "{% endraw %}"), name="griddesk_assets"
    )

    if tiles:
        folium.TileLayer(
            tiles=OSM_TILES,
            attr=OSM_ATTRIBUTION,
            name=t["tiles_layer"],
            max_zoom=MAX_ZOOM,
            # A tick box, so it can be switched off; tiles stay under the grids either way.
            overlay=True,
            control=True,
        ).add_to(m)

    folium.GeoJson(
        _feature_collection(data, colouring, lang=lang),
        name=t["grids_layer"],
        overlay=True,
        control=True,
        on_each_feature=folium.JsCode(
            "function (feature, layer) { griddesk.register(feature, layer); }"
        ),
    ).add_to(m)

    if data.points:
        _CustomerLayer(data, name=t["customers_layer"], cluster=cluster).add_to(m)

    folium.LayerControl(collapsed=True).add_to(m)
    fit = [[bounds[1], bounds[0]], [bounds[3], bounds[2]]] if bounds else None
    _Init(
        map_name=m.get_name(),
        legend=legend_html(colouring.legend),
        selected=selected_grid,
        bounds=fit,
    ).add_to(m)

    return figure.render()


def _feature_collection(data: MapData, colouring: Colouring, *, lang: str) -> dict[str, Any]:
    features = []
    for g in data.grids:
        style = {
            "fillColor": colouring.fills[g.code],
            "fillOpacity": 0.62,
            "color": OUTLINE,
            "weight": 1,
            "opacity": 0.9,
        }
        features.append(
            {
                "type": "Feature",
                "geometry": _rounded(g.geometry),
                "properties": {
                    "code": g.code,
                    "style": style,
                    "tip": _tooltip(tooltip_lines(g, lang=lang)),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


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


def _point_arrays(data: MapData) -> tuple[str, list[int]]:
    """Return the points as a flat JS integer array [lat, lon, ...] and the indices in no grid."""
    flat = []
    unmatched = []
    for i, (lon, lat, code) in enumerate(data.points):
        flat.append(str(round(lat * POINT_SCALE)))
        flat.append(str(round(lon * POINT_SCALE)))
        if code is None:
            unmatched.append(i)
    return "[" + ",".join(flat) + "]", unmatched


class _CustomerLayer(Layer):
    """The customers as canvas circles, clustered when there are many (griddesk.customers)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = griddesk.customers({{ this.points }}, {{ this.js_options }});
        {% endmacro %}
        """
    )

    def __init__(self, data: MapData, *, name: str, cluster: bool) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self.points, unmatched = _point_arrays(data)
        self.js_options = _js_json(
            {"cluster": cluster, "scale": POINT_SCALE, "unmatched": unmatched}
        )


class _Init(MacroElement):
    """Starts griddesk.init (fit to the grids, legend, first selection, Qt bridge) once the
    layers exist."""

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
        bounds: list[list[float]] | None,
    ) -> None:
        super().__init__()
        self.map_name = map_name
        self.js_options = _js_json({"legend": legend, "selected": selected, "bounds": bounds})
