"""What changed reaches every page as one typed value (Changes), and a page reads again only
what a change touched."""

from __future__ import annotations

import pytest

from app.services.changes import SOME, Changes, combined
from app.views.main_window import MainWindow
from app.views.pages import PageWidget


@pytest.fixture
def window(qtbot, make_ctx):
    w = MainWindow(make_ctx("senior"))
    qtbot.addWidget(w)
    w.show()
    return w


def test_a_page_reads_again_only_what_a_change_touched(window, qtbot):
    charts = window.show_page("charts")
    qtbot.waitUntil(lambda: charts.status.text() == "", timeout=10000)
    scorecard = window.show_page("scorecard")
    qtbot.waitUntil(lambda: scorecard.card is not None, timeout=10000)
    # New scorecard standards: the scorecard reads again, the charts do not.
    with (
        qtbot.waitSignal(scorecard.loaded, timeout=10000),
        qtbot.assertNotEmitted(charts.drawn, wait=300),
    ):
        window.data_changed.emit(Changes(settings=True))
    # A plan scheduled for later changes no figure yet: nobody reads again.
    with (
        qtbot.assertNotEmitted(scorecard.loaded, wait=300),
        qtbot.assertNotEmitted(charts.drawn, wait=300),
    ):
        window.data_changed.emit(Changes(plans=True))
    # Customers moved: both.
    with (
        qtbot.waitSignal(scorecard.loaded, timeout=10000),
        qtbot.waitSignal(charts.drawn, timeout=10000),
    ):
        window.data_changed.emit(Changes(customers=SOME))


def test_every_page_is_wired_the_same_way(window):
    for key in window.pages:
        page = window.pages[key]
        assert isinstance(page, PageWidget), key
        assert type(page).on_changes is not PageWidget.on_changes, key  # each says what it reads


def test_changes_say_what_they_touched_and_add_up():
    assert not Changes().touches("customers", "grids", "tasks", "specialists", "settings")
    assert Changes(customers=SOME).touches("customers")
    assert Changes(tasks=frozenset({3})).touches("grids", "tasks")
    both = combined([Changes(customers=frozenset({1}), batch_id=7), Changes(grids=SOME)])
    assert both.customers == frozenset({1}) and both.grids is SOME and both.batch_id == 7
