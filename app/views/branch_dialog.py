"""File ▸ Branch settings: what the branch's senior supervisor sets for everyone of the branch,
kept in the database (the grace period, the import amount limit, the hand-off targets, the
monthly scorecard's standards).
Everybody else sees them read-only, as on an offline copy."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
)

from app.services.importer.values import LIMIT_CEILING_YUAN
from app.services.metrics.handoff import MAX_TARGET_DAYS, HandoffTargets
from app.services.metrics.scorecard import Standards
from app.services.people.branches import (
    BranchSettings,
    SettingError,
    branch_settings,
    may_change_settings,
    set_amount_limit,
    set_handoff_targets,
    set_scorecard_standards,
)
from app.views.context import AppContext, call
from app.views.errors import show_error
from app.views.i18n import arg


class BranchDialog(QDialog):
    # The settings as saved (BranchSettings): every page decides whether to reload.
    saved = Signal(object)

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.tr("Branch settings"))
        self.setMinimumWidth(520)
        settings: BranchSettings = call(ctx, branch_settings, ctx.user.branch_id)
        self.editable = may_change_settings(ctx.user, ctx.user.branch_id) and not ctx.read_only

        head = QLabel(f"{settings.code} {settings.name}")
        head.setStyleSheet("font-weight: 600;")
        grace = QLabel(arg(self.tr("%1 days after the due date"), str(settings.grace_days)))
        self.amount = QSpinBox()
        self.amount.setObjectName("max_amount")
        self.amount.setRange(1, min(LIMIT_CEILING_YUAN, 2**31 - 1))
        self.amount.setGroupSeparatorShown(True)
        self.amount.setSuffix(self.tr(" yuan"))
        self.amount.setValue(min(settings.max_amount_yuan, self.amount.maximum()))
        general = QGroupBox(self.tr("Imports and persistency"))
        gform = QFormLayout(general)
        gform.addRow(self.tr("Grace period"), grace)
        gform.addRow(self.tr("Largest premium, due or receipt an import accepts"), self.amount)

        h = settings.handoff
        self.sms = self._days("handoff_sms", h.sms_days)
        self.contact = self._days("handoff_contact", h.contact_days)
        self.service = self._days("handoff_service", h.service_days)
        handoff = QGroupBox(self.tr("Hand-off targets, days from pool entry"))
        hform = QFormLayout(handoff)
        hform.addRow(self.tr("Agent-change SMS sent"), self.sms)
        hform.addRow(self.tr("First contact (pre-sell done: 建联加微)"), self.contact)
        hform.addRow(self.tr("First service (renewal collected or service done)"), self.service)
        hint = QLabel(
            self.tr(
                "A customer past a target with the milestone not reached is listed under "
                "Tasks ▸ Hand-offs late; the roster shows each specialist's share on time."
            )
        )
        hint.setWordWrap(True)
        hform.addRow(hint)

        card = self._scorecard_group(settings.scorecard)

        self.note = QLabel(
            self.tr("Only the branch's senior supervisor changes these; you see them read-only.")
            if not ctx.read_only
            else self.tr("An offline copy is read-only.")
        )
        self.note.setObjectName("read_only_note")
        self.note.setWordWrap(True)
        self.note.setVisible(not self.editable)
        boxes = (self.amount, self.sms, self.contact, self.service, *self.standards.values())
        for box in boxes:
            box.setEnabled(self.editable)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
            if self.editable
            else QDialogButtonBox.StandardButton.Close
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(general)
        layout.addWidget(handoff)
        layout.addWidget(card)
        layout.addWidget(self.note)
        layout.addWidget(buttons)

    def _days(self, name: str, value: int) -> QSpinBox:
        box = QSpinBox()
        box.setObjectName(name)
        box.setSuffix(self.tr(" days"))
        box.setRange(0, MAX_TARGET_DAYS)
        box.setValue(value)
        return box

    def _scorecard_group(self, standards: Standards) -> QGroupBox:
        self.standards: dict[str, QSpinBox] = {}
        group = QGroupBox(self.tr("Monthly scorecard standards"))
        form = QFormLayout(group)
        rows = (
            ("renewal", self.tr("Renewal premium collected at least")),
            ("persistency", self.tr("13-month persistency at least")),
            ("tasks", self.tr("Tasks done on time at least")),
            ("contact", self.tr("First contact on time at least")),
        )
        for key, text in rows:
            box = QSpinBox()
            box.setObjectName(f"scorecard_{key}")
            box.setRange(0, 100)
            box.setSuffix(" %")
            box.setValue(standards.of(key) or 0)
            self.standards[key] = box
            form.addRow(text, box)
        form.addRow(self.tr("Service equity"), QLabel(self.tr("no flag (fixed)")))
        return group

    def scorecard_standards(self) -> Standards:
        return Standards(
            *(self.standards[k].value() for k in ("renewal", "persistency", "tasks", "contact"))
        )

    def targets(self) -> HandoffTargets:
        return HandoffTargets(self.sms.value(), self.contact.value(), self.service.value())

    def save(self) -> None:
        """Save every group in one transaction: a wrong value saves nothing."""
        user, branch_id = self.ctx.user, self.ctx.user.branch_id
        try:
            with self.ctx.Session() as s, s.begin():
                set_amount_limit(s, actor=user, branch_id=branch_id, yuan=self.amount.value())
                set_handoff_targets(s, actor=user, branch_id=branch_id, targets=self.targets())
                saved = set_scorecard_standards(
                    s, actor=user, branch_id=branch_id, standards=self.scorecard_standards()
                )
        except SettingError as exc:
            show_error(self, self.tr("Branch settings"), exc)
            return
        self.saved.emit(saved)
        self.accept()
