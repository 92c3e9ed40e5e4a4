"""The "Specialist leaves" dialog from the roster: what the specialist holds, new owners from
their team (the branch for a senior supervisor who widens it), applied and undone."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from app.models import Customer, Grid, Specialist
from app.models.enums import SpecialistStatus
from app.views.layout import content_width
from app.views.main_window import MainWindow


@pytest.fixture
def leaving(qtbot, make_ctx, demo_db):
    def open_for(login: str, employee_no: str = "DW00001", *, read_only: bool = False):
        ctx = make_ctx(login)
        ctx.read_only = read_only
        w = MainWindow(ctx)
        qtbot.addWidget(w)
        w.show()
        roster = w.show_page("roster")
        qtbot.waitUntil(lambda: roster.model.rowCount() > 0, timeout=10000)
        with demo_db() as s:
            sid = s.scalar(select(Specialist.id).where(Specialist.employee_no == employee_no))
        assert not roster.leaves_button.isEnabled()
        roster.table.selectRow(0)
        assert roster.leaves_button.isEnabled()
        dialog = roster.open_leaving(sid)
        dialog.time_limit_s = 0.3
        qtbot.waitUntil(lambda: dialog.plan() is not None, timeout=30000)
        qtbot.waitUntil(lambda: dialog.grids.rowCount() > 0, timeout=10000)
        return w, roster, dialog, sid

    return open_for


def _team_of(demo_db) -> dict[str, int]:
    with demo_db() as s:
        return dict(s.execute(select(Specialist.employee_no, Specialist.team_id)).all())


def test_supervisor_sees_what_the_leaver_holds_and_only_team_members_take_over(leaving, demo_db):
    _w, _roster, dialog, sid = leaving("supervisor")
    with demo_db() as s:
        grids = set(s.scalars(select(Grid.code).where(Grid.owner_id == sid)))
        customers = len(s.scalars(select(Customer.id).where(Customer.specialist_id == sid)).all())
    assert {dialog.grids.row_at(i).code for i in range(dialog.grids.rowCount())} == grids
    assert dialog.customers.rowCount() == customers
    assert str(len(grids)) in dialog.tabs.tabText(0)
    plan = dialog.plan()
    teams = _team_of(demo_db)
    assert {m.grid_code for m in plan.moves if m.kind == "grid"} == grids
    assert {teams[m.to_no] for m in plan.moves} == {teams[dialog.leaver.employee_no]}
    assert dialog.leaver.employee_no not in {m.to_no for m in plan.moves}
    assert not dialog.widen.isVisibleTo(dialog)
    assert dialog.apply_button.isEnabled()


def test_senior_supervisor_may_widen_to_the_branch(leaving, qtbot):
    _w, _roster, dialog, _sid = leaving("senior")
    assert dialog.widen.isVisibleTo(dialog)
    assert dialog.plan().scope != ()
    with qtbot.waitSignal(dialog.proposed, timeout=30000):
        dialog.widen.setChecked(True)
    assert dialog.plan().scope == ()
    assert dialog.leaver.employee_no not in {m.to_no for m in dialog.plan().moves}


def test_handover_is_applied_in_one_go_and_undone_from_the_window(leaving, qtbot, demo_db):
    w, _roster, dialog, sid = leaving("supervisor")
    with demo_db() as s:
        before = dict(s.execute(select(Grid.code, Grid.owner_id)).all())
    dialog.apply()
    box = next(b for b in dialog.findChildren(QMessageBox) if b.isVisible())
    assert dialog.leaver.name in box.text()
    with qtbot.waitSignal(w.data_changed, timeout=30000):
        box.button(QMessageBox.StandardButton.Yes).click()
    with demo_db() as s:
        assert s.scalars(select(Grid.code).where(Grid.owner_id == sid)).all() == []
        # The leaving is recorded: left from the leaving date shown in the dialog.
        leaver = s.get(Specialist, sid)
        assert (leaver.status, leaver.left_on) == (SpecialistStatus.LEFT, dialog.leaving_date())
    assert not dialog.apply_button.isEnabled()
    assert dialog.leaver.name in w.history.undo_action.text()
    with qtbot.waitSignal(w.data_changed, timeout=30000):
        w.history.undo_action.trigger()
    with demo_db() as s:
        assert dict(s.execute(select(Grid.code, Grid.owner_id)).all()) == before
        assert s.get(Specialist, sid).status == SpecialistStatus.ACTIVE


def test_read_only_snapshot_shows_the_proposal_but_cannot_apply(leaving):
    _w, _roster, dialog, _sid = leaving("senior", read_only=True)
    assert dialog.plan().moves
    assert not dialog.apply_button.isEnabled()


def test_the_proposal_tables_share_the_width_by_their_columns(leaving, qtbot):
    """On a 1920-pixel screen (at 125 %) both tables show every column; on a narrower one
    each gets a share in proportion to what it needs, rather than the first taking it all."""
    _w, _roster, dialog, _sid = leaving("supervisor")

    def proposed_at(width: int) -> tuple[list[int], list[int]]:
        dialog.resize(width, 850)
        dialog.propose()
        qtbot.waitUntil(lambda: dialog.plan() is not None, timeout=30000)
        qtbot.wait(50)
        need = [content_width(dialog.moves_table), content_width(dialog.workload_table)]
        return dialog.tables_split.sizes(), need

    sizes, need = proposed_at(1536)
    assert sizes[0] >= need[0] and sizes[1] >= need[1]
    assert dialog.workload_table.horizontalScrollBar().maximum() == 0  # nothing cut off
    # Narrower than both tables need (which depends on the plan: the customer columns show only
    # when single customers move), by about a fifth.
    sizes, need = proposed_at(int(sum(need) * 0.8) + dialog.width() - sum(sizes))
    assert sum(sizes) < sum(need)
    assert abs(sizes[0] / sum(sizes) - need[0] / sum(need)) < 0.02


def test_the_dialog_fits_the_screen_it_opens_on(leaving):
    _w, _roster, dialog, _sid = leaving("supervisor")
    area = dialog.screen().availableGeometry()
    assert dialog.width() <= area.width() and dialog.height() <= area.height() - 40
    assert dialog.apply_button.isVisibleTo(dialog)
