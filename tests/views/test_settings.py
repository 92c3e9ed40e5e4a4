"""The settings dialog keeps the user's choices; the workload weights reach the rebalancer."""

from __future__ import annotations

from app.services.rebalance.workload import Weights
from app.settings import Preferences
from app.views.settings_dialog import SettingsDialog


def test_workload_weights_are_saved_and_used_by_the_rebalance_page(qtbot, make_ctx):
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    assert dialog.weights() == Weights()  # the documented defaults on a fresh machine
    dialog.weight_customer.setValue(2.0)
    dialog.weight_task.setValue(0.25)
    dialog.weight_premium.setValue(0.0)
    dialog.save()
    assert Preferences().workload_weights == Weights(2.0, 0.25, 0.0)

    again = SettingsDialog()
    qtbot.addWidget(again)
    assert again.weights() == Weights(2.0, 0.25, 0.0)
    again._default_weights()
    assert again.weights() == Weights()

    from app.views.rebalance_page import RebalancePage

    page = RebalancePage(make_ctx("senior"))
    qtbot.addWidget(page)
    assert page.request().weights == Weights(2.0, 0.25, 0.0)
