"""Editing a rebalancing plan on the map, on the small demo branch: click, Shift-click and a
drawn lasso pick grids (synthesised matplotlib mouse events at the grids' centroids), the menu
gives them to a specialist, the moves table, workloads and trade-off follow, and the apply
writes exactly those moves. A supervisor picks and gives only inside their own team."""

from __future__ import annotations

import pytest
from matplotlib.backend_bases import KeyEvent, MouseEvent
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select, update

from app.models import Grid, Specialist
from app.views.main_window import MainWindow
from app.views.rebalance_models import GRID, TO


@pytest.fixture
def open_page(qtbot, make_ctx):
    def open_as(login: str = "senior"):
        ctx = make_ctx(login)
        w = MainWindow(ctx)
        qtbot.addWidget(w)
        w.show()
        page = w.show_page("rebalance")
        page.max_moves.setValue(3)
        with qtbot.waitSignal(page.proposed, timeout=30000):
            page.propose()
        # The grids' workloads under the plan's rules are read in the background.
        qtbot.waitUntil(lambda: page.map_editor.offers() is not None, timeout=10000)
        assert page.map.shapes
        page.map.canvas.draw()  # the axes take their final place (the map keeps its aspect)
        return w, page

    return open_as


def _mouse(page, name: str, point, *, button: int = 1, key: str | None = None) -> None:
    """Send the map a matplotlib mouse event at a map point (lon, lat)."""
    canvas, ax = page.map.canvas, page.map.axes
    x, y = ax.transData.transform(point)
    event = MouseEvent(name, canvas, x, y, button=button, key=key)
    canvas.callbacks.process(name, event)


def _click(page, point, *, key=None, button=1) -> None:
    _mouse(page, "button_press_event", point, button=button, key=key)
    _mouse(page, "button_release_event", point, button=button, key=key)


def _drag(page, outline) -> None:
    _mouse(page, "button_press_event", outline[0])
    for p in outline[1:]:
        _mouse(page, "motion_notify_event", p)
    _mouse(page, "button_release_event", outline[-1])


def _centroids(page) -> dict[str, tuple[float, float]]:
    return {g.code: g.centroid for g in page.map.shapes}


def _free_grids(page, team: str | None = None) -> list[str]:
    """Grids of the plan's scope the plan leaves alone, their centroid inside them."""
    plan, offers = page.plan(), page.map_editor.offers()
    moved = {m.grid_code for m in plan.moves}
    teams = {s.employee_no: s.team_code for s in plan.specialists}
    at = page.map.picker.at
    return [
        c
        for c, o in sorted(offers.items())
        if c not in moved
        and not o.locked
        and o.customers
        and (team is None or teams[o.owner_no] == team)
        and at(*_centroids(page)[c]) == c
    ]


def _box(qtbot, widget) -> QMessageBox:
    def shown():
        return [b for b in widget.findChildren(QMessageBox) if b.isVisible()]

    qtbot.waitUntil(lambda: bool(shown()), timeout=10000)
    return shown()[-1]


def test_click_shift_click_escape_and_lasso_pick_grids(open_page):
    _w, page = open_page()
    selector, label = page.map_editor.selector, page.map_editor.label
    a, b = _free_grids(page)[:2]
    where = _centroids(page)
    _click(page, where[a])
    assert selector.selected == (a,)
    customers = page.map_editor.offers()[a].customers
    assert label.text() == f"1 grid selected · {customers:,} customers"
    _click(page, where[b], key="shift")
    assert selector.selected == (a, b)
    assert "2 grids selected" in label.text()
    _click(page, where[a], key="control")
    assert selector.selected == (b,)
    _click(page, where[a])  # a plain click picks that grid alone
    assert selector.selected == (a,)
    x0, x1 = page.map.axes.get_xlim()
    y0, y1 = page.map.axes.get_ylim()
    corner = (x0 + (x1 - x0) * 0.005, y0 + (y1 - y0) * 0.005)
    assert page.map.picker.at(*corner) is None
    _click(page, corner)  # the map's margin, outside every grid
    assert selector.selected == ()
    _click(page, where[b])
    page.map.canvas.callbacks.process(
        "key_press_event", KeyEvent("key_press_event", page.map.canvas, "escape")
    )
    assert selector.selected == ()

    # A lasso round the middle of the map takes every grid whose centroid it encloses.
    cx, cy, dx, dy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 5, (y1 - y0) / 5
    outline = [(cx - dx, cy - dy), (cx + dx, cy - dy), (cx + dx, cy + dy), (cx - dx, cy + dy)]
    _drag(page, outline)
    expected = [c for c in page.map.picker.enclosed(outline) if page.map_editor.reason(c) is None]
    assert len(expected) >= 2 and list(selector.selected) == expected
    assert page.map.lasso and page.map.picked == tuple(expected)
    total = sum(page.map_editor.offers()[c].customers for c in expected)
    assert label.text() == f"{len(expected)} grids selected · {total:,} customers"


def test_giving_grids_redirects_and_adds_moves_and_the_apply_writes_them(open_page, qtbot, demo_db):
    w, page = open_page()
    plan = page.plan()
    moved = next(m for m in plan.moves if m.kind == "grid")
    team = plan.specialist(moved.from_no).team_code
    free = _free_grids(page, team)[0]
    where = _centroids(page)
    _click(page, where[moved.grid_code])
    _click(page, where[free], key="shift")
    assert page.map_editor.give_button.isEnabled()
    owner = page.map_editor.offers()[free].owner_no
    menu = page.map_editor.target_menu()
    offered = {a.data() for a in menu.actions() if a.data()}
    assert {moved.from_no, owner} <= offered
    target = next(
        s.employee_no
        for s in sorted(plan.specialists, key=lambda s: plan.loads_after()[s.employee_no])
        if s.employee_no not in (moved.from_no, moved.to_no, owner)
    )
    with qtbot.waitSignal(page.moves.edited):
        next(a for a in menu.actions() if a.data() == target).trigger()

    edited = page.plan()
    table = page.moves
    rows = {table.index(r, GRID).data(): r for r in range(table.rowCount())}
    assert set(rows) >= {moved.grid_code, free}
    assert table.index(rows[moved.grid_code], TO).data(0x02) == target  # EditRole
    assert table.index(rows[free], TO).data(0x02) == target
    assert rows[free] == table.rowCount() - 1  # added at the end
    assert {(m.grid_code, m.to_no) for m in edited.moves} >= {
        (moved.grid_code, target),
        (free, target),
    }
    added = next(m for m in edited.moves if m.grid_code == free)
    assert added.load == pytest.approx(page.map_editor.offers()[free].load)
    after = {r.employee_no: r.load_after for r in page.workloads.rows()}
    assert after == pytest.approx(edited.loads_after())
    assert str(len(edited.moves)) in page.summary.text()
    # Off the frontier now: the trade-off chart marks the edited plan apart.
    assert page.frontier.edited_position() == pytest.approx((edited.disruption, edited.after_max))

    # Giving the added grid back to its owner drops its move again.
    page.map_editor.selector.select([free])
    page.map_editor.give_to(owner)
    assert free not in {m.grid_code for m in page.plan().moves}
    page.map_editor.selector.select([free])
    page.map_editor.give_to(target)

    page.apply()
    box = _box(qtbot, page)
    with qtbot.waitSignal(w.data_changed, timeout=30000):
        box.button(QMessageBox.StandardButton.Yes).click()
    with demo_db() as s:
        ids = dict(s.execute(select(Specialist.employee_no, Specialist.id)).all())
        owners = dict(s.execute(select(Grid.code, Grid.owner_id)).all())
    for m in page.plan().moves:
        assert owners[m.grid_code] == ids[m.to_no]
    assert owners[free] == owners[moved.grid_code] == ids[target]


def test_an_added_grid_changed_meanwhile_refuses_the_apply(open_page, qtbot, demo_db):
    _w, page = open_page()
    plan = page.plan()
    team = plan.specialist(plan.moves[0].from_no).team_code
    free = _free_grids(page, team)[0]
    owner = page.map_editor.offers()[free].owner_no
    other = next(s.employee_no for s in plan.specialists if s.employee_no != owner)
    page.map_editor.selector.select([free])
    page.map_editor.give_to(other)
    with demo_db() as s, s.begin():
        someone = s.scalar(select(Specialist.id).where(Specialist.employee_no == other))
        s.execute(
            update(Grid).where(Grid.code == free).values(owner_id=someone, version=Grid.version + 1)
        )
        before = dict(s.execute(select(Grid.code, Grid.owner_id)).all())
    page.apply()
    _box(qtbot, page).button(QMessageBox.StandardButton.Yes).click()
    refusal = _box(qtbot, page)
    assert "nothing was written" in refusal.text() and free in refusal.text()
    refusal.accept()
    with demo_db() as s:
        assert dict(s.execute(select(Grid.code, Grid.owner_id)).all()) == before


def test_a_supervisor_picks_and_gives_only_inside_their_team(open_page):
    _w, page = open_page("supervisor")
    plan = page.plan()
    assert plan.scope  # their own team
    outside = [g for g in page.map.shapes if g.team_code and g.team_code not in plan.scope]
    assert outside
    g = next(g for g in outside if page.map.picker.at(*g.centroid) == g.code)
    assert page.map_editor.reason(g.code) == "Outside this plan's teams"
    _click(page, g.centroid)
    assert page.map_editor.selector.selected == ()
    free = _free_grids(page)[0]
    _click(page, _centroids(page)[free])
    assert page.map_editor.selector.selected == (free,)
    menu = page.map_editor.target_menu()
    offered = {a.data() for a in menu.actions() if a.data()}
    teams = {s.employee_no: s.team_code for s in plan.specialists}
    assert offered and {teams[no] for no in offered} == set(plan.scope)
    # Right-clicking a grid picks it (when it is not picked yet) and opens the same menu.
    _mouse(page, "button_press_event", _centroids(page)[_free_grids(page)[1]], button=3)
    assert page.map_editor.menu.isVisible()
    page.map_editor.menu.hide()
