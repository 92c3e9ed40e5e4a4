"""What changed reaches every page as one typed value (Changes), and a page reads again only
what a change touched."""

from __future__ import annotations

import pytest

from app.services.changes import SOME, Changes, combined
from app.views.pages import PageWidget


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


def test_a_large_change_commits_first_and_the_window_says_its_figures_are_updating(
    window, qtbot, monkeypatch
):
    """A write that leaves its persistency figures to a job after the commit (a 200-grid
    rebalance on a big branch): the window runs that job at once, says above a page reading
    persistency that its figures are updating, and tells the pages when they are current."""
    from sqlalchemy import select, update

    from app.models import Customer, PersistencyBase, Specialist
    from app.services.database import unit_of_work

    monkeypatch.setattr(unit_of_work, "DEFER_FROM", 2)
    ctx = window.ctx
    charts = window.show_page("charts")
    qtbot.waitUntil(lambda: charts.status.text() == "", timeout=10000)
    with ctx.Session() as s:
        ids = s.scalars(
            select(PersistencyBase.customer_id).distinct().order_by(PersistencyBase.customer_id)
        ).all()[:3]
        target = s.scalar(
            select(Specialist.id).where(Specialist.status == "active").order_by(Specialist.id)
        )
    seen: list[tuple[bool, bool, bool]] = []

    def updating(on: bool) -> None:
        with ctx.Session() as s:
            seen.append((on, not window.updating_banner.isHidden(), unit_of_work.pending(s)))

    window.updating_changed.connect(updating)
    heard: list[Changes] = []
    window.data_changed.connect(heard.append)
    move = ctx.write(
        lambda s: s.execute(
            update(Customer).where(Customer.id.in_(ids)).values(specialist_id=target)
        )
    )
    ctx.runner.start("test.move", move, on_done=lambda _r: None, on_error=pytest.fail)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=10000)
    # Updating while the marks were pending, with the banner shown; then current, banner gone.
    assert seen == [(True, True, True), (False, False, False)]
    assert any(c.derived for c in heard)
    # The base rows are what rewriting them from scratch gives.
    from app.services.metrics.base_table import refresh_persistency_base

    def rows(s) -> list[tuple]:
        b = PersistencyBase
        q = select(b.policy_id, b.policy_year, b.specialist_id, b.grid_id)
        return sorted(tuple(r) for r in s.execute(q.where(b.customer_id.in_(ids))))

    with ctx.Session() as s:
        now = rows(s)
        nested = s.begin_nested()
        refresh_persistency_base(s, customer_ids=ids)
        assert rows(s) == now and target in {r[2] for r in now}
        nested.rollback()


def test_the_updating_banner_shows_only_above_pages_that_read_persistency(window, qtbot):
    window.show_page("tasks")
    window._set_updating(True)
    assert window.updating_banner.isHidden()
    window.show_page("charts")
    assert not window.updating_banner.isHidden()
    window._set_updating(False)
    assert window.updating_banner.isHidden()
