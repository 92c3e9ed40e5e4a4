"""One selection per window: what one page picks reaches every page, a page built later too,
and each filter it sets shows as a chip that clears it everywhere."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.views.selection import Picked, Selection
from app.views.table_models import ROW_ROLE


def _owned_grids(qtbot, w):
    """Return the map page and its grids that have an owner, once the map has loaded."""
    page = w.show_page("map")
    qtbot.waitUntil(lambda: page._data is not None, timeout=10000)
    return page, [g for g in page._data.grids if g.owner_employee_no]


def _task_grids(tasks) -> set[str]:
    return {tasks.model.row_at(i).grid_code for i in range(min(50, tasks.model.rowCount()))}


def _wait_task_grids(qtbot, tasks, expected) -> None:
    """Wait until the tasks shown (the first 50) lie in the grids ``expected`` says: a set, or
    a test of the set. The table keeps the old rows until the new ones arrive."""
    check = expected if callable(expected) else (lambda grids: grids == expected)
    qtbot.waitUntil(lambda: tasks.model.rowCount() > 0 and check(_task_grids(tasks)), timeout=10000)


def _roster_rows(roster):
    return [roster.proxy.index(i, 0).data(ROW_ROLE) for i in range(roster.proxy.rowCount())]


def test_the_selection_announces_each_change_once_and_keeps_one_choice_of_people(qtbot):
    sel = Selection()
    with qtbot.waitSignal(sel.changed, timeout=1000) as blocker:
        sel.set_grid("CH004")
    assert blocker.args == [Picked(grid="CH004")]
    with qtbot.assertNotEmitted(sel.changed):
        sel.set_grid("CH004")  # the same again: nothing to follow
    sel.set_team(3)
    sel.set_specialist(7)  # a specialist replaces the team, the grid stays
    assert sel.current() == Picked(grid="CH004", specialist_id=7)
    sel.set_team(2)
    assert sel.current() == Picked(grid="CH004", team_id=2)
    sel.clear("grid")
    assert sel.current() == Picked(team_id=2)
    sel.clear()
    assert not sel.current()


def test_a_grid_picked_before_the_pages_were_built_is_applied_when_they_are_shown(window, qtbot):
    w = window
    map_page, grids = _owned_grids(qtbot, w)
    grid = grids[0]
    map_page.pick_grid(grid.code)
    built = {key for key, _page in w.pages.built()}
    assert not {"roster", "tasks", "rebalance"} & built  # nobody was there to hear it

    roster = w.show_page("roster")
    qtbot.waitUntil(lambda: roster.model.rowCount() > 0, timeout=10000)
    rows = _roster_rows(roster)
    assert len(rows) == 1 and grid.code in rows[0].grid_codes
    assert rows[0].employee_no == grid.owner_employee_no
    assert roster.selected() == rows[0]  # the owner is the row selected
    chip = roster.chips.chip("grid")
    assert chip.isVisible() and grid.code in chip.text()
    assert f"1 of {roster.model.rowCount()} specialists" in roster.status.text()

    tasks = w.show_page("tasks")
    _wait_task_grids(qtbot, tasks, {grid.code})
    assert tasks.grid_chip.isVisible() and grid.code in tasks.grid_chip.text()

    rebalance = w.show_page("rebalance")
    assert rebalance.map.selected == grid.code  # outlined on the plan's map

    assert map_page.chips.chip("grid").isVisibleTo(map_page)


def test_clearing_the_chip_on_one_page_clears_the_filter_on_every_page(window, qtbot):
    w = window
    map_page, grids = _owned_grids(qtbot, w)
    grid = grids[0]
    map_page.pick_grid(grid.code)
    roster = w.show_page("roster")
    qtbot.waitUntil(lambda: roster.model.rowCount() > 0, timeout=10000)
    tasks = w.show_page("tasks")
    _wait_task_grids(qtbot, tasks, {grid.code})

    w.show_page("roster")
    with qtbot.waitSignal(w.selection.changed, timeout=5000):
        qtbot.mouseClick(roster.chips.chip("grid"), Qt.MouseButton.LeftButton)

    assert w.selection.current().grid == ""
    assert roster.proxy.rowCount() == roster.model.rowCount() > 1
    assert not roster.chips.chip("grid").isVisibleTo(roster)
    assert not tasks.grid_chip.isVisibleTo(tasks)
    _wait_task_grids(qtbot, tasks, lambda grids: len(grids) > 1)  # every grid's again
    assert not map_page.chips.chip("grid").isVisibleTo(map_page)


def test_picking_another_grid_replaces_the_first(window, qtbot):
    w = window
    map_page, grids = _owned_grids(qtbot, w)
    first = grids[0]
    second = next(g for g in grids if g.owner_employee_no != first.owner_employee_no)
    map_page.pick_grid(first.code)
    roster = w.show_page("roster")
    qtbot.waitUntil(lambda: roster.model.rowCount() > 0, timeout=10000)
    tasks = w.pages["tasks"]
    tasks.activate()
    _wait_task_grids(qtbot, tasks, {first.code})

    map_page.pick_grid(second.code)
    rows = _roster_rows(roster)
    assert [r.employee_no for r in rows] == [second.owner_employee_no]
    assert second.code in roster.chips.chip("grid").text()
    assert first.code not in roster.chips.chip("grid").text()
    _wait_task_grids(qtbot, tasks, {second.code})
    assert second.code in tasks.grid_chip.text()


def test_show_tasks_on_the_roster_selects_the_specialist_for_the_tasks_page(window, qtbot):
    w = window
    roster = w.show_page("roster")
    qtbot.waitUntil(lambda: roster.model.rowCount() > 0, timeout=10000)
    assert not roster.tasks_button.isEnabled()
    roster.table.selectRow(0)
    assert w.selection.current().specialist_id is None  # a row selected is the page's own
    row = roster.selected()
    roster.tasks_button.click()

    tasks = w.stack.currentWidget()
    assert tasks is w.pages["tasks"]
    assert tasks.scope.currentData() == ("specialist", row.specialist_id)
    chip = tasks.chips.chip("specialist")
    assert chip.isVisible() and row.name in chip.text()
    qtbot.waitUntil(lambda: tasks.model.rowCount() > 0, timeout=10000)
    assert {tasks.model.row_at(i).specialist_name for i in range(tasks.model.rowCount())} == {
        row.name
    }

    chip.click()  # everyone again
    assert tasks.scope.currentData() is None
    assert not chip.isVisible()


def test_a_team_chosen_in_the_tasks_scope_filters_the_roster_with_a_chip(window, qtbot):
    w = window
    tasks = w.show_page("tasks")
    team_row = next(
        i for i in range(tasks.scope.count()) if (tasks.scope.itemData(i) or ("",))[0] == "team"
    )
    tasks.scope.setCurrentIndex(team_row)
    team_id = tasks.scope.currentData()[1]
    assert w.selection.current().team_id == team_id
    assert tasks.chips.chip("team").isVisible()

    roster = w.show_page("roster")
    qtbot.waitUntil(lambda: roster.model.rowCount() > 0, timeout=10000)
    assert roster.team.currentData() == team_id
    assert {r.team_id for r in _roster_rows(roster)} == {team_id}
    roster.chips.chip("team").click()
    assert roster.team.currentData() is None
    assert tasks.scope.currentData() is None  # cleared on the Tasks page too
