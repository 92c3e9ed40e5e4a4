"""The customers' dots in the real embedded browser (QtWebEngine, offscreen): a big city's
customers are drawn on one canvas, each where it lives, those in no grid in red, and the
drawing follows the map when it zooms."""

from __future__ import annotations

import json
from datetime import date

import pytest
import shiboken6

from app.services.mapping import GridRow, MapData, Points, build_map_html

pytest.importorskip("PySide6.QtWebEngineWidgets", reason="QtWebEngine is not installed")

MATCHED = (0x24, 0x42, 0x5F)
UNMATCHED = (0xB2, 0x18, 0x2B)


def _square(x: float, y: float, d: float) -> dict:
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def _city(n: int) -> tuple[MapData, tuple[float, float], tuple[float, float]]:
    """One grid with ``n`` customers spread over its west half, and one pool customer in no
    grid alone in the east: return the map, a customer in the grid and the one in no grid."""
    side = int(n**0.5) + 1
    rows = [
        (104.0 + (k % side) * 0.05 / side, 30.6 + (k // side) * 0.1 / side, "G1")
        for k in range(n - 1)
    ]
    alone = (104.08, 30.65)
    rows.append((*alone, None))
    grid = GridRow(code="G1", name="一", district=None, geometry=_square(104.0, 30.6, 0.1))
    data = MapData(grids=(grid,), points=Points.from_rows(rows), as_of=date(2026, 11, 20))
    return data, rows[0][:2], alone


@pytest.fixture
def browser(qtbot, tmp_path):
    from PySide6.QtWebEngineWidgets import QWebEngineView

    view = QWebEngineView()
    view.resize(900, 700)
    view.show()
    yield view
    view.close()
    shiboken6.delete(view)


def _open(qtbot, view, tmp_path, data: MapData) -> None:
    from PySide6.QtCore import QUrl

    path = tmp_path / "map.html"
    path.write_text(build_map_html(data, measure="load", lang="en"), encoding="utf-8")
    with qtbot.waitSignal(view.loadFinished, timeout=30000) as loaded:
        view.load(QUrl.fromLocalFile(str(path)))
    assert loaded.args == [True]


def _js(qtbot, view, script: str):
    result: list = []
    view.page().runJavaScript(script, 0, result.append)
    qtbot.waitUntil(lambda: bool(result), timeout=10000)
    return result[0]


def _pixel(qtbot, view, lon: float, lat: float) -> tuple[int, int, int, int]:
    """Return the customers' canvas pixel (RGBA) where (lon, lat) is drawn."""
    script = f"""(function () {{
        var c = document.querySelector("canvas.griddesk-customers");
        var map = griddesk.map();
        var p = map.latLngToLayerPoint([{lat}, {lon}]);
        var at = L.DomUtil.getPosition(c);
        var r = window.devicePixelRatio || 1;
        var d = c.getContext("2d").getImageData(
            Math.round((p.x - at.x) * r), Math.round((p.y - at.y) * r), 1, 1).data;
        return JSON.stringify([d[0], d[1], d[2], d[3]]);
    }})()"""
    return tuple(json.loads(_js(qtbot, view, script)))


def _is(pixel: tuple[int, int, int, int], colour: tuple[int, int, int]) -> bool:
    """Whether a drawn pixel has this colour (the canvas stores it premultiplied by its
    alpha, so a unit either way is rounding)."""
    *rgb, alpha = pixel
    return alpha > 100 and all(abs(x - y) <= 2 for x, y in zip(rgb, colour, strict=True))


def _drawn(qtbot, view) -> dict:
    return json.loads(
        _js(
            qtbot,
            view,
            "JSON.stringify({n: griddesk.lastCustomers.drawn,"
            " style: griddesk.lastCustomers.style})",
        )
    )


@pytest.mark.parametrize("n, style", [(50_000, "pixels"), (500, "circles")])
def test_every_customer_is_drawn_where_they_live(qtbot, browser, tmp_path, n, style):
    data, inside, alone = _city(n)
    _open(qtbot, browser, tmp_path, data)
    assert _drawn(qtbot, browser) == {"n": n, "style": style}
    assert _is(_pixel(qtbot, browser, *inside), MATCHED)
    assert _is(_pixel(qtbot, browser, *alone), UNMATCHED)
    # Between the customers and the lone one: nothing drawn.
    assert _pixel(qtbot, browser, 104.065, 30.65)[3] == 0


def test_the_dots_follow_the_map_when_it_zooms_in(qtbot, browser, tmp_path):
    data, _inside, alone = _city(50_000)
    _open(qtbot, browser, tmp_path, data)
    _js(
        qtbot,
        browser,
        f"griddesk.map().setView([{alone[1]}, {alone[0]}], 17, {{animate: false}}); 1",
    )
    # Zoomed in on the lone customer: the others are out of view and not drawn.
    qtbot.waitUntil(lambda: _drawn(qtbot, browser)["n"] < 100, timeout=10000)
    assert _drawn(qtbot, browser)["style"] == "circles"
    assert _is(_pixel(qtbot, browser, *alone), UNMATCHED)
