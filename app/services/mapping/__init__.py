"""The grid map: what it shows (``load_map_data``), the offline HTML page (``build_map_html``)
and a matplotlib drawing of the same grids for when the embedded browser cannot start
(``draw_grid_map``). No Qt here.

The page and its host
---------------------
The HTML loads only the files shipped in ``resources/web`` (Leaflet and
``griddesk/griddesk-map.js``): by file URL for the page the app writes to a temporary file and
opens with ``QWebEngineView.load()`` (``setHtml`` is capped at 2 MB), or embedded for an exported
standalone file. Without tiles the grids are drawn on a plain light background.

Two window functions connect the page to whoever shows it:

``window.griddeskSelect(code)``
    Called, when defined, after the user clicks a grid. If the page finds
    ``qt.webChannelTransport`` and ``QWebChannel`` (the app injects Qt's
    ``qrc:///qtwebchannel/qwebchannel.js``), it sets this to call the slot ``gridClicked(code)``
    of the QObject registered on the channel as ``"bridge"``.
``window.griddeskHighlight(code)``
    Defined by the page: outlines the grid and pans to it (zooming out if it does not fit);
    returns whether the grid is on the map; a falsy code clears the selection. Call it from
    Python with ``page.runJavaScript("window.griddeskHighlight && window.griddeskHighlight(...)")``.

Exported pages work in any browser with neither function wired to anything.

The app's page changes in place rather than being loaded again (a big city's page takes a
third of a second to parse, and the browser keeps an old page's memory for a while); the
scripts come from ``mapping.html``:

``restyle_script``
    Another measure: the grids' fills and the legend (``griddesk.restyle``).
``grids_script``
    The map read again after a change: the grids and legend (``griddesk.setGrids``).
``customers_script``
    The customers, read while the browser draws the grids of a page built with
    ``points_later=True``, or again after a change (``griddesk.setCustomers``): packed int32
    coordinates drawn on one canvas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.services.mapping.data import (
    GridRow,
    MapData,
    Points,
    grid_persistency_13,
    load_map_data,
    load_map_points,
    persistency_year,
)
from app.services.mapping.measures import MEASURES, Colouring, Legend, colour_grids, labels

if TYPE_CHECKING:
    from app.services.mapping.fallback import draw_grid_map
    from app.services.mapping.html import build_map_html

__all__ = [
    "MEASURES",
    "Colouring",
    "GridRow",
    "Legend",
    "MapData",
    "Points",
    "build_map_html",
    "colour_grids",
    "draw_grid_map",
    "grid_persistency_13",
    "labels",
    "load_map_data",
    "load_map_points",
    "persistency_year",
]


def __getattr__(name: str) -> Any:
    # folium and matplotlib take ~0.3-0.4 s each to import: load them when a map is drawn.
    if name == "build_map_html":
        from app.services.mapping.html import build_map_html

        return build_map_html
    if name == "draw_grid_map":
        from app.services.mapping.fallback import draw_grid_map

        return draw_grid_map
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
