"""The rebalance page's choice to keep customers from a 4-sell step on with their specialist,
with how many customers that holds back."""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from app.services.rebalance.workload import step_locked
from app.views.context import AppContext, call
from app.views.i18n import arg
from app.views.labels import STEPS, label


class StepLock(QWidget):
    """A combo "Keep customers at step ≥ …" (off, or a step 1-4) and a label saying how many
    unlocked customers in scope the chosen step keeps in place."""

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._team_ids: Collection[int] | None = None
        self.combo = QComboBox()
        self.combo.setObjectName("keep_from_step")
        self.combo.addItem(self.tr("off"), None)
        for step in STEPS:
            self.combo.addItem(f"{step} {label(STEPS, step)}", step)
        self.combo.setToolTip(
            self.tr(
                "Customers who reached this 4-sell step or a later one never move: they stay "
                "with their specialist, as locked customers do"
            )
        )
        self.count = QLabel()
        self.count.setObjectName("step_locked")
        self.combo.currentIndexChanged.connect(lambda _i: self.refresh())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(self.tr("Keep customers at step ≥")))
        layout.addWidget(self.combo)
        layout.addWidget(self.count)

    def value(self) -> int | None:
        """Return the step chosen, or None when nobody is kept for their step."""
        return self.combo.currentData()

    def set_scope(self, team_ids: Collection[int] | None) -> None:
        """Count within these teams (None: the whole branch)."""
        self._team_ids = team_ids
        self.refresh()

    def refresh(self) -> None:
        """Count again the customers the chosen step keeps in place."""
        step = self.value()
        if step is None:
            self.count.clear()
            return
        n = call(
            self.ctx,
            step_locked,
            branch_id=self.ctx.user.branch_id,
            keep_from_step=step,
            team_ids=self._team_ids,
        )
        self.count.setText(arg(self.tr("locks %1 customers"), f"{n:,}"))
