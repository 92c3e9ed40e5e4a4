"""The map in the real embedded browser (QtWebEngine, offscreen): the offline page loads and a
click in the page reaches the window through the QWebChannel bridge."""

from __future__ import annotations

import base64
import json
import re

import pytest
import shiboken6

from app.views.main_window import MainWindow

pytest.importorskip("PySide6.QtWebEngineWidgets", reason="QtWebEngine is not installed")


def _run_js(qtbot, page, script: str):
    result: list = []
    page.runJavaScript(script, 0, result.append)
    qtbot.waitUntil(lambda: bool(result), timeout=10000)
    return result[0]


@pytest.fixture
def web_window(make_ctx):
    """The senior supervisor's window with the embedded browser."""
    ctx = make_ctx("senior")
    ctx.web_available = True
    window = MainWindow(ctx)
    window.show()
    yield window
    # The embedded browser's page must go before the browser profile does at exit, or the
    # process crashes on its way out (the app deletes its window when it quits).
    window.close()
    shiboken6.delete(window)


def _shown_map(qtbot, window):
    """Show the map page and return it once its page, customers included, is drawn."""
    page = window.show_page("map")
    qtbot.waitUntil(
        lambda: page.web.url().isLocalFile() and page.status.text() == "", timeout=30000
    )
    return page


def _fills(qtbot, web) -> dict[str, str]:
    """Every grid's fill as drawn: the layers that carry a grid's feature."""
    return json.loads(
        _run_js(
            qtbot,
            web,
            "JSON.stringify(Object.fromEntries(Object.entries(griddesk.map()._layers)"
            ".filter(function (e) { return e[1].feature; })"
            ".map(function (e) { return [e[1].feature.properties.code,"
            " e[1].options.fillColor]; })))",
        )
    )


def _window_lang() -> str:
    """The language the page speaks: the window's (an earlier test may have switched it)."""
    from PySide6.QtCore import QLocale

    return "zh_CN" if QLocale().language() == QLocale.Language.Chinese else "en"


def test_web_map_loads_offline_and_a_click_in_the_page_selects_the_grid(qtbot, web_window):
    _load_and_click(qtbot, web_window)


def _load_and_click(qtbot, window) -> None:
    assert window.show_page("map").web is not None, "the embedded browser did not start"
    page = _shown_map(qtbot, window)

    web = page.web.page()
    # Every grid is on the page, drawn by the Leaflet shipped with the app (no network).
    assert _run_js(qtbot, web, "typeof L === 'object' && L.version") == "1.9.4"
    # The customers, read while the browser drew the grids, are all in the page.
    customers = len(page.shown_data().points)
    assert customers > 100
    assert _run_js(qtbot, web, "griddesk.lastCustomers.size()") == customers
    code = next(g.code for g in page.shown_data().grids if g.owner_employee_no)
    assert _run_js(qtbot, web, f"window.griddeskHighlight({json.dumps(code)})") is True
    qtbot.waitUntil(
        lambda: _run_js(qtbot, web, "typeof window.griddeskSelect") == "function", timeout=10000
    )
    with qtbot.waitSignal(window.selection.changed, timeout=10000):
        web.runJavaScript(f"window.griddeskSelect({json.dumps(code)})")
    assert window.selection.current().grid == code


def test_another_measure_recolours_the_grids_without_loading_the_page_again(qtbot, web_window):
    """Switching what the grids are coloured by repaints them in the page already shown: the
    page is not built and loaded again (a big city's page takes a second and the browser keeps
    the old one's memory for a while), yet every grid and the legend follow the measure."""
    from app.services.mapping import colour_grids

    page = _shown_map(qtbot, web_window)
    web = page.web.page()
    loads: list[bool] = []
    page.web.loadStarted.connect(lambda: loads.append(True))
    url = page.web.url()
    for measure in ("coverage", "load"):
        page.measure.setCurrentIndex(page.measure.findData(measure))
        expected = colour_grids(page.shown_data(), measure=measure, lang=_window_lang())
        assert _fills(qtbot, web) == expected.fills
        legend = _run_js(
            qtbot, web, "document.querySelector('.griddesk-legend .title').textContent"
        )
        assert legend == expected.legend.title
    assert loads == [] and page.web.url() == url


def test_the_map_read_again_after_a_change_is_redrawn_in_the_same_page(qtbot, web_window):
    """After a change the map reads its grids and customers again and puts them into the page
    already shown: no new page is loaded (a big city's takes a third of a second to parse and
    the browser keeps the old one's memory), yet a grid that lost its owner shows as uncovered
    and every customer is still drawn."""
    from sqlalchemy import update

    from app.models import Grid
    from app.services.changes import Changes
    from app.services.mapping.measures import UNCOVERED

    page = _shown_map(qtbot, web_window)
    page.measure.setCurrentIndex(page.measure.findData("coverage"))
    web = page.web.page()
    code = next(g.code for g in page.shown_data().grids if not g.uncovered)
    loads: list[bool] = []
    page.web.loadStarted.connect(lambda: loads.append(True))
    with web_window.ctx.Session() as s, s.begin():
        s.execute(update(Grid).where(Grid.code == code).values(owner_id=None))
    before = page.shown_data()
    page.on_changes(Changes(grids=frozenset({1})))
    qtbot.waitUntil(
        lambda: page.shown_data() is not before and page.status.text() == "", timeout=30000
    )
    assert loads == []
    assert _fills(qtbot, web)[code] == UNCOVERED
    customers = len(page.shown_data().points)
    assert _run_js(qtbot, web, "griddesk.lastCustomers.size()") == customers > 100


def test_the_browsers_own_reload_shows_the_map_as_it_is_now(qtbot, web_window, tmp_path):
    """The page's file holds the map as it was built; the browser's own Reload (its context
    menu) must not bring back an older colouring without customers: the app builds the page
    anew. A map saved from the embedded browser holds its customers too."""
    from PySide6.QtWebEngineCore import QWebEnginePage

    from app.services.mapping import colour_grids

    page = _shown_map(qtbot, web_window)
    page.measure.setCurrentIndex(page.measure.findData("coverage"))
    with qtbot.waitSignal(page.customers_shown, timeout=30000):
        page.web.page().triggerAction(QWebEnginePage.WebAction.Reload)
    web = page.web.page()
    expected = colour_grids(page.shown_data(), measure="coverage", lang=_window_lang())
    assert _fills(qtbot, web) == expected.fills
    customers = len(page.shown_data().points)
    qtbot.waitUntil(
        lambda: _run_js(qtbot, web, "griddesk.lastCustomers.size()") == customers,
        timeout=10000,
    )

    target = tmp_path / "saved.html"
    with qtbot.waitSignal(page.saved, timeout=60000):
        page.save_html(str(target))
    saved = target.read_text(encoding="utf-8")
    packed = re.search(r'"customers":"([A-Za-z0-9+/=]*)"', saved)
    assert packed and len(base64.b64decode(packed.group(1))) == 8 * customers > 0


def test_customers_that_cannot_be_read_again_are_not_left_on_the_map(
    qtbot, web_window, monkeypatch
):
    """After a change the customers are read again; if that fails the user is told, and the
    dots read before the change are taken off rather than shown as if current."""
    from PySide6.QtWidgets import QMessageBox

    from app.services.changes import Changes
    from app.views import map_page

    page = _shown_map(qtbot, web_window)
    web = page.web.page()
    assert _run_js(qtbot, web, "griddesk.lastCustomers.size()") > 100

    def unreadable(*_args, **_kwargs):
        raise OSError("disk I/O error")

    monkeypatch.setattr(map_page, "load_map_points", unreadable)
    page.on_changes(Changes(customers=frozenset({1})))
    qtbot.waitUntil(
        lambda: any(b.isVisible() for b in web_window.findChildren(QMessageBox)), timeout=30000
    )
    qtbot.waitUntil(
        lambda: _run_js(qtbot, web, "griddesk.lastCustomers.size()") == 0, timeout=10000
    )
