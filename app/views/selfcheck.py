"""The window half of ``griddesk selfcheck``: the main window opens, the map page draws its
grids with the Leaflet shipped in resources/web, and a chart saves as a PNG with its Chinese
labels in a real font. Each step raises on failure; the command prints the verdict."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path


class CheckFailed(RuntimeError):
    pass


def _wait(app, until: Callable[[], object], timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        value = until()
        if value:
            return value
        time.sleep(0.02)
    raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}")


def _run_js(app, page, script: str, timeout: float):
    result: list = []
    page.runJavaScript(script, 0, result.append)
    _wait(app, lambda: bool(result), timeout, "the map page to answer")
    return result[0]


def check_window(url: str, login: str, password: str, *, out: Path, timeout: float) -> dict:
    """Open the main window on ``url`` signed in as ``login``; return what was proved."""
    from app.views.environment import prepare_environment, webengine_available

    started = time.monotonic()
    prepare_environment()
    if not webengine_available():
        raise CheckFailed("QtWebEngine cannot be imported")
    import shiboken6
    from PySide6.QtWidgets import QApplication

    from app.opening import open_database
    from app.paths import WEB
    from app.services.people.auth import authenticate
    from app.views.calendar import today
    from app.views.context import AppContext
    from app.views.fonts import install_cjk_font
    from app.views.i18n import install_translators
    from app.views.main_window import MainWindow
    from app.views.operations import BackgroundRunner

    app = QApplication.instance() or QApplication(["griddesk"])
    # Kept on the app so they live as long as it; QApplication declares no such attribute.
    app._selfcheck_tr = install_translators(app, "zh_CN")  # type: ignore[attr-defined]
    cjk_font = install_cjk_font()
    if cjk_font is None:
        raise CheckFailed("no font for Chinese text")
    # The one opener the app and every command use (an existing file only, migrated).
    Session = open_database(url, writes=True).Session  # noqa: N806
    if Session is None:
        raise CheckFailed("the self-check signs in on a database it connects to itself")
    with Session() as s, s.begin():
        user = authenticate(s, login, password)
    ctx = AppContext(
        Session=Session, user=user, runner=BackgroundRunner(app), db_label=url, as_of=today()
    )
    window = MainWindow(ctx)
    window.resize(1440, 900)
    window.show()
    try:
        _wait(
            app,
            lambda: window.windowHandle() and window.windowHandle().isExposed(),
            timeout,
            "the main window to show",
        )
        shown = time.monotonic() - started
        result = {"window": {"shown_after_s": round(shown, 2), "font": cjk_font}}
        result["map"] = _check_map(app, window, WEB, timeout)
        _screenshot(app, window, out / "window-map.png")
        result["chart"] = _check_chart(app, window, out / "chart.png", timeout)
        result["guide"] = check_guide()
        result["licences"] = check_licences()
        return result
    finally:
        # The page must go before the browser profile does, or the process crashes on exit.
        window.close()
        shiboken6.delete(window)
        app.processEvents()


def check_licences() -> dict:
    """Help ▸ About shows the licence of every bundled part, and the charts' CJK font is there:
    each part's licence text can be read."""
    from app.licences import bundled_parts
    from app.services.render.fonts import cjk_font_path

    found = {}
    for part in bundled_parts():
        try:
            found[part.name] = len(part.text())
        except OSError as exc:
            raise CheckFailed(f"the licence of {part.name} is missing: {exc}") from None
    if cjk_font_path() is None:
        raise CheckFailed("the bundled CJK font is missing: Chinese would draw as boxes")
    return found


def check_guide() -> dict:
    """Help ▸ User guide opens the guide in the user's language: both guides are there, with
    every picture they show."""
    import re

    from app.licences import user_guide

    found = {}
    for language in ("zh_CN", "en"):
        path = user_guide(language)
        if not path.is_file():
            raise CheckFailed(f"the user guide is missing: {path.name}")
        pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", path.read_text(encoding="utf-8"))
        missing = [p for p in pictures if not (path.parent / p).is_file()]
        if missing:
            raise CheckFailed(f"{path.name} shows pictures that are not there: {missing[:3]}")
        found[path.name] = len(pictures)
    return found


def _check_map(app, window, web_folder: Path, timeout: float) -> dict:
    page = window.show_page("map")
    if page.web is None:
        raise CheckFailed("the embedded browser did not start (the map fell back to matplotlib)")
    _wait(
        app,
        lambda: page.web.url().isLocalFile() and page.status.text() == "",
        timeout,
        "the map page to load",
    )
    web = page.web.page()
    version = _run_js(app, web, "typeof L === 'object' ? L.version : 'no Leaflet'", timeout)
    if not isinstance(version, str) or not version[:1].isdigit():
        raise CheckFailed(f"Leaflet did not load in the map page: {version}")
    source = _run_js(
        app,
        web,
        "(document.querySelector('script[src*=\"leaflet.js\"]') || {}).src || ''",
        timeout,
    )
    if not source.startswith(web_folder.as_uri()):
        raise CheckFailed(f"Leaflet came from {source!r}, not the bundled {web_folder}")
    # Every grid is a Leaflet vector path: wait until the polygons are on the page.
    grids = _wait(
        app,
        lambda: _run_js(
            app, web, "document.querySelectorAll('path.leaflet-interactive').length", timeout
        ),
        timeout,
        "the grids to be drawn",
    )
    return {"leaflet": version, "grids_drawn": int(grids)}


def _screenshot(app, window, path: Path) -> None:
    # On a real (or virtual) X screen, what the screen shows, the web view's pixels included.
    if app.platformName() == "xcb":
        window.screen().grabWindow(window.winId()).save(str(path))
    else:
        window.grab().save(str(path))


def _check_chart(app, window, path: Path, timeout: float) -> dict:
    from PySide6.QtGui import QImage

    page = window.show_page("charts")
    _wait(
        app,
        lambda: bool(page.figure.axes) and page.figure.axes[0].has_data(),
        timeout,
        "the chart to draw",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        saved = page.save_png(str(path))
    missing = sorted({str(w.message) for w in caught if "missing from" in str(w.message)})
    if saved is None or not path.is_file():
        raise CheckFailed("the chart was not saved")
    if missing:
        raise CheckFailed(f"the chart's Chinese labels have no font: {missing[0]}")
    image = QImage(str(path))
    if image.isNull() or image.width() < 600:
        raise CheckFailed("the chart PNG cannot be read back")
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    if len(colours) < 5:
        raise CheckFailed("the chart PNG is blank")
    return {"png": f"{image.width()}x{image.height()}", "title": page.chart.currentText()}
