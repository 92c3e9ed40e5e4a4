"""File ▸ Branch settings, offscreen on the demo branch: the senior supervisor sets the
hand-off targets and the amount limit in one save (a wrong value saves nothing); everyone else
sees them read-only."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from app.models import Branch
from app.views.branch_dialog import BranchDialog
from app.views.main_window import MainWindow


def _branch(ctx) -> Branch:
    with ctx.Session() as s:
        b = s.get_one(Branch, ctx.user.branch_id)
        s.expunge(b)
        return b


def test_the_senior_supervisor_saves_the_hand_off_targets(qtbot, make_ctx):
    ctx = make_ctx("senior")
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    dialog = window.open_branch_settings()
    assert isinstance(dialog, BranchDialog) and dialog.editable
    assert (dialog.sms.value(), dialog.contact.value(), dialog.service.value()) == (1, 7, 30)
    dialog.contact.setValue(10)
    dialog.amount.setValue(2_000_000)
    with qtbot.waitSignal(window.data_changed, timeout=2000):
        dialog.save()
    b = _branch(ctx)
    assert (b.handoff_sms_days, b.handoff_contact_days, b.handoff_service_days) == (1, 10, 30)
    assert b.max_amount_yuan == 2_000_000


def test_targets_out_of_order_save_nothing_and_say_why(qtbot, make_ctx):
    ctx = make_ctx("senior")
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    dialog = window.open_branch_settings()
    dialog.amount.setValue(5_000)
    dialog.contact.setValue(40)  # after the first-service target of 30
    dialog.save()
    assert dialog.isVisible()
    shown = [m.text() for m in window.findChildren(QMessageBox)]
    assert any("must come in order" in t for t in shown), shown
    b = _branch(ctx)
    assert (b.handoff_contact_days, b.max_amount_yuan) == (7, 100_000_000)


def test_a_supervisor_sees_the_settings_read_only(qtbot, make_ctx):
    dialog = BranchDialog(make_ctx("supervisor"))
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.editable
    assert not dialog.contact.isEnabled() and not dialog.amount.isEnabled()
    assert dialog.note.isVisible()
    assert dialog.contact.value() == 7
