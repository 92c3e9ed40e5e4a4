"""A plan applied with a later effective date, through the window on the small demo branch:
the rebalance page schedules it (nobody moves), Scheduled… lists and cancels it, and a plan
whose day has come takes effect when GridDesk opens, saying so."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select, update

from app.models import Grid, ScheduledPlan, Specialist
from app.services.rebalance.scheduled import SCHEDULED, branch_today, list_scheduled
from app.views.main_window import MainWindow


def _open(qtbot, ctx):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    page = w.show_page("rebalance")
    page.max_moves.setValue(6)
    with qtbot.waitSignal(page.proposed, timeout=30000):
        page.propose()
    return w, page


def _box(qtbot, widget) -> QMessageBox:
    def shown():
        return [b for b in widget.findChildren(QMessageBox) if b.isVisible()]

    qtbot.waitUntil(lambda: bool(shown()), timeout=10000)
    return shown()[-1]


def _owners(Session):  # noqa: N803
    with Session() as s:
        return dict(s.execute(select(Grid.code, Grid.owner_id)).all())


def test_a_later_day_schedules_the_plan_and_it_can_be_cancelled(qtbot, make_ctx):
    ctx = make_ctx("senior")
    w, page = _open(qtbot, ctx)
    before = _owners(ctx.Session)
    with ctx.Session() as s:
        today = branch_today(s, ctx.user.branch_id)
    assert not page.effective.later()  # today, at once, unless told otherwise
    later = today + timedelta(days=30)
    page.effective.setDate(QDate(later.year, later.month, later.day))
    page.apply()
    box = _box(qtbot, page)
    assert later.isoformat() in box.text() and "nobody moves" in box.text()
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: "Scheduled as plan" in page.summary.text(), timeout=10000)
    assert _owners(ctx.Session) == before
    with ctx.Session() as s:
        (info,) = list_scheduled(s, branch_id=ctx.user.branch_id, team_scope=None)
    assert (info.status, info.effective_on) == (SCHEDULED, later)

    dialog = page.open_scheduled()
    assert dialog.model.rowCount() == 1
    dialog.table.selectRow(0)
    assert dialog.cancel_button.isEnabled()
    dialog.cancel(info.id)
    assert dialog.model.row_at(0).status == "cancelled"
    assert not dialog.cancel_button.isEnabled()


def test_a_plan_whose_day_has_come_takes_effect_when_griddesk_opens(qtbot, make_ctx):
    ctx = make_ctx("senior")
    w, page = _open(qtbot, ctx)
    plan = page.plan()
    with ctx.Session() as s:
        today = branch_today(s, ctx.user.branch_id)
    page.effective.setDate(QDate(today.year, today.month, today.day).addDays(1))
    page.apply()
    _box(qtbot, page).button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: "Scheduled as plan" in page.summary.text(), timeout=10000)
    w.close()
    with ctx.Session() as s, s.begin():  # a day later
        s.execute(update(ScheduledPlan).values(effective_on=today - timedelta(days=1)))
    opened = MainWindow(make_ctx("senior"))
    qtbot.addWidget(opened)
    opened.show()
    box = _box(qtbot, opened)
    assert "applied" in box.text()
    with ctx.Session() as s:
        ids = dict(s.execute(select(Specialist.employee_no, Specialist.id)).all())
    owners = _owners(ctx.Session)
    for m in plan.moves:
        if m.kind == "grid":
            assert owners[m.grid_code] == ids[m.to_no]
