"""Intake: run the pool intake for departed agents, resolve the unmatched-address queue
(pick the grid from a list or on the map, optionally saving an address rule, or mark addresses
outside coverage into a list of their own), and hand the SMS outbox to the company's gateway
(export the CSV, import the results)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.changes import Changes
from app.services.people import org
from app.services.people.org import senior_supervisors
from app.views.context import AppContext, call
from app.views.errors import error_text, message_text, show_error
from app.views.i18n import arg
from app.views.intake_columns import agent_columns, unmatched_columns
from app.views.labels import listed
from app.views.layout import fit_columns
from app.views.messages import ask, inform, sms_outcome
from app.views.outside_coverage import OutsideCoverageView, mark_outside
from app.views.pages import PageWidget
from app.views.table_export import install_table_export
from app.views.table_models import ROW_ROLE, RowTableModel

_C = "IntakePage"


class IntakePage(PageWidget):
    """Signals: changed(Changes) after an intake run, a resolved customer, or customers marked
    outside coverage or put back in the queue; intake_ran(IntakeResult) after an intake run,
    with what it did."""

    intake_ran = Signal(object)

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._loaded = False
        self.last_preview = None  # the last rule preview shown (what a rule would route)
        self._new_in_queue: set[int] = set()  # customers of the last intake, to show
        may_change = ctx.user.may_move_across_teams and not ctx.read_only
        with ctx.Session() as s:
            self._grids = org.grids(s, branch_id=ctx.user.branch_id)

        # Departed agents.
        self.agents = RowTableModel(agent_columns(), self)
        self.agent_table = QTableView()
        self.agent_table.setObjectName("agents_table")
        self.agent_table.setModel(self.agents)
        self.agent_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.agent_table.verticalHeader().setVisible(False)
        # Every column fitted (on load), none stretched: a stretched name put the counts far
        # from it, cramped at the edge.
        self.agent_table.horizontalHeader().setStretchLastSection(False)
        install_table_export(self.agent_table, name=self.tr("Departed agents"), runner=ctx.runner)
        self.run_button = QPushButton(self.tr("Run intake for the selected agent"))
        self.run_button.setObjectName("run_intake")
        self.run_button.setVisible(may_change)
        self.run_button.setEnabled(False)
        self.run_button.clicked.connect(self.run_intake)
        self.agent_table.selectionModel().selectionChanged.connect(self._agent_selected)
        agents_box = QGroupBox(self.tr("Departed agents"))
        box = QVBoxLayout(agents_box)
        box.addWidget(self.agent_table)
        box.addWidget(self.run_button, 0, Qt.AlignmentFlag.AlignRight)

        # Unmatched queue.
        self.queue = RowTableModel(unmatched_columns(), self)
        self.queue_table = QTableView()
        self.queue_table.setObjectName("unmatched_table")
        self.queue_table.setModel(self.queue)
        self.queue_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Several rows may be marked outside coverage at once; a grid takes one at a time.
        self.queue_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.queue_table.verticalHeader().setVisible(False)
        self.queue_table.horizontalHeader().setStretchLastSection(True)
        self.queue_table.selectionModel().selectionChanged.connect(self._queue_selected)
        install_table_export(
            self.queue_table, name=self.tr("Addresses matching no grid"), runner=ctx.runner
        )
        self.grid = QComboBox()
        self.grid.setObjectName("grid")
        self.grid.currentIndexChanged.connect(lambda _i: self._grid_chosen())
        self.grid.editTextChanged.connect(lambda _t: self._grid_chosen())
        self.grid.setEditable(True)
        self.grid.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # Typing a code or a name offers the grids containing it.
        completer = self.grid.completer()
        assert completer is not None  # an editable combo box has one
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.save_rule = QCheckBox(self.tr("Remember: addresses containing"))
        self.save_rule.setObjectName("save_rule")
        self.rule_text = QLineEdit()
        self.rule_text.setObjectName("rule_text")
        self.rule_text.setPlaceholderText(self.tr("part of the address, e.g. a community name"))
        rule_row = QHBoxLayout()
        rule_row.addWidget(self.save_rule)
        rule_row.addWidget(self.rule_text, 1)
        rule_row.addWidget(QLabel(self.tr("go to this grid")))
        self.assign_button = QPushButton(self.tr("Put in grid"))
        self.assign_button.setObjectName("assign")
        self.assign_button.setEnabled(False)
        self.assign_button.clicked.connect(self.resolve_selected)
        form = QFormLayout()
        form.addRow(self.tr("Grid (or click it on the map)"), self.grid)
        form.addRow(rule_row)
        form.addRow(self.assign_button)
        self.queue_count = QLabel()
        self.mark_button = QPushButton(self.tr("Outside coverage…"))
        self.mark_button.setObjectName("mark_outside")
        self.mark_button.setToolTip(
            self.tr(
                "Take the chosen customers out of this queue: their address is outside the "
                "branch's coverage (a district with no grids, another city, an address to check)"
            )
        )
        self.mark_button.setVisible(may_change)
        self.mark_button.setEnabled(False)
        self.mark_button.clicked.connect(self.mark_selected_outside)
        count_row = QHBoxLayout()
        count_row.addWidget(self.queue_count, 1)
        count_row.addWidget(self.mark_button)
        waiting = QWidget()
        qbox = QVBoxLayout(waiting)
        qbox.addWidget(self.queue_table, 1)
        qbox.addLayout(count_row)
        if may_change:
            qbox.addLayout(form)
        self.outside = OutsideCoverageView(ctx, may_change=may_change)
        self.outside.changed.connect(self.changed.emit)
        self.queue_tabs = QTabWidget()
        self.queue_tabs.setObjectName("queue_tabs")
        self.queue_tabs.addTab(waiting, self.tr("Waiting for a grid"))
        self.queue_tabs.addTab(self.outside, self.tr("Outside coverage"))
        queue_box = QGroupBox(self.tr("Addresses matching no grid"))
        QVBoxLayout(queue_box).addWidget(self.queue_tabs)

        # SMS outbox: the file for the gateway and the gateway's results.
        self.outbox_count = QLabel()
        self.outbox_count.setObjectName("outbox_count")
        self.export_button = QPushButton(self.tr("Export SMS outbox…"))
        self.export_button.setObjectName("export_outbox")
        self.export_button.setToolTip(
            self.tr("Write the queued messages as the CSV file the SMS gateway takes")
        )
        self.export_button.clicked.connect(lambda: self.export_outbox())
        self.import_button = QPushButton(self.tr("Import gateway results…"))
        self.import_button.setObjectName("import_outbox")
        self.import_button.setToolTip(
            self.tr("Read the gateway's result file and mark messages sent or failed")
        )
        self.import_button.clicked.connect(lambda: self.import_outbox_results())
        # The export holds customers' full phone numbers: only roles allowed to import.
        may_exchange = ctx.user.may_import and not ctx.read_only
        outbox_box = QGroupBox(self.tr("SMS outbox"))
        obox = QHBoxLayout(outbox_box)
        obox.addWidget(self.outbox_count, 1)
        obox.addWidget(self.export_button)
        obox.addWidget(self.import_button)
        for b in (self.export_button, self.import_button):
            b.setVisible(ctx.user.may_import)
            b.setEnabled(may_exchange)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(agents_box)
        split.addWidget(queue_box)
        split.setSizes([300, 500])
        self.splitter = split
        layout = QVBoxLayout(self)
        self.role_note = QLabel(self._role_text())
        self.role_note.setObjectName("role_note")
        self.role_note.setWordWrap(True)
        self.role_note.setStyleSheet(
            "background: #fff8c5; border: 1px solid #d4a72c; padding: 6px; border-radius: 4px;"
        )
        self.role_note.setVisible(not may_change)
        layout.addWidget(self.role_note)
        layout.addWidget(outbox_box)
        layout.addWidget(split)
        # A grid already selected when this page is built is not a pick made for the queue.
        self._followed_grid = ctx.selection.current().grid
        ctx.selection.changed.connect(self._selection_changed)

    def _role_text(self) -> str:
        """Say why this page changes nothing for the user, and who can."""
        if self.ctx.read_only:
            return self.tr("An offline copy is read-only: intakes run on the branch's database.")
        seniors = call(self.ctx, senior_supervisors, branch_id=self.ctx.user.branch_id)
        who = listed(seniors) if seniors else self.tr("a senior supervisor")
        if self.ctx.user.sees_all_teams:
            return arg(
                self.tr(
                    "Only a senior supervisor runs intakes, files unmatched addresses (or marks them "
                    "outside coverage) and hands the SMS outbox to the gateway: ask %1. You see them "
                    "here as they stand."
                ),
                who,
            )
        return arg(
            self.tr(
                "Intakes, the addresses matching no grid (and those outside coverage) and the SMS "
                "outbox are the branch's, run by a senior supervisor (%1); customers reach your "
                "team's queues once they have a grid and a specialist."
            ),
            who,
        )

    def activate(self) -> None:
        if not self._loaded:
            self.reload()

    def reload(self) -> None:
        from app.services.intake.coverage import outside_coverage
        from app.services.intake.outbox import outbox_summary
        from app.services.intake.unmatched import unmatched_queue

        self._loaded = True
        branch_id = self.ctx.user.branch_id
        sees_branch = self.ctx.user.sees_all_teams
        self.ctx.runner.start(
            "intake.load",
            self.ctx.read(
                lambda s: (
                    org.departed_agents(s, branch_id=branch_id),
                    # A supervisor's scope is their teams: unmatched customers are in none.
                    unmatched_queue(s, branch_id) if sees_branch else [],
                    outbox_summary(s, branch_id=branch_id),
                    outside_coverage(s, branch_id) if sees_branch else [],
                )
            ),
            on_done=self._show,
            on_error=lambda exc: show_error(self, self.tr("Intake"), exc),
        )

    def _show(self, data) -> None:
        agents, queue, outbox, outside = data
        self.outbox_count.setText(
            arg(
                self.tr(
                    "%1 messages queued (%2 of them wait for a phone number), %5 with the "
                    "gateway, %3 sent, %4 failed"
                )
                if outbox.queued_without_phone
                else self.tr("%1 messages queued, %5 with the gateway, %3 sent, %4 failed"),
                f"{outbox.queued:,}",
                f"{outbox.queued_without_phone:,}",
                f"{outbox.sent:,}",
                f"{outbox.failed:,}",
                f"{outbox.exported:,}",
            )
        )
        self.agents.set_rows(agents)  # those with customers waiting first (the service's order)
        self._agent_selected()
        self.queue.set_rows(queue)
        new = [i for i, r in enumerate(queue) if r.customer_id in self._new_in_queue]
        self._new_in_queue = set()
        if new:
            self.queue_table.selectRow(new[0])
            self.queue_table.scrollTo(self.queue.index(new[0], 0))
        self.queue_count.setText(arg(self.tr("%1 customers wait for a grid"), f"{len(queue):,}"))
        self.outside.set_rows(outside)
        self.queue_tabs.setTabText(0, arg(self.tr("Waiting for a grid (%1)"), f"{len(queue):,}"))
        self.queue_tabs.setTabText(1, arg(self.tr("Outside coverage (%1)"), f"{len(outside):,}"))
        for t in (self.agent_table, self.queue_table):
            fit_columns(t)

    # --- intake --------------------------------------------------------------------------

    def _agent_selected(self, *_args) -> None:
        """Intake runs for an agent with customers still waiting for it."""
        rows = self.agent_table.selectionModel().selectedRows()
        agent = rows[0].data(ROW_ROLE) if rows else None
        self.run_button.setEnabled(agent is not None and agent.waiting > 0)

    def run_intake(self) -> None:
        """Ask, then run intake for the selected agent."""
        rows = self.agent_table.selectionModel().selectedRows()
        if not rows:
            return
        agent = rows[0].data(ROW_ROLE)
        question = self.tr(
            "Take the customers of %2 (%3) into the pool? Waiting: %1.\n"
            "Each is matched to a grid by their address, and so to its specialist, and gets an "
            "agent-change SMS in the outbox (SMS: %1 queued; one without a phone number waits "
            "for it). Edit ▸ History of changes can undo it while none of them changed hands."
        )
        ask(
            self,
            self.tr("Intake"),
            arg(question, f"{agent.waiting:,}", agent.name, agent.agent_code)
            + (
                "\n\n"
                + arg(
                    self.tr(
                        "Customers of the agent with no policy in force stay out of the pool: %1."
                    ),
                    f"{agent.no_policy_in_force:,}",
                )
                if agent.no_policy_in_force
                else ""
            ),
            lambda: self._run_intake(agent),
            yes_text=self.tr("Run intake"),
        )

    def _run_intake(self, agent) -> None:
        from app.services.intake.intake import intake_agent

        actor, user = self.ctx.user.login, self.ctx.user
        self.ctx.runner.start(
            "intake.run",
            self.ctx.write(
                lambda s: intake_agent(s, agent_code=agent.agent_code, actor=actor, user=user)
            ),
            on_done=self._intake_done,
            on_error=lambda exc: show_error(self, self.tr("Intake"), exc),
            progress_parent=self,
            progress_title=arg(self.tr("Intake of %1"), agent.agent_code),
        )

    def _intake_done(self, result) -> None:
        inform(
            self,
            self.tr("Intake"),
            arg(
                self.tr(
                    "%1 customers entered the pool (%2 were in it already).\n"
                    "Matched by coordinates %3, by address %4, by rule %5; %6 wait for a grid.\n"
                    "%7; %8 tasks created."
                ),
                f"{result.customers_entered:,}",
                f"{result.already_in_pool:,}",
                f"{result.matched_by_point:,}",
                f"{result.matched_by_address:,}",
                f"{result.matched_by_rule:,}",
                f"{result.unmatched:,}",
                sms_outcome(result.sms),
                f"{result.tasks_created:,}",
            )
            + (
                "\n"
                + arg(
                    self.tr("SMS waiting for a phone number: %1."), f"{result.sms_without_phone:,}"
                )
                if result.sms_without_phone
                else ""
            )
            + (
                "\n\n"
                + arg(
                    self.tr(
                        "In grids nobody covers, so without a specialist yet: %1. See the coverage "
                        "gaps on the map, or give those grids an owner."
                    ),
                    f"{result.without_specialist:,}",
                )
                if result.without_specialist
                else ""
            )
            + (
                "\n\n"
                + arg(
                    self.tr(
                        "Customers of the agent with no policy in force stay out of the pool: %1."
                    ),
                    f"{result.no_policy_in_force:,}",
                )
                if result.no_policy_in_force
                else ""
            ),
        )
        # The queue reloads on the change: show the first of this intake's customers in it.
        self._new_in_queue = set(result.customer_ids)
        self.intake_ran.emit(result)
        self.changed.emit(result.changes)

    # --- unmatched queue -----------------------------------------------------------------

    def _queue_selected(self) -> None:
        self.mark_button.setEnabled(bool(self.selected_customers()))
        row = self.selected_customer()
        self.grid.clear()
        self._grid_chosen()
        if row is None:
            return
        suggested = [s.grid_id for s in row.suggestions]
        if not suggested:  # nothing to go by: the supervisor picks, nothing is preselected
            self.grid.addItem(self.tr("— choose a grid —"), None)
        by_id = {g.id: g for g in self._grids}
        for gid in suggested:
            if gid in by_id:
                g = by_id[gid]
                self.grid.addItem(f"★ {g.code} {g.name}", g.id)
        for g in self._grids:
            if g.id not in suggested:
                self.grid.addItem(f"{g.code} {g.name}", g.id)
        self.rule_text.setText(row.proposed_rule)

    def _grid_chosen(self) -> None:
        """A customer may be filed only into a grid actually chosen: an item of the list, not
        half-typed text that still shows over the previous choice."""
        chosen = self.grid.currentData() is not None and self.grid.currentText() == (
            self.grid.itemText(self.grid.currentIndex())
        )
        self.assign_button.setEnabled(self.selected_customer() is not None and chosen)

    def selected_customer(self):
        """The queue row chosen for a grid: one row selected, else None."""
        rows = self.selected_customers()
        return rows[0] if len(rows) == 1 else None

    def selected_customers(self) -> list:
        return [i.data(ROW_ROLE) for i in self.queue_table.selectionModel().selectedRows()]

    def mark_selected_outside(self):
        """Ask why, then mark the selected customers' addresses outside coverage (all or
        none); return the dialog, or None when nothing is selected."""
        rows = self.selected_customers()
        if not rows:
            return None
        return mark_outside(self, self.ctx, rows, lambda done: self.changed.emit(done.changes))

    def _selection_changed(self, picked) -> None:
        # Only a grid picked while a customer waits for one: the picker is the choice of
        # where to file that customer, never filled from a selection made for other reasons.
        if picked.grid and picked.grid != self._followed_grid:
            self.follow_grid(picked.grid)
        self._followed_grid = picked.grid

    def follow_grid(self, code: str) -> None:
        """Preselect grid ``code`` in the picker (a click on the map)."""
        for i in range(self.grid.count()):
            if self.grid.itemText(i).lstrip("★ ").split(" ")[0] == code:
                self.grid.setCurrentIndex(i)
                return

    def resolve_selected(self) -> None:

        row = self.selected_customer()
        grid_id = self.grid.currentData()
        if row is None or grid_id is None:
            return
        rule = self.rule_text.text().strip() if self.save_rule.isChecked() else None
        if rule is None:
            self._resolve(row, grid_id, None)
            return
        from app.services.intake.unmatched import rule_preview

        # Before a rule is kept: what it would route, and where; a rule not specific enough
        # is refused with the reason.
        self.ctx.runner.start(
            "intake.rule_preview",
            self.ctx.read(
                lambda s: rule_preview(s, customer_id=row.customer_id, grid_id=grid_id, text=rule)
            ),
            on_done=lambda p: self._confirm_rule(row, grid_id, rule, p),
            on_error=lambda exc: show_error(self, self.tr("Intake"), exc),
        )

    def _confirm_rule(self, row, grid_id: int, rule: str, preview) -> None:
        self.last_preview = preview
        if preview.refused:
            inform(
                self,
                self.tr("Intake"),
                arg(self.tr("This rule cannot be remembered: %1"), message_text(preview.refused)),
                warning=True,
            )
            return
        no_grid = self.tr("no grid")
        now_in = listed(f"{code or no_grid} ({n})" for code, n in preview.now_in)
        text = arg(
            self.tr(
                "Addresses containing '%1' will go to grid %2: %3 customers in the pool, %4 in "
                "the branch (now in: %5). Remember this rule?"
            ),
            preview.pattern,
            preview.grid_code,
            str(preview.pool),
            str(preview.branch),
            now_in or "—",
        )
        ask(self, self.tr("Intake"), text, lambda: self._resolve(row, grid_id, rule))

    def _resolve(self, row, grid_id: int, rule: str | None) -> None:
        from app.services.intake.unmatched import resolve_unmatched

        actor, user = self.ctx.user.login, self.ctx.user
        self.ctx.runner.start(
            "intake.resolve",
            self.ctx.write(
                lambda s: resolve_unmatched(
                    s,
                    customer_id=row.customer_id,
                    grid_id=grid_id,
                    actor=actor,
                    save_rule=rule,
                    user=user,
                )
            ),
            on_done=self._resolved,
            on_error=lambda exc: show_error(self, self.tr("Intake"), exc),
        )

    def _resolved(self, result) -> None:
        self.changed.emit(result.changes)

    # --- SMS outbox ----------------------------------------------------------------------

    def export_outbox(self, path: str | None = None) -> None:
        """Write the queued messages to ``path`` (asked for when None) as the gateway's CSV."""
        from app.services.intake.outbox import export_outbox

        if path is None:
            from PySide6.QtWidgets import QFileDialog

            name = f"sms-outbox-{self.ctx.as_of:%Y%m%d}.csv"
            path, _ = QFileDialog.getSaveFileName(
                self, self.tr("Export SMS outbox"), name, self.tr("CSV files (*.csv)")
            )
            if not path:
                return
        branch_id = self.ctx.user.branch_id
        target = path
        self.ctx.runner.start(
            "intake.outbox",
            self.ctx.write(lambda s: export_outbox(s, target, branch_id=branch_id)),
            on_done=lambda n: self._exported(n, target),
            on_error=lambda exc: inform(
                self, self.tr("Export SMS outbox"), error_text(exc), warning=True
            ),
            progress_parent=self,
            progress_title=self.tr("Exporting the SMS outbox…"),
        )

    def _exported(self, written: int, path: str) -> None:
        if written == 0:
            text = self.tr("No queued messages with a phone number: %1 holds only the header.")
        else:
            text = self.tr(
                "%2 messages written to %1.\nThey stay queued until the gateway's result file "
                "is imported."
            )
        inform(
            self,
            self.tr("Export SMS outbox"),
            arg(text, path, f"{written:,}"),
        )

    def import_outbox_results(self, path: str | None = None) -> None:
        """Mark messages sent or failed from the gateway's result file (asked for when None)."""
        from app.services.intake.outbox import import_outbox_results

        if path is None:
            from PySide6.QtWidgets import QFileDialog

            path, _ = QFileDialog.getOpenFileName(
                self,
                self.tr("Import gateway results"),
                "",
                self.tr("CSV files (*.csv);;All files (*)"),
            )
            if not path:
                return
        source = path
        self.ctx.runner.start(
            "intake.outbox",
            self.ctx.write(lambda s: import_outbox_results(s, source)),
            on_done=self._imported,
            on_error=lambda exc: inform(
                self,
                self.tr("Import gateway results"),
                self.tr("The file was not imported; nothing changed.") + "\n" + error_text(exc),
                warning=True,
            ),
            progress_parent=self,
            progress_title=self.tr("Importing gateway results…"),
        )

    def _imported(self, result) -> None:
        text = arg(
            self.tr("%1: %2 rows read, %3 messages marked sent, %4 failed."),
            result.file,
            f"{result.rows:,}",
            f"{result.sent:,}",
            f"{result.failed:,}",
        )
        if result.unknown_ids:
            shown = ", ".join(str(i) for i in result.unknown_ids[:10])
            text += "\n" + arg(
                self.tr("%1 message ids are not in this database and were left alone: %2"),
                f"{len(result.unknown_ids):,}",
                shown,
            )
        inform(self, self.tr("Import gateway results"), text)
        self.changed.emit(result.changes)

    def on_changes(self, changes: Changes) -> None:
        if self._loaded and changes.touches("customers", "grids", "tasks", "specialists"):
            self.reload()

    def save_state(self, ws, key: str) -> None:
        ws.save(f"{key}/splitter", self.splitter.saveState())

    def restore_state(self, ws, key: str) -> None:
        state = ws.restore(f"{key}/splitter")
        if state is not None:
            self.splitter.restoreState(state)
