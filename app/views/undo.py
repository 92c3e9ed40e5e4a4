"""The window's undo history of applied plans (rebalances and handovers).

Undoing a plan writes to the shared database and may be refused (someone changed one of the
rows since), so the database work runs first, in the background, through the runner; only when
it has succeeded does the QUndoStack move. A command whose undo or redo is refused is taken off
the stack with a message saying why: it can no longer be undone as a whole, and pretending
otherwise would be a lie. Redo applies the same plan again; it is refused the same way if the
rows it moves changed hands meanwhile. Only :meth:`ChangeHistory.undo` and
:meth:`ChangeHistory.redo` move the stack: the commands' own undo()/redo() write nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QWidget

from app.services.rebalance.apply import ApplyResult, Leaving
from app.services.rebalance.plan import Plan
from app.views.context import AppContext
from app.views.errors import error_text
from app.views.i18n import arg
from app.views.messages import inform, sms_outcome
from app.views.operations import JobState


def apply_job(
    ctx: AppContext, plan: Plan, leaving: Leaving | None = None
) -> Callable[[JobState], ApplyResult]:
    """The background job that applies ``plan`` in one transaction as the signed-in user
    (crossing teams only when their role allows it), recording a ``leaving`` with it."""
    from app.services.rebalance.apply import apply_plan

    user = ctx.user
    return ctx.write(
        lambda s: apply_plan(
            s,
            plan,
            actor=user.login,
            user_may_cross_teams=user.may_move_across_teams,
            team_scope=user.team_scope(),
            branch_scope=user.branch_id,
            leaving=leaving,
        )
    )


@dataclass(frozen=True)
class Applied:
    """A plan that was just applied, as the page that applied it reports it."""

    plan: Plan
    result: ApplyResult
    text: str  # what the Edit menu calls it, e.g. "rebalance (12 moves)"
    leaving: Leaving | None = None  # a hand-over's leaver, recorded again by Redo


class PlanCommand(QUndoCommand):
    """One applied plan on the undo stack; remembers the change batch to undo."""

    def __init__(self, applied: Applied) -> None:
        super().__init__(applied.text)
        self.plan = applied.plan
        self.leaving = applied.leaving
        self.batch_id = applied.result.batch_id

    def undo(self) -> None:  # the database work was done by ChangeHistory.undo()
        pass

    def redo(self) -> None:  # likewise (and nothing to do when first pushed)
        pass


class ChangeHistory(QObject):
    """The undo stack and the Edit menu's Undo and Redo actions.

    Signals:
        changed(object): after an undo or redo wrote to the database, with the service's
            result (UndoResult or ApplyResult); the window broadcasts it to every page.
    """

    changed = Signal(object)

    def __init__(self, ctx: AppContext, window: QWidget) -> None:
        super().__init__(window)
        self.ctx = ctx
        self.window = window
        self.stack = QUndoStack(self)
        self._busy = False
        self.undo_action = QAction(self.tr("&Undo"), window)
        self.undo_action.setObjectName("undo")
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.undo_action.triggered.connect(self.undo)
        self.redo_action = QAction(self.tr("&Redo"), window)
        self.redo_action.setObjectName("redo")
        self.redo_action.setShortcut(QKeySequence("Ctrl+Shift+Z"))
        self.redo_action.triggered.connect(self.redo)
        self.stack.indexChanged.connect(self._update)
        self._update()

    def _update(self, *_args) -> None:
        writable = not self.ctx.read_only and not self._busy
        undo_text, redo_text = self.stack.undoText(), self.stack.redoText()
        self.undo_action.setEnabled(writable and self.stack.canUndo())
        self.redo_action.setEnabled(writable and self.stack.canRedo())
        self.undo_action.setText(
            arg(self.tr("&Undo %1"), undo_text) if undo_text else self.tr("&Undo")
        )
        self.redo_action.setText(
            arg(self.tr("&Redo %1"), redo_text) if redo_text else self.tr("&Redo")
        )

    def push_applied(self, applied: Applied) -> None:
        """Record a plan just applied (the command's first redo writes nothing)."""
        self.stack.push(PlanCommand(applied))

    def undo(self) -> None:
        """Undo the newest applied plan in the background, then move the stack."""
        if not self.undo_action.isEnabled():
            return
        from app.services.rebalance.apply import undo_batch

        cmd = self.stack.command(self.stack.index() - 1)
        assert isinstance(cmd, PlanCommand)
        batch_id, actor, scope = cmd.batch_id, self.ctx.user.login, self.ctx.user.team_scope()
        branch = self.ctx.user.branch_id
        self._start(
            self.ctx.write(
                lambda s: undo_batch(
                    s, actor=actor, team_scope=scope, batch_id=batch_id, branch_id=branch
                )
            ),
            cmd,
            undoing=True,
            title=arg(self.tr("Undoing %1…"), cmd.text()),
        )

    def redo(self) -> None:
        """Apply the plan undone last again in the background, then move the stack."""
        if not self.redo_action.isEnabled():
            return
        cmd = self.stack.command(self.stack.index())
        assert isinstance(cmd, PlanCommand)
        self._start(
            apply_job(self.ctx, cmd.plan, cmd.leaving),
            cmd,
            undoing=False,
            title=arg(self.tr("Applying %1 again…"), cmd.text()),
        )

    def _start(self, job, cmd: PlanCommand, *, undoing: bool, title: str) -> None:
        self._busy = True
        self._update()
        self.ctx.runner.start(
            "history",
            job,
            on_done=lambda result: self._done(cmd, result, undoing=undoing),
            on_error=lambda exc: self._refused(cmd, exc, undoing=undoing),
            progress_parent=self.window,
            progress_title=title,
        )

    def _done(self, cmd: PlanCommand, result, *, undoing: bool) -> None:
        self._busy = False
        if undoing:
            self.stack.undo()
            text = arg(
                self.tr("Undone: %1. Customers, grids and open tasks are back; %2."),
                cmd.text(),
                sms_outcome(result.sms),
            )
        else:
            cmd.batch_id = result.batch_id
            self.stack.redo()
            text = arg(self.tr("Applied again: %1."), cmd.text())
        self._update()
        self._status(text)
        self.changed.emit(result.changes)

    def _refused(self, cmd: PlanCommand, exc: BaseException, *, undoing: bool) -> None:
        self._busy = False
        what = cmd.text()
        # An obsolete command is deleted from the stack by the undo()/redo() that reaches it.
        cmd.setObsolete(True)
        if undoing:
            self.stack.undo()
            head = self.tr("%1 cannot be undone, so it was taken off the undo list.")
        else:
            self.stack.redo()
            head = self.tr("%1 cannot be applied again, so it was taken off the redo list.")
        self._update()
        inform(
            self.window,
            self.tr("Undo") if undoing else self.tr("Redo"),
            arg(head, what) + "\n\n" + error_text(exc),
            warning=True,
        )

    def _status(self, text: str) -> None:
        bar = getattr(self.window, "statusBar", None)
        if bar is not None:
            bar().showMessage(text, 15000)
