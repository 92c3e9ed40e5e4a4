"""The grid map: folium HTML in an embedded browser (offline), or a matplotlib drawing of the
same polygons when QtWebEngine cannot start. Clicking a grid selects it in the whole window
(the window's Selection); a grid selected elsewhere is outlined here."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QFile,
    QIODevice,
    QObject,
    QTemporaryDir,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from app.services.changes import Changes
from app.services.files.table_file import atomic_file
from app.services.mapping import MEASURES, load_map_data, load_map_points
from app.settings import Preferences
from app.views.chips import SelectionChips
from app.views.context import AppContext
from app.views.errors import show_error
from app.views.i18n import arg, translate
from app.views.pages import PageWidget
from app.views.table_export import default_file_name, save_folder

if TYPE_CHECKING:  # both are imported when the page makes its view (matplotlib is slow to load)
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
    from PySide6.QtWebEngineWidgets import QWebEngineView

    from app.services.mapping import MapData, Points


def measure_titles() -> dict[str, str]:
    return {
        "persistency": translate("MapPage", "13-month persistency"),
        "open_tasks": translate("MapPage", "Open tasks of the owner"),
        "load": translate("MapPage", "Customers against capacity"),
        "coverage": translate("MapPage", "Coverage gaps"),
    }


def _import_map_html(_state) -> None:
    import app.services.mapping.html  # noqa: F401


class MapBridge(QObject):
    """The object the page's JavaScript calls (as ``bridge``) when a grid is clicked."""

    grid_clicked = Signal(str)

    @Slot(str)
    def gridClicked(self, code: str) -> None:  # noqa: N802 - the name the page calls
        self.grid_clicked.emit(code)


class MapPage(PageWidget):
    """Signals: grid_picked(str) when the user clicks a grid (it is then the window's selected
    grid: ctx.selection); loaded() when a map is shown; customers_shown() when the customers
    are drawn into it (after loaded() in the embedded browser);
    saved(str) when the map has been saved as a standalone HTML file (its path)."""

    reads_persistency = True

    grid_picked = Signal(str)
    loaded = Signal()
    customers_shown = Signal()
    saved = Signal(str)

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._loaded = False
        self._data: MapData | None = None
        # What the browser shows: the data, language and tiles of the page loaded last (None
        # while none is), and of the page being loaded. Another measure on the same page is a
        # restyle, new data of the same language and tiles a new set of grids in it.
        self._page_of: tuple[MapData, str, bool] | None = None
        self._loading: tuple[MapData, str, bool] | None = None
        # The customers' points, read after the grids (the browser draws those meanwhile) and
        # put into the page when both are there; each reload is a new generation, so what an
        # older one read is dropped.
        self._points: Points | None = None
        self._generation = 0
        self._reading_points: int | None = None  # the generation whose customers are read
        self._pages_built = 0
        self._built_selected: str | None = None  # the grid the page loading was built with
        self._selected = ctx.selection.current().grid
        self._tmp = QTemporaryDir()
        self.measure = QComboBox()
        self.measure.setObjectName("measure")
        for key in MEASURES:
            self.measure.addItem(measure_titles().get(key, key), key)
        self.status = QLabel()
        self.status.setObjectName("status")
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Colour grids by")))
        top.addWidget(self.measure)
        self.chips = SelectionChips(ctx.selection, ("grid",), parent=self)
        top.addWidget(self.chips)
        top.addStretch(1)
        top.addWidget(self.status)
        self.save_button = QPushButton(self.tr("Save map as HTML…"))
        self.save_button.setObjectName("save_html")
        self.save_button.setToolTip(
            self.tr("One file that opens in any browser, offline, with the colouring shown here")
        )
        self.save_button.setEnabled(False)  # until the grids are loaded
        self.save_button.clicked.connect(lambda: self.save_html())
        top.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)

        # One of the two draws the map: the embedded browser, else the matplotlib canvas.
        self.web: QWebEngineView | None = None
        self.canvas: FigureCanvasQTAgg | None = None
        if ctx.web_available:
            try:
                self._make_web_view()
            except Exception:  # the embedded browser cannot start here: draw with matplotlib
                self.web = None
        if self.web is None:
            self.canvas = self._make_fallback()
            layout.addWidget(self.canvas, 1)
        else:
            layout.addWidget(self.web, 1)
        self.measure.currentIndexChanged.connect(self._redraw)
        ctx.selection.changed.connect(lambda picked: self.follow_grid(picked.grid))

    # --- the two renderers -------------------------------------------------------------------

    def _make_web_view(self) -> None:
        from PySide6.QtWebChannel import QWebChannel
        from PySide6.QtWebEngineCore import QWebEngineScript, QWebEngineSettings
        from PySide6.QtWebEngineWidgets import QWebEngineView

        self.web = web = QWebEngineView(self)
        web.setObjectName("map_view")
        settings = web.settings()
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, True)
        self.bridge = MapBridge(self)
        self.bridge.grid_clicked.connect(self._clicked)
        self.channel = QWebChannel(self)
        self.channel.registerObject("bridge", self.bridge)
        page = web.page()
        page.setWebChannel(self.channel)
        # qwebchannel.js ships inside Qt; inject it so the page needs no copy of its own.
        f = QFile(":/qtwebchannel/qwebchannel.js")
        if f.open(QIODevice.OpenModeFlag.ReadOnly):
            script = QWebEngineScript()
            script.setName("qwebchannel")
            script.setSourceCode(bytes(f.readAll().data()).decode("utf-8"))
            script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
            script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
            page.scripts().insert(script)
            f.close()
        web.loadFinished.connect(self._page_loaded)
        # Start the browser's render process now, while the grids load in the background:
        # the real page then only has to be parsed and drawn.
        web.setHtml("<html><body></body></html>")

    def _make_fallback(self) -> FigureCanvasQTAgg:
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        from app.services.render.fonts import configure_matplotlib

        configure_matplotlib()
        self.figure = Figure(figsize=(8, 6))
        canvas = FigureCanvasQTAgg(self.figure)
        canvas.setObjectName("map_fallback")
        canvas.mpl_connect("pick_event", self._picked)
        return canvas

    # --- loading -----------------------------------------------------------------------------

    def activate(self) -> None:
        if not self._loaded:
            self.reload()

    def reload(self) -> None:
        """Read the grids in the background and draw them; in the embedded browser the
        customers are read while the page loads, and drawn into it (see _push_points)."""
        self._loaded = True
        self._generation += 1
        generation = self._generation
        self._points = None
        self.save_button.setEnabled(False)
        self.status.setText(self.tr("Loading the map…"))
        user, as_of = self.ctx.user, self.ctx.as_of
        web = self.web is not None
        if web:
            # folium takes ~0.5 s to import: on the other core while the grids are read.
            self.ctx.runner.start(
                "map.import", _import_map_html, on_done=lambda _: None, on_error=lambda _: None
            )
        self.ctx.runner.start(
            "map.data",
            self.ctx.read(
                lambda s: load_map_data(
                    s,
                    branch_id=user.branch_id,
                    team_ids=user.team_scope(),
                    as_of=as_of,
                    points=not web,
                )
            ),
            on_done=lambda data: self._have_data(data, generation),
            on_error=self._failed,
        )

    def _have_data(self, data: MapData, generation: int) -> None:
        if generation != self._generation:
            return
        self._data = data
        if self.web is None:
            self._points = data.points
            self.save_button.setEnabled(True)
        self._redraw()

    def _read_points(self) -> None:
        user, generation = self.ctx.user, self._generation
        self._reading_points = generation
        self.ctx.runner.start(
            "map.points",
            self.ctx.read(
                lambda s: load_map_points(s, branch_id=user.branch_id, team_ids=user.team_scope())
            ),
            on_done=lambda points: self._have_points(points, generation),
            on_error=lambda exc: self._points_failed(exc, generation),
        )

    def _points_failed(self, exc: BaseException, generation: int) -> None:
        """The customers could not be read: the page must not go on showing the ones read
        before the change as if they were current."""
        if generation != self._generation:
            return
        self._reading_points = None
        if self.web is not None and self._page_of is not None:
            self.web.page().runJavaScript('window.griddesk && griddesk.setCustomers("", 0)')
        self._failed(exc)

    def _have_points(self, points: Points, generation: int) -> None:
        if generation != self._generation:
            return
        self._points = points
        self.save_button.setEnabled(True)
        self._push_points()

    def _push_points(self) -> None:
        """Draw the customers into the page once both are there."""
        web, data, points = self.web, self._data, self._points
        if web is None or points is None or self._page_of is None or self._page_of[0] is not data:
            return
        from app.services.mapping.html import customers_script

        web.page().runJavaScript(customers_script(points))
        self.status.setText("")
        self.customers_shown.emit()

    def shown_data(self) -> MapData | None:
        """Return what the map shows: the grids and, once read, the customers."""
        if self._data is None or self._points is None or self._data.points is self._points:
            return self._data
        return replace(self._data, points=self._points)

    def current_measure(self) -> str:
        return self.measure.currentData()

    def _redraw(self) -> None:
        if self._data is None:
            return
        web = self.web
        if web is None:
            self._draw_fallback()
            return
        data, measure, selected = self._data, self.current_measure(), self._selected
        lang = "zh_CN" if _chinese_ui() else "en"
        tiles = Preferences().map_tiles
        shown = self._page_of
        if shown is not None and shown[0] is data and shown[1:] == (lang, tiles):
            # Only the measure changed: colour the grids in place, no new page.
            from app.services.mapping.html import restyle_script

            web.page().runJavaScript(restyle_script(data, measure=measure, lang=lang))
            return
        if shown is not None and shown[1:] == (lang, tiles) and shown[0].grids:
            # Read again after a change: the new grids into the page shown. (A page that had
            # no grids was never fitted to any: it is built anew.)
            self._replace_grids(data, measure, lang, tiles)
            return
        # A name of its own per page: a build overtaken by another still writes its file.
        self._pages_built += 1
        target = Path(self._tmp.path()) / f"map_{self._pages_built}_{measure}.html"

        def build(_state):
            from app.services.mapping import build_map_html  # folium: imported on first draw

            html = build_map_html(
                data,
                measure=measure,
                lang=lang,
                asset_mode="relative",
                tiles=tiles,
                selected_grid=selected or None,
                points_later=True,
            )
            target.write_text(html, encoding="utf-8")
            return target

        def show(path: Path) -> None:
            self._page_of, self._loading = None, (data, lang, tiles)
            self._built_selected = selected  # the page outlines it itself as it opens
            web.load(QUrl.fromLocalFile(str(path)))
            if self._points is None and self._reading_points != self._generation:
                # While the browser parses and draws the grids (in its own process).
                self._read_points()

        self.status.setText(self.tr("Drawing…"))
        self.ctx.runner.start("map.html", build, on_done=show, on_error=self._failed)

    def _replace_grids(self, data: MapData, measure: str, lang: str, tiles: bool) -> None:
        """Put new grids into the page shown (the map read again after a change): a new page
        would parse Leaflet and draw everything again, and the browser keeps the old page's
        memory for a while. The customers follow as on a new page."""
        web = self.web
        assert web is not None

        def build(_state) -> str:
            from app.services.mapping.html import grids_script

            return grids_script(data, measure=measure, lang=lang)

        def show(script: str) -> None:
            if self._data is not data:  # read again meanwhile
                return
            web.page().runJavaScript(script)
            self._page_of = (data, lang, tiles)
            self.status.setText(self.tr("Reading the customers…"))
            self.loaded.emit()
            if self._points is None and self._reading_points != self._generation:
                self._read_points()
            else:
                self._push_points()

        self.status.setText(self.tr("Drawing…"))
        self.ctx.runner.start("map.html", build, on_done=show, on_error=self._failed)

    def _page_loaded(self, ok: bool) -> None:
        if self.web is None or not self.web.url().isLocalFile():  # the blank warm-up page
            return
        if self._loading is None:
            # Not a page the app asked for (the browser's own Reload, Back or Forward shows the
            # file as it was built, without what was put into it since): build it anew.
            self._page_of = None
            self._redraw()
            return
        self._page_of, self._loading = (self._loading if ok else None), None
        if not ok:
            self.status.setText(self.tr("The map page could not be shown."))
            return
        self.status.setText("" if self._points is not None else self.tr("Reading the customers…"))
        if self._selected != self._built_selected:
            # A grid picked elsewhere while the page loaded is outlined now.
            self.web.page().runJavaScript(
                f"window.griddeskHighlight && window.griddeskHighlight({json.dumps(self._selected)})"
            )
        self._push_points()
        self.loaded.emit()

    def _draw_fallback(self) -> None:
        from app.services.mapping import draw_grid_map

        data, canvas = self._data, self.canvas
        if data is None or canvas is None:  # called with the data, on the fallback only
            return
        self.figure.clear()
        ax = self.figure.add_subplot()
        lang = "zh_CN" if _chinese_ui() else "en"
        self._artists = draw_grid_map(
            ax,
            data,
            measure=self.current_measure(),
            lang=lang,
            selected_grid=self._selected or None,
        )
        for artist in self._artists:
            artist.set_picker(True)
        canvas.draw_idle()
        self.status.setText(self.tr("Simple map (the embedded browser is not available)"))
        self.loaded.emit()
        self.customers_shown.emit()

    def _failed(self, exc: BaseException) -> None:
        self.status.setText("")
        show_error(self, self.tr("Map"), exc)

    # --- saving ------------------------------------------------------------------------------

    def save_html(self, path: str | None = None) -> str | None:
        """Save the map as shown (measure, scope, selected grid) as one HTML file with Leaflet
        and the data inlined, in the background; asks where when no path is given. Return the
        path, or None when there is nothing to save (yet: the customers are still being read)
        or the user cancelled."""
        shown = self.shown_data()
        if shown is None or self._points is None:
            return None
        if not path:
            title = self.tr("Grid map")
            name = default_file_name(f"{title} {self.measure.currentText()}", ".html")
            path, _ = QFileDialog.getSaveFileName(
                self, self.tr("Save map"), str(save_folder() / name), self.tr("Web page (*.html)")
            )
            if path and not path.lower().endswith((".html", ".htm")):
                path += ".html"
        if not path:
            return None
        data, measure, selected = shown, self.current_measure(), self._selected
        lang = "zh_CN" if _chinese_ui() else "en"
        target = Path(path)

        def build(_state) -> str:
            from app.services.mapping import build_map_html

            # No tile layer: a saved map must not reach for the network when opened.
            html = build_map_html(
                data,
                measure=measure,
                lang=lang,
                asset_mode="inline",
                selected_grid=selected or None,
            )
            with atomic_file(target, binary=True) as f:
                f.write(html.encode("utf-8"))
            return str(target)

        self.ctx.runner.start(
            "map.save",
            build,
            on_done=self._saved,
            on_error=lambda exc: show_error(self, self.tr("Save map"), exc),
            progress_parent=self,
            progress_title=self.tr("Saving the map…"),
        )
        return str(target)

    def _saved(self, path: str) -> None:
        self.status.setText(arg(self.tr("Saved %1"), path))
        self.saved.emit(path)

    # --- selection ---------------------------------------------------------------------------

    def _picked(self, event) -> None:
        code = self._artists.get(event.artist)
        if code:
            # After matplotlib has finished the pick: following it redraws the figure.
            QTimer.singleShot(0, lambda: self._clicked(code))

    def _clicked(self, code: str) -> None:
        if self.web is not None:
            self._selected = code  # the web page outlined it on the click already
        self.ctx.selection.set_grid(code)
        self.grid_picked.emit(code)

    def pick_grid(self, code: str) -> None:
        """Pick grid ``code`` as a click on it does: every page follows."""
        self._clicked(code)

    def follow_grid(self, code: str) -> None:
        """Outline grid ``code`` (the window's selected grid; '' outlines none)."""
        if code == self._selected:
            return
        self._selected = code
        if self.web is None:
            self._redraw()  # the simple map outlines the grid as it draws
        else:
            self.web.page().runJavaScript(
                f"window.griddeskHighlight && window.griddeskHighlight({json.dumps(code)})"
            )

    def on_changes(self, changes: Changes) -> None:
        if self._loaded and changes.touches(
            "customers", "grids", "tasks", "specialists", "derived"
        ):
            self.reload()


def _chinese_ui() -> bool:
    from PySide6.QtCore import QLocale

    return QLocale().language() == QLocale.Language.Chinese
