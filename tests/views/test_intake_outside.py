"""Marking addresses outside coverage on the intake page, the list of them, and putting them
back in the queue, on the demo branch (offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from app.views.main_window import MainWindow
from app.views.outside_coverage import OutsideCoverageDialog
from app.views.table_models import ROW_ROLE


@pytest.fixture
def page(qtbot, make_ctx):
    def open_as(login: str = "senior"):
        w = MainWindow(make_ctx(login))
        qtbot.addWidget(w)
        w.resize(1440, 900)
        w.show()
        p = w.show_page("intake")
        qtbot.waitUntil(lambda: bool(p.outbox_count.text()), timeout=10000)
        return p

    return open_as


def _select(table, rows) -> None:
    sel = table.selectionModel()
    sel.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for r in rows:
        sel.select(table.model().index(r, 0), flags)


def _queue_nos(page) -> list[str]:
    return [page.queue.index(r, 0).data(ROW_ROLE).customer_no for r in range(page.queue.rowCount())]


def test_mark_outside_coverage_list_and_put_back(qtbot, page):
    p = page("senior")
    before = p.queue.rowCount()
    assert before >= 3 and not p.mark_button.isEnabled()
    _select(p.queue_table, [0, 1, 2])
    chosen = [p.queue.index(r, 0).data(ROW_ROLE).customer_no for r in range(3)]
    chosen_ids = {p.queue.index(r, 0).data(ROW_ROLE).customer_id for r in range(3)}
    assert p.mark_button.isEnabled()
    assert p.selected_customer() is None and not p.assign_button.isEnabled()  # a grid: one
    dialog = p.mark_selected_outside()
    assert isinstance(dialog, OutsideCoverageDialog) and dialog.isVisible()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # no reason yet
    dialog.reason_box.setCurrentIndex(dialog.reason_box.findData("other"))
    assert not ok.isEnabled()  # 'other' needs a note
    dialog.note_edit.setText("郫都区暂无网格")
    assert ok.isEnabled()
    dialog.reason_box.setCurrentIndex(dialog.reason_box.findData("no_grid_district"))
    with qtbot.waitSignal(p.changed, timeout=10000) as done:
        ok.click()
    assert done.args[0].customers == chosen_ids  # every page hears which customers
    qtbot.waitUntil(lambda: p.queue.rowCount() == before - 3, timeout=10000)
    assert not set(chosen) & set(_queue_nos(p))
    view = p.outside
    assert view.model.rowCount() == 3
    assert "(3)" in p.queue_tabs.tabText(1)
    row = view.model.index(0, 0).data(ROW_ROLE)
    assert row.customer_no in chosen and row.marked_by == "senior"
    assert row.reason == "no_grid_district" and row.note == "郫都区暂无网格"
    # Every column shows its values whole at 1440×900.
    p.queue_tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.table.isVisible(), timeout=5000)
    header = view.table.horizontalHeader()
    for c in range(header.count() - 1):  # the last column stretches
        assert header.sectionSize(c) >= view.table.sizeHintForColumn(c), c
    # Put one back.
    assert not view.restore_button.isEnabled()
    _select(view.table, [0])
    assert view.restore_button.isEnabled()
    with qtbot.waitSignal(p.changed, timeout=10000):
        view.restore_button.click()
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=10000)
    assert row.customer_no in _queue_nos(p) and p.queue.rowCount() == before - 2


def test_a_stale_selection_marks_nobody_and_says_why(qtbot, page, demo_db):
    from app.services.intake.coverage import mark_outside_coverage, outside_coverage

    p = page("senior")
    _select(p.queue_table, [0, 1])
    first = p.queue.index(0, 0).data(ROW_ROLE)
    with demo_db() as s, s.begin():  # someone else marks the first meanwhile
        mark_outside_coverage(s, customer_ids=[first.customer_id], reason="incomplete", actor="x")
    dialog = p.mark_selected_outside()
    dialog.reason_box.setCurrentIndex(dialog.reason_box.findData("incomplete"))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    def box():
        shown = [b for b in p.window().findChildren(QMessageBox) if b.isVisible()]
        return shown[-1] if shown else None

    qtbot.waitUntil(lambda: box() is not None, timeout=10000)
    assert first.customer_no in box().text()
    box().close()
    with demo_db() as s:  # all or none: only the one marked meanwhile is outside
        rows = outside_coverage(s, p.ctx.user.branch_id)
    assert [r.customer_no for r in rows] == [first.customer_no]


def test_an_analyst_sees_the_list_read_only(qtbot, page):
    p = page("analyst")
    assert not p.mark_button.isVisibleTo(p) and not p.outside.restore_button.isVisibleTo(p)
    assert p.role_note.isVisibleTo(p) and "outside coverage" in p.role_note.text()
