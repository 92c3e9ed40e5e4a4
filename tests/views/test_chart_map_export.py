"""A chart saved as PNG and the grid map saved as one offline HTML file."""

from __future__ import annotations

import re
import struct
import warnings
from html.parser import HTMLParser

from PySide6.QtCore import Qt
from sqlalchemy import select

from app.models import Grid
from app.views.i18n import install_translators


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_chart_saves_as_png_at_150_dpi_with_chinese_labels(open_window, qtbot, tmp_path, qapp):
    out = tmp_path / "out"
    out.mkdir()
    translators = install_translators(qapp, "zh_CN")
    try:
        w = open_window("senior")
        page = w.show_page("charts")
        qtbot.waitUntil(lambda: bool(page.figure.axes), timeout=10000)
        assert page.save.text() == "图表另存为 PNG…"
        assert page.canvas.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
        assert page.save_action in page.canvas.actions()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            saved = page.save_png(str(out / "趋势.png"))
        assert saved == str(out / "趋势.png")
        missing = [str(m.message) for m in caught if "missing from" in str(m.message)]
        assert missing == []  # every Chinese glyph found a font
    finally:
        for t in translators:
            qapp.removeTranslator(t)
    width, height = _png_size(out / "趋势.png")
    fig_w, fig_h = page.figure.get_size_inches()
    assert abs(width - fig_w * 150) <= 1 and abs(height - fig_h * 150) <= 1  # at 150 dpi
    assert width >= 1000 and height >= 600
    assert [p.name for p in out.iterdir()] == ["趋势.png"]  # no temporary file left


class _Fetches(HTMLParser):
    """Collects every URL the page would load by itself: src, href of stylesheets, poster."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name in ("src", "poster", "data"):
            if a.get(name):
                self.urls.append(a[name])
        if tag == "link" and a.get("href"):
            self.urls.append(a["href"])


def test_map_saves_as_one_offline_html_file_with_every_grid(open_window, qtbot, tmp_path, demo_db):
    w = open_window("senior")
    page = w.show_page("map")
    qtbot.waitUntil(page.save_button.isEnabled, timeout=20000)
    page.measure.setCurrentIndex(page.measure.findData("open_tasks"))
    out = tmp_path / "out"
    out.mkdir()
    target = out / "map.html"
    with qtbot.waitSignal(page.saved, timeout=60000) as blocker:
        page.save_html(str(target))
    assert blocker.args == [str(target)]
    html = target.read_text(encoding="utf-8")

    fetches = _Fetches()
    fetches.feed(html)
    remote = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
    assert not [u for u in fetches.urls if remote.match(u)]
    assert not [u for u in fetches.urls if u.startswith("file:")]  # nothing of this machine
    css_urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", html)
    assert not [u for u in css_urls if remote.match(u) or u.startswith("file:")]
    assert "{z}/{x}/{y}" not in html  # no tile layer
    assert "Leaflet 1.9.4" in html  # Leaflet itself is inside

    with demo_db() as s:
        codes = set(s.scalars(select(Grid.code)))
    assert codes and all(code in html for code in codes)
    assert [p.name for p in out.iterdir()] == ["map.html"]


def test_only_the_trend_compares_teams(open_window, qtbot):
    """The funnel, activity and equity charts have no per-team drawing: "Compare teams" is
    not offered there, and choosing one of them while it was selected shows the whole
    branch, never the branch's figures under a per-team label."""
    w = open_window("senior")
    page = w.show_page("charts")
    row = page.scope.findData("by_team")
    assert row >= 0
    page.chart.setCurrentIndex(page.chart.findData("trend"))
    page.scope.setCurrentIndex(row)
    qtbot.waitUntil(lambda: page.status.text() == "", timeout=10000)
    assert page.scope.model().item(row).isEnabled()
    for key in ("funnel", "activity", "equity"):
        with qtbot.waitSignal(page.drawn, timeout=10000):
            page.chart.setCurrentIndex(page.chart.findData(key))
        assert page.scope.currentData() is None  # the whole branch
        assert not page.scope.model().item(row).isEnabled()
    page.chart.setCurrentIndex(page.chart.findData("trend"))
    assert page.scope.model().item(row).isEnabled()


def test_the_funnel_opens_on_a_cohort_old_enough_to_judge(open_window, qtbot):
    """By default the funnel shows the newest month whose customers have all had time for
    the later steps, with no 'too young' note; a younger one carries the note."""
    from app.services.metrics.funnel import YOUNG_COHORT_DAYS, cohort_age_days
    from app.services.periods import Period

    w = open_window("senior")
    page = w.show_page("charts")
    with qtbot.waitSignal(page.drawn, timeout=10000):
        page.chart.setCurrentIndex(page.chart.findData("funnel"))
    cohort = Period.parse(page.cohort.currentData())
    assert cohort_age_days(cohort, w.ctx.as_of)[0] >= YOUNG_COHORT_DAYS
    newer = Period.parse(page.cohort.itemData(page.cohort.currentIndex() - 1))
    assert cohort_age_days(newer, w.ctx.as_of)[0] < YOUNG_COHORT_DAYS
    assert page._young_cohort_note() == ""
    with qtbot.waitSignal(page.drawn, timeout=10000):
        page.cohort.setCurrentIndex(0)  # this month
    assert page._young_cohort_note() in [t.get_text() for t in page.figure.axes[0].texts]


def test_persistency_by_days_to_first_contact_draws_each_band_with_its_policies(open_window, qtbot):
    """One bar per first-contact delay band, as high as the band's persistency, topped by its
    rate and policy count as the service computes them."""
    from app.services.metrics.handoff import persistency_by_contact_band
    from app.services.people.roster import trailing_year

    w = open_window("senior")
    page = w.show_page("charts")
    qtbot.waitUntil(lambda: bool(page.figure.axes), timeout=10000)
    with qtbot.waitSignal(page.drawn, timeout=10000):
        page.chart.setCurrentIndex(page.chart.findData("handoff"))
    assert page.month.isVisible()
    with w.ctx.Session() as s:
        rows = persistency_by_contact_band(
            s, period=trailing_year(w.ctx.as_of), as_of=w.ctx.as_of, branch_id=w.ctx.user.branch_id
        )
    assert sum(r.policies for r in rows) > 0
    (ax,) = page.figure.axes
    heights = [round(bar.get_height(), 4) for bar in ax.patches]
    assert heights == [float(r.persistency_premium or 0) for r in rows]
    notes = [t.get_text() for t in ax.texts]
    for r, note in zip(rows, notes, strict=True):
        assert f"{r.policies:,} policies" in note
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "never contacted"


def test_the_trend_shows_its_95_percent_range_when_asked_and_only_on_the_trend(open_window, qtbot):
    from matplotlib.collections import PolyCollection

    def bands():
        (ax,) = page.figure.axes
        return [c for c in ax.collections if isinstance(c, PolyCollection)]

    w = open_window("senior")
    page = w.show_page("charts")
    with qtbot.waitSignal(page.drawn, timeout=10000):
        page.chart.setCurrentIndex(page.chart.findData("trend"))
    assert page.band.isVisible() and not page.band.isChecked()
    assert bands() == []
    with qtbot.waitSignal(page.drawn, timeout=10000):
        page.band.setChecked(True)  # redrawn from the data it has, no new reading
    assert len(bands()) == 1
    legend = [t.get_text() for t in page.figure.axes[0].get_legend().get_texts()]
    assert "95% range (Wilson)" in legend
    with qtbot.waitSignal(page.drawn, timeout=10000):
        page.chart.setCurrentIndex(page.chart.findData("funnel"))
    assert not page.band.isVisible()
