"""The real main window, offscreen, on the demo branch: roles, pages, selection, charts."""

from __future__ import annotations

import os
from datetime import date

from PySide6.QtCore import Qt
from sqlalchemy import func, select

from app.models import AssignmentEvent, Task
from app.views.main_window import MainWindow
from app.views.signin import SignInDialog
from app.views.table_models import ROW_ROLE


def _wait_loaded(qtbot, model, minimum=1):
    qtbot.waitUntil(lambda: model.rowCount() >= minimum, timeout=10000)


def test_sign_in_checks_the_password_and_gives_the_role(qtbot, demo_db):
    dialog = SignInDialog(demo_db, db_label="demo")
    qtbot.addWidget(dialog)
    dialog.login.setText("supervisor")
    dialog.password.setText("wrong")
    dialog.try_sign_in()
    assert dialog.user is None
    assert dialog.error.isVisibleTo(dialog) and dialog.error.text()
    dialog.password.setText("demo1234")
    dialog.try_sign_in()
    assert dialog.user is not None and dialog.user.role.value == "supervisor"
    assert dialog.result() == SignInDialog.DialogCode.Accepted


def test_status_bar_shows_the_database_and_the_user(open_window):
    w = open_window("analyst")
    assert "demo.db" in w.db_label.text()
    assert w.ctx.user.display_name in w.user_label.text()


def test_status_bar_names_the_embedded_database_plainly(qtbot, make_ctx):
    from app.db import default_url, redact

    ctx = make_ctx("senior")
    ctx.db_label = redact(default_url())
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    assert w.db_label.text() == "Local database on this computer"
    assert w.db_label.toolTip() == ctx.db_label  # the file itself on hover


def test_every_page_has_a_keyboard_shortcut(open_window):
    w = open_window("senior")
    by_key = {a.shortcut().toString(): a for a in w.actions()}
    # The offscreen platform delivers no shortcut events, so trigger what the key is bound to.
    by_key["Ctrl+3"].trigger()
    assert w.stack.currentWidget() is w.pages["tasks"]
    by_key["Ctrl+2"].trigger()
    assert w.stack.currentWidget() is w.pages["roster"]
    assert {f"Ctrl+{i + 1}" for i in range(len(w.pages))} <= set(by_key)


def test_supervisor_sees_only_own_team_and_analyst_sees_masked_phones(open_window, qtbot):
    sup = open_window("supervisor")
    roster = sup.show_page("roster")
    _wait_loaded(qtbot, roster.model)
    teams = {roster.model.row_at(i).team_id for i in range(roster.model.rowCount())}
    assert teams == set(sup.ctx.user.team_ids)

    analyst = open_window("analyst")
    page = analyst.show_page("roster")
    _wait_loaded(qtbot, page.model)
    phone_col = [c.key for c in page.model.columns].index("phone")
    shown = page.model.index(0, phone_col).data()
    assert "****" in shown
    assert len({page.model.row_at(i).team_id for i in range(page.model.rowCount())}) > 1


def test_roster_filters_by_search_and_team(open_window, qtbot, qtmodeltester):
    w = open_window("senior")
    page = w.show_page("roster")
    _wait_loaded(qtbot, page.model)
    total = page.proxy.rowCount()
    first = page.model.row_at(0)
    qtbot.keyClicks(page.search, first.employee_no)  # QTest types ASCII only
    assert page.proxy.rowCount() == 1 < total
    assert page.proxy.index(0, 0).data() == first.employee_no
    page.search.setText(first.name)
    assert first.name in page.proxy.index(0, 1).data()
    page.search.clear()
    page.team.setCurrentIndex(1)
    team_id = page.team.currentData()
    assert all(
        page.proxy.index(i, 0).data(ROW_ROLE).team_id == team_id
        for i in range(page.proxy.rowCount())
    )
    qtmodeltester.check(page.model, force_py=True)
    qtmodeltester.check(page.proxy, force_py=True)


def test_grid_picked_on_the_map_filters_roster_and_tasks(open_window, qtbot):
    w = open_window("senior")
    map_page = w.show_page("map")
    qtbot.waitUntil(lambda: map_page._data is not None, timeout=10000)
    grid = next(g for g in map_page._data.grids if g.owner_employee_no)
    roster = w.pages["roster"]
    roster.activate()
    _wait_loaded(qtbot, roster.model)
    tasks = w.pages["tasks"]
    tasks.activate()
    with qtbot.waitSignal(w.selection.changed, timeout=5000):
        map_page.pick_grid(grid.code)
    assert roster.proxy.rowCount() == 1
    assert grid.code in roster.proxy.index(0, 0).data(ROW_ROLE).grid_codes
    qtbot.waitUntil(lambda: tasks.model.rowCount() > 0, timeout=10000)
    rows = [tasks.model.row_at(i) for i in range(min(50, tasks.model.rowCount()))]
    assert {r.grid_code for r in rows} == {grid.code}


def test_reassigning_tasks_records_history_and_refreshes(
    open_window, qtbot, qtmodeltester, demo_db
):
    w = open_window("senior")
    page = w.show_page("tasks")
    _wait_loaded(qtbot, page.model)
    qtmodeltester.check(page.model, force_py=True)
    first = page.model.row_at(0)
    target = next(
        s for s in page._specialists if s.status.value == "active" and s.id != first.specialist_id
    )
    with qtbot.waitSignal(w.data_changed, timeout=10000):
        page.reassign([first], target.id)
    with demo_db() as s:
        assert s.get(Task, first.id).specialist_id == target.id
        event = s.scalars(select(AssignmentEvent).where(AssignmentEvent.task_id == first.id)).one()
        assert (event.from_specialist_id, event.to_specialist_id, event.actor) == (
            first.specialist_id,
            target.id,
            "senior",
        )


def test_analyst_cannot_reassign_tasks(open_window):
    w = open_window("analyst")
    page = w.show_page("tasks")
    assert not page.reassign_button.isVisibleTo(page)


def test_overdue_filter_shows_only_overdue_tasks(open_window, qtbot):
    w = open_window("senior")
    page = w.show_page("tasks")
    _wait_loaded(qtbot, page.model)
    page.overdue.setChecked(True)
    qtbot.waitUntil(
        lambda: page.model.rowCount() > 0 and page.model.row_at(0).overdue, timeout=10000
    )
    assert all(page.model.row_at(i).overdue for i in range(min(100, page.model.rowCount())))


def test_chart_redraws_when_another_chart_is_chosen_and_saves_png(open_window, qtbot, tmp_path):
    w = open_window("senior")
    page = w.show_page("charts")
    qtbot.waitUntil(lambda: bool(page.figure.axes), timeout=10000)
    with qtbot.waitSignal(page.drawn, timeout=10000) as blocker:
        page.chart.setCurrentIndex(page.chart.findData("funnel"))
    assert blocker.args == ["funnel"]
    bars = page.figure.axes[0].patches
    assert len(bars) == 4
    out = page.save_png(str(tmp_path / "funnel.png"))
    assert (tmp_path / "funnel.png").stat().st_size > 10_000 and out


def test_column_layouts_saved_by_an_older_version_keep_todays_fixes(qtbot, make_ctx):
    """A header layout saved before (a narrow kind column, a stretched last roster column)
    is restored without undoing what today's version fixed: every kind's name shows whole
    (the widths are fitted to the rows on load), and the roster's numbers stay beside the
    names."""
    from app.settings import WindowState
    from tests.views.layout import cell_cuts

    def open_window() -> MainWindow:
        w = MainWindow(make_ctx("senior"), window_state=WindowState())
        qtbot.addWidget(w)
        return w

    w = open_window()
    tasks, roster = w.show_page("tasks"), w.show_page("roster")
    kind = [c.key for c in tasks.model.columns].index("kind")
    tasks.table.horizontalHeader().resizeSection(kind, 60)
    roster.table.horizontalHeader().setStretchLastSection(True)
    w.close()  # saves the layouts

    w = open_window()
    tasks, roster = w.show_page("tasks"), w.show_page("roster")
    _wait_loaded(qtbot, tasks.model)
    assert tasks.table.horizontalHeader().sectionSize(kind) > 60
    kinds = {tasks.model.index(r, kind).data() for r in range(tasks.model.rowCount())}
    assert len(kinds) > 1
    assert [str(cut) for cut in cell_cuts(tasks.table, "tasks", elidable={"outcome"})] == []
    assert not roster.table.horizontalHeader().stretchLastSection()


def test_tasks_nobody_holds_can_be_listed(open_window, qtbot, demo_db):
    """Tasks of customers in grids without an owner, and the online seat's, are in no
    specialist's queue; the senior supervisor finds them under one scope choice."""
    from app.models import Task

    with demo_db() as s:
        nobody = s.scalar(
            select(func.count()).select_from(Task).where(Task.specialist_id.is_(None))
        )
    assert nobody > 0
    w = open_window("senior")
    page = w.show_page("tasks")
    _wait_loaded(qtbot, page.model)
    page.status.setCurrentIndex(page.status.findData("all"))
    page.scope.setCurrentIndex(_scope_index(page.scope, "nobody"))
    qtbot.waitUntil(lambda: page.count.text() == f"{nobody:,} tasks", timeout=10000)
    while page.model.canFetchMore():  # as scrolling to the end does, a page at a time
        page.model.fetchMore()
    assert page.model.rowCount() == nobody
    assert all(page.model.row_at(i).specialist_id is None for i in range(nobody))
    assert _scope_index(open_window("supervisor").show_page("tasks").scope, "nobody") == -1


def test_roster_totals_and_the_open_tasks_nobody_holds(open_window, qtbot, demo_db):
    """The roster's status line adds up the open and overdue tasks of the rows shown; the
    open tasks no specialist holds, which no row counts, are named beside it and one click
    lists them on the Tasks page."""
    from app.models.enums import OPEN_TASK_STATUSES

    w = open_window("senior")
    roster = w.show_page("roster")
    _wait_loaded(qtbot, roster.model)
    rows = roster.model.rows()
    # The headers say which weeks and months the period figures cover.
    from app.services.metrics.activity import whole_weeks

    keys = [c.key for c in roster.model.columns]
    first = whole_weeks(w.ctx.as_of, 4)[0]
    monday = date.fromisocalendar(int(first[:4]), int(first[6:]), 1)
    tip = roster.model.headerData(
        keys.index("activity"), Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole
    )
    assert f"{monday:%Y-%m-%d}" in tip
    tip = roster.model.headerData(
        keys.index("persistency"), Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole
    )
    assert f"{w.ctx.as_of.year - 1}-{w.ctx.as_of.month:02d}" in tip
    n, open_n, overdue = (
        len(rows),
        sum(r.open_tasks for r in rows),
        sum(r.overdue_tasks for r in rows),
    )
    assert roster.status.text() == (
        f"{n} of {n} specialists · {open_n:,} open tasks, {overdue:,} overdue"
    )
    roster.search.setText(rows[0].employee_no)
    assert roster.proxy.rowCount() == 1
    assert roster.status.text() == (
        f"1 of {n} specialists · {rows[0].open_tasks:,} open tasks, "
        f"{rows[0].overdue_tasks:,} overdue"
    )
    with demo_db() as s:
        unheld = s.scalar(
            select(func.count())
            .select_from(Task)
            .where(Task.specialist_id.is_(None), Task.status.in_(OPEN_TASK_STATUSES))
        )
    assert unheld > 0
    qtbot.waitUntil(roster.unheld.isVisible, timeout=10000)
    assert f"{unheld:,} " in roster.unheld.text()
    roster.unheld.linkActivated.emit("#unheld")
    tasks = w.pages["tasks"]
    assert w.stack.currentWidget() is tasks
    qtbot.waitUntil(lambda: tasks.model.rowCount() == unheld, timeout=10000)
    assert all(tasks.model.row_at(i).specialist_id is None for i in range(unheld))
    # A team's supervisor has no such line: those tasks belong to no team.
    team_roster = open_window("supervisor").show_page("roster")
    _wait_loaded(qtbot, team_roster.model)
    assert not team_roster.unheld.isVisible()


def test_roster_fits_a_1366_laptop_screen_without_sideways_scrolling(open_window, qtbot):
    """Every column shows its contents and its header whole (a long English header on two
    lines), and on a 1366-pixel-wide laptop screen the table needs no sideways scrolling."""
    w = open_window("senior")
    w.resize(1366, 768)
    roster = w.show_page("roster")
    _wait_loaded(qtbot, roster.model)
    table, header = roster.table, roster.table.horizontalHeader()
    qtbot.waitUntil(lambda: table.horizontalScrollBar().maximum() == 0, timeout=5000)
    metrics = header.fontMetrics()
    for c in range(header.count()):
        text = roster.model.headerData(c, Qt.Orientation.Horizontal)
        longest = max(metrics.horizontalAdvance(line) for line in text.split("\n"))
        # The header's text, its margins and room for the sort arrow.
        assert header.sectionSize(c) >= max(table.sizeHintForColumn(c), longest + 12), text


def test_a_page_that_cannot_read_says_so_in_a_box_that_does_not_block(open_window, qtbot, demo_db):
    """When the database cannot be read, the page's error reaches the user as a readable
    warning over the main window (no traceback), and the window keeps running meanwhile."""
    from PySide6.QtWidgets import QMessageBox

    w = open_window("senior")
    roster = w.show_page("roster")
    _wait_loaded(qtbot, roster.model)
    engine = demo_db.kw["bind"]
    path = engine.url.database
    engine.dispose()
    os.replace(path, path + ".moved")  # the file went away; SQLite opens an empty one
    roster.reload()
    qtbot.waitUntil(lambda: any(b.isVisible() for b in w.findChildren(QMessageBox)), timeout=10000)
    (box,) = [b for b in w.findChildren(QMessageBox) if b.isVisible()]
    assert box.icon() == QMessageBox.Icon.Warning and box.windowTitle() == "Specialists"
    # Said in words: the tables do not match (never SQLAlchemy's text or a traceback).
    assert "griddesk init" in box.text() and "no such table" not in box.text()
    assert "Traceback" not in box.text()
    assert box.isModal() and w.isVisible()


def _scope_index(combo, kind: str) -> int:
    found = [i for i in range(combo.count()) if (combo.itemData(i) or (None,))[0] == kind]
    return found[0] if found else -1


def test_databases_are_named_as_people_know_them(qapp):
    from app.views.database_names import database_label

    shared = "postgresql+psycopg://gd:***@db.branch.example:5432/griddesk"
    assert database_label(shared) == "Shared database griddesk on db.branch.example"
    assert database_label("sqlite:////home/u/Documents/griddesk-offline.sqlite") == (
        "griddesk-offline.sqlite"
    )
