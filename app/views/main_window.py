"""The main window: a sidebar of pages (map, specialists, tasks, charts) and a status bar
that always shows the database in use and the signed-in user."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.db import default_url, resolve_url
from app.models.enums import Role
from app.services.changes import Changes, combined
from app.settings import WindowState
from app.views.context import AppContext
from app.views.database_names import database_label
from app.views.i18n import arg
from app.views.labels import ROLES, label
from app.views.pages import Factory, PageWidget

# After this long the first page has usually loaded: the other pages' modules are imported then.
WARM_UP_MS = 1500


class MainWindow(QMainWindow):
    """The supervisor's desktop.

    Signals:
        data_changed(Changes): emitted once after any change made to the database, with
            what it changed (app.services.changes.Changes, the writer's ``result.changes``);
            every page reads again what the change touched. Pages never call each other.

    What the user looks at (a grid, a specialist, a team) is ``selection`` (ctx.selection, one
    per window): pages set it and follow it themselves, a page built later included.
        signed_out(): the user signed out from the File menu and the window has closed; the
            app shows the sign-in window again.
        derived_stale(): a write committed and left its persistency figures to a job (a
            large rebalance or its undo: app.services.database.unit_of_work); the window runs it,
            saying above the pages that read persistency that their figures are updating, and
            then tells every page (``Changes(derived=True)``).
    """

    data_changed = Signal(object)
    signed_out = Signal()
    derived_stale = Signal()
    updating_changed = Signal(bool)  # the persistency figures are (no longer) being updated

    def __init__(self, ctx: AppContext, *, window_state: WindowState | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.selection = ctx.selection
        self._ws = window_state or WindowState()
        self.setWindowTitle(self.tr("GridDesk"))
        self.resize(1360, 860)

        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(150)
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setStyleSheet(
            "QListWidget { border: none; background: palette(window); font-size: 14px;"
            " outline: 0; }"
            "QListWidget::item { padding: 10px 12px; }"
            "QListWidget::item:selected { background: palette(highlight);"
            " color: palette(highlighted-text); border-radius: 4px; }"
        )
        self.stack = QStackedWidget()
        self.updating_banner = QLabel(
            self.tr(
                "Updating persistency figures after the last change… The figures below do not "
                "include it yet."
            )
        )
        self.updating_banner.setObjectName("updating_banner")
        self.updating_banner.setWordWrap(True)
        self.updating_banner.setStyleSheet(
            "QLabel { background: #fff4ce; color: #5c4400; border: 1px solid #e6cf7a;"
            " border-radius: 4px; padding: 6px 10px; }"
        )
        self.updating_banner.hide()
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.nav)
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.updating_banner)
        right.addWidget(self.stack, 1)
        layout.addLayout(right, 1)
        self.setCentralWidget(central)
        self.nav.currentRowChanged.connect(self._show_page)
        if not ctx.read_only and ctx.user.role != Role.ANALYST:  # an analyst writes no figures
            # Emitted from the job's thread; runs here, on the GUI thread.
            ctx.on_deferred = self.derived_stale.emit
            self.derived_stale.connect(self._bring_current, Qt.ConnectionType.QueuedConnection)
            # Marks a job never got to (the app was closed while it ran) are settled now.
            QTimer.singleShot(0, self._bring_current_if_pending)

        self._build_status_bar()
        from app.views.undo import ChangeHistory

        # Applied plans, undone and redone from the Edit menu (see app/views/undo.py).
        self.history = ChangeHistory(ctx, self)
        self.history.changed.connect(self.data_changed)
        self._build_menus()
        self._add_pages()
        self._restore()
        QTimer.singleShot(WARM_UP_MS, self._warm_up)
        # Plans scheduled for a day that has come take effect now (app.views.scheduled_plans).
        QTimer.singleShot(0, self._release_scheduled)

    def _release_scheduled(self) -> None:
        from app.views.scheduled_plans import release_on_open

        release_on_open(self, self.ctx, self._released)

    def _released(self, done) -> None:
        if not done:
            return
        from app.views.messages import inform
        from app.views.scheduled_plans import released_text

        inform(self, self.tr("Scheduled plans"), released_text(done))
        self.data_changed.emit(combined(r.changes for r in done))

    # --- pages ---------------------------------------------------------------------------

    def _add_pages(self) -> None:
        from app.views.pages import page_factories

        # A page is built the first time it is shown (or asked for): the window appears before
        # matplotlib, folium and the pages' first queries are paid for.
        self.pages = _LazyPages(self)
        for key, title, factory in page_factories():
            self.pages.add(key, factory)
            placeholder = QWidget()
            placeholder.setObjectName(f"placeholder_{key}")
            self.stack.addWidget(placeholder)
            QListWidgetItem(title, self.nav)
        for i in range(len(self.pages)):
            action = QAction(self.nav.item(i).text(), self)
            action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            action.triggered.connect(lambda _=False, row=i: self.nav.setCurrentRow(row))
            self.view_menu.addAction(action)
            self.addAction(action)  # the shortcut works whichever widget has the focus
        self.nav.setCurrentRow(0)

    def _warm_up(self) -> None:
        from app.views.operations import warm_imports

        warm_imports(
            [f"app.views.{key}_page" for key in self.pages] + ["app.services.render.charts"]
        )

    def _build_page(self, key: str, factory: Factory) -> PageWidget:
        page = factory(self.ctx, self)
        if not isinstance(page, PageWidget):
            raise TypeError(f"the {key} page is not a PageWidget")
        page.setObjectName(f"page_{key}")
        if (own := page.layout()) is not None:
            # The window's margins are the page's at its sides: the tables get that room (on
            # a 1366-pixel laptop the widest needed it).
            margins = own.contentsMargins()
            own.setContentsMargins(0, margins.top(), 0, margins.bottom())
        row = list(self.pages).index(key)
        placeholder = self.stack.widget(row)
        current = self.stack.currentIndex()
        self.stack.insertWidget(row, page)
        if placeholder is not None:  # _add_pages put one in every row
            self.stack.removeWidget(placeholder)
            placeholder.deleteLater()
        self.stack.setCurrentIndex(current)
        self.data_changed.connect(page.on_changes)
        page.changed.connect(self.data_changed)
        page.applied.connect(self.history.push_applied)
        page.unheld_tasks_requested.connect(self._show_unheld_tasks)
        # The selection already names whose tasks.
        page.tasks_requested.connect(lambda: self.show_page("tasks"))
        page.set_undo_action(self.history.undo_action)
        page.restore_state(self._ws, f"page/{key}")
        return page

    def _show_unheld_tasks(self) -> None:
        from app.views.tasks_page import TasksPage

        page = self.show_page("tasks")
        assert isinstance(page, TasksPage)
        page.show_unheld()

    def show_page(self, key: str) -> QWidget:
        """Bring the page ``key`` to the front and return it."""
        self.nav.setCurrentRow(list(self.pages).index(key))
        return self.pages[key]

    def _show_page(self, row: int) -> None:
        if row < 0:
            return
        page = self.pages[list(self.pages)[row]]
        self.stack.setCurrentIndex(row)
        page.activate()
        self._show_updating()

    # --- derived figures brought current after a large change --------------------------

    def _bring_current_if_pending(self) -> None:
        from app.services.database import unit_of_work

        self.ctx.runner.start(
            "derived.pending",
            self.ctx.read(unit_of_work.pending),
            on_done=lambda pending: self._bring_current() if pending else None,
            on_error=lambda _exc: None,  # the next write settles them anyway
        )

    def _bring_current(self) -> None:
        from app.services.database import unit_of_work
        from app.views.errors import error_text

        self._set_updating(True)

        def failed(exc: BaseException) -> None:
            # What waited for current figures is not written with the old ones: the user is
            # told, and exports again once the next change (or the next start) settles them.
            dropped = len(self.ctx.waiting)
            self.ctx.waiting = []
            self._set_updating(False)
            text = error_text(exc)
            if dropped:
                text = arg(
                    self.tr(
                        "The figures could not be brought up to date (%1); the workbook asked "
                        "for meanwhile was not written. Export it again."
                    ),
                    text,
                )
            self.statusBar().showMessage(text, 30000)

        maker = self.ctx.Session
        self.ctx.runner.start(
            "derived.bring_current",
            # A few thousand customers per transaction: the user's next write never waits
            # for the whole job.
            lambda _state: unit_of_work.settle_everything(maker),
            on_done=lambda _n: self._brought_current(),
            on_error=failed,
        )

    def _brought_current(self) -> None:
        self._set_updating(False)
        self.data_changed.emit(Changes(derived=True))

    def _set_updating(self, updating: bool) -> None:
        self.ctx.updating = updating
        self._show_updating()
        self.updating_changed.emit(updating)
        if not updating:  # current again (a failed job has dropped what waited, saying so)
            self.ctx.figures_current()

    def _show_updating(self) -> None:
        page = self.stack.currentWidget()
        reads = isinstance(page, PageWidget) and page.reads_persistency
        self.updating_banner.setVisible(self.ctx.updating and reads)

    # --- chrome --------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        role = label(ROLES, self.ctx.user.role)
        self.user_label = QLabel(f"{self.ctx.user.display_name} · {role}")
        self.user_label.setObjectName("user_label")
        db_text = database_label(self.ctx.db_label)  # a name people know; the address on hover
        if self.ctx.read_only:
            db_text = arg(
                self.tr("Offline snapshot (read-only) of %1: %2"), self.ctx.snapshot_label, db_text
            )
        self.db_label = QLabel(db_text)
        self.db_label.setObjectName("db_label")
        self.db_label.setToolTip(self.ctx.db_label)
        as_of = QLabel(arg(self.tr("As of %1"), self.ctx.as_of.isoformat()))
        for w in (self.db_label, as_of, self.user_label):
            w.setStyleSheet("padding: 0 10px;")
            bar.addPermanentWidget(w)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        settings = QAction(self.tr("&Settings…"), self)
        settings.setShortcut(QKeySequence.StandardKey.Preferences)
        settings.triggered.connect(self.open_settings)
        file_menu.addAction(settings)
        branch = QAction(self.tr("&Branch settings…"), self)
        branch.setObjectName("branch_settings")
        branch.triggered.connect(lambda: self.open_branch_settings())
        file_menu.addAction(branch)
        open_copy = QAction(self.tr("Open o&ffline copy…"), self)
        open_copy.setObjectName("open_offline_copy")
        open_copy.triggered.connect(lambda: self.open_offline_copy())
        file_menu.addAction(open_copy)
        offline = QAction(self.tr("Take offline…"), self)
        offline.setObjectName("take_offline")
        offline.setEnabled(not self.ctx.read_only)
        offline.triggered.connect(lambda: self.take_offline())  # not the checked flag
        file_menu.addAction(offline)
        import_extract = QAction(self.tr("&Import extract…"), self)
        import_extract.setObjectName("import_extract")
        import_extract.setVisible(self.ctx.user.may_import)
        import_extract.setEnabled(not self.ctx.read_only)
        import_extract.triggered.connect(lambda: self.import_extract())
        file_menu.addAction(import_extract)
        export_meeting = QAction(self.tr("Export meeting workbook…"), self)
        export_meeting.setObjectName("export_meeting")
        export_meeting.triggered.connect(lambda: self.export_meeting())
        file_menu.addAction(export_meeting)
        reset = QAction(self.tr("Reset window layout"), self)
        reset.triggered.connect(self._reset_layout)
        file_menu.addAction(reset)
        file_menu.addSeparator()
        users = QAction(self.tr("&Users…"), self)
        users.setObjectName("users")
        # Accounts are a senior supervisor's to manage, on the branch's database (not a copy).
        users.setVisible(self.ctx.user.role is Role.SENIOR_SUPERVISOR and not self.ctx.read_only)
        users.triggered.connect(lambda: self.open_users())
        file_menu.addAction(users)
        sign_out = QAction(self.tr("Sign &out"), self)
        sign_out.setObjectName("sign_out")
        sign_out.setEnabled(not self.ctx.read_only)  # an offline copy opens as its taker only
        sign_out.triggered.connect(lambda: self.sign_out())
        file_menu.addAction(sign_out)
        file_menu.addSeparator()
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        edit_menu = self.menuBar().addMenu(self.tr("&Edit"))
        edit_menu.addAction(self.history.undo_action)
        edit_menu.addAction(self.history.redo_action)
        edit_menu.addSeparator()
        history = QAction(self.tr("&History of changes…"), self)
        history.setObjectName("history")
        history.triggered.connect(lambda: self.open_history())
        edit_menu.addAction(history)
        self.view_menu = self.menuBar().addMenu(self.tr("&View"))
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        guide = QAction(self.tr("&User guide"), self)
        guide.setObjectName("user_guide")
        guide.setShortcut(QKeySequence.StandardKey.HelpContents)
        guide.triggered.connect(lambda: self.open_user_guide())
        help_menu.addAction(guide)
        about = QAction(self.tr("&About GridDesk"), self)
        about.setObjectName("about")
        about.triggered.connect(lambda: self.open_about())
        help_menu.addAction(about)

    def open_branch_settings(self) -> QWidget:
        """Open File ▸ Branch settings (window-modal) and return it; what it saves reaches
        every page."""
        from app.views.branch_dialog import BranchDialog

        dialog = BranchDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda _saved: self.data_changed.emit(Changes(settings=True)))
        dialog.open()
        return dialog

    def open_users(self) -> QWidget:
        """Open File ▸ Users (window-modal) and return it."""
        from app.views.users_dialog import UsersDialog

        dialog = UsersDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def sign_out(self) -> bool:
        """Close the window (saving its layout) and announce ``signed_out``; return whether
        it closed."""
        if not self.close():
            return False
        self.signed_out.emit()
        return True

    def open_history(self) -> QWidget:
        """Open Edit ▸ History (window-modal) and return it; what it undoes reaches every page."""
        from app.views.history_dialog import HistoryDialog

        dialog = HistoryDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.undone.connect(lambda result: self.data_changed.emit(result.changes))
        dialog.open()
        return dialog

    def open_settings(self) -> QWidget:
        """Open the settings dialog (window-modal) and return it. When the language or the
        database changed, offer to restart, since both are read at start-up."""
        from app.views.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        prefs = dialog.prefs

        def state() -> tuple[str, str, str]:
            # The settings keep the URL without its password: a new password alone is a change.
            return (prefs.language, prefs.database_url, resolve_url(None, prefs.database_url))

        before = state()

        def saved() -> None:
            if state() != before:
                changed = state()[1:] != before[1:]
                self._offer_restart(prefs.database_url if changed else None)

        dialog.accepted.connect(saved)
        dialog.open()
        return dialog

    def _offer_restart(self, database: str | None = None) -> None:
        """Offer to restart; ``database`` is the newly saved URL ('' for the local file) when
        the database changed, so that it wins over a --db flag or GRIDDESK_DB."""
        from app.views.messages import ask

        ask(
            self,
            self.tr("Settings"),
            self.tr(
                "The new language or database is used from the next start. Restart GridDesk "
                "now? You will sign in again."
            ),
            lambda: self.restart(database),
            yes_text=self.tr("Restart now"),
        )

    def restart(self, database: str | None = None) -> bool:
        """Start GridDesk again (on ``database`` if given), then close this window (saving its
        layout) and quit. Return False, with a message, if the new one cannot start."""
        from PySide6.QtCore import QProcess, QProcessEnvironment
        from PySide6.QtWidgets import QApplication

        from app.credentials import child_environment

        program, arguments = restart_command(database=database)
        # The password travels in the new process's environment, never on its command line.
        url = database or self.ctx.Session.kw["bind"].url.render_as_string(hide_password=False)
        process = QProcess()
        environment = QProcessEnvironment.systemEnvironment()
        for name, value in child_environment(url).items():
            environment.insert(name, value)
        process.setProgram(program)
        process.setArguments(arguments)
        process.setProcessEnvironment(environment)
        started, _pid = process.startDetached()
        if not started:
            self.show_error(
                self.tr("Restart"),
                arg(self.tr("GridDesk could not start again (%1). Start it yourself."), program),
            )
            return False
        self.close()
        QApplication.quit()
        return True

    def take_offline(self, path: str | None = None) -> None:
        """Copy the user's scope into a local snapshot file, after showing its size."""
        from PySide6.QtWidgets import QFileDialog

        from app.services.files.snapshot import plan_snapshot, take_snapshot

        engine = self.ctx.Session.kw["bind"]
        user = self.ctx.user
        plan = plan_snapshot(engine, branch_id=user.branch_id, user=user)
        if path is None:
            answer = QMessageBox.question(
                self,
                self.tr("Take offline"),
                arg(
                    self.tr(
                        "Copy %1 rows (about %2 MB) into a file on this computer for offline review?"
                    ),
                    f"{plan.total_rows:,}",
                    f"{plan.estimated_bytes / 1e6:.0f}",
                ),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
            from app.views.table_export import save_folder

            path, _ = QFileDialog.getSaveFileName(
                self,
                self.tr("Save snapshot"),
                str(save_folder() / "griddesk-offline.sqlite"),  # as the exports do
                "SQLite (*.sqlite)",
            )
            if not path:
                return
        self.ctx.runner.start(
            "snapshot",
            lambda state: take_snapshot(
                engine,
                path,
                branch_id=user.branch_id,
                user=user,
                state=state,
            ),
            on_done=lambda r: self.statusBar().showMessage(
                arg(self.tr("Snapshot saved: %1"), r.path), 10000
            ),
            on_error=lambda exc: self.show_error(self.tr("Take offline"), exc),
            progress_parent=self,
            progress_title=self.tr("Taking the branch offline…"),
        )

    def import_extract(self, kind: str | None = None, path: str | None = None) -> None:
        """Ask for an extract's kind and file (unless given), import it into the user's branch
        in the background, and tell every page."""
        from app.views.import_extract import start_import

        start_import(self, kind, path)

    def export_meeting(self, request=None) -> None:
        """Ask for a period, scope, language and file, then write the meeting workbook in the
        background and say where it went. ``request`` (a MeetingRequest) skips the dialog."""
        from app.views.export_dialog import ExportMeetingDialog, run_meeting_export

        if request is None:
            dialog = ExportMeetingDialog(self.ctx, self)
            if dialog.exec() != ExportMeetingDialog.DialogCode.Accepted:
                return
            request = dialog.request()
        ctx = self.ctx

        def start() -> None:
            ctx.runner.start(
                "export_meeting",
                lambda state: run_meeting_export(ctx.Session, ctx.user, request, ctx.as_of, state),
                on_done=self._meeting_exported,
                on_error=lambda exc: self.show_error(self.tr("Export meeting workbook"), exc),
                progress_parent=self,
                progress_title=self.tr("Writing the meeting workbook…"),
            )

        if ctx.run_when_current(start):
            self.statusBar().showMessage(
                self.tr(
                    "The figures are being updated after the last change; the meeting "
                    "workbook will be written as soon as they are current."
                ),
                30000,
            )

    def _meeting_exported(self, result) -> None:
        text = arg(self.tr("Meeting workbook saved: %1"), result.path)
        self.statusBar().showMessage(text, 15000)
        box = QMessageBox(
            QMessageBox.Icon.Information, self.tr("Export meeting workbook"), text, parent=self
        )
        box.setObjectName("export_done")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        folder = box.addButton(self.tr("Open folder"), QMessageBox.ButtonRole.ActionRole)
        folder.setObjectName("open_folder")
        where = QUrl.fromLocalFile(str(Path(result.path).parent))
        folder.clicked.connect(lambda: QDesktopServices.openUrl(where))
        box.addButton(QMessageBox.StandardButton.Ok)
        box.open()  # not modal to the app: the user may go on working

    def open_user_guide(self) -> QWidget:
        """Open Help ▸ User guide in a window of its own (not modal) and return it."""
        from app.views.help import UserGuideWindow

        window = UserGuideWindow(self)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.show()
        return window

    def open_about(self) -> QWidget:
        """Open Help ▸ About (window-modal) and return it."""
        from app.views.fonts import cjk_family
        from app.views.help import AboutDialog

        dialog = AboutDialog(self.ctx.db_label, self, font_family=cjk_family())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_offline_copy(self, path: str | None = None) -> QWidget | None:
        """Open an offline copy (asked for unless given) read-only in a window of its own, as
        whoever took it; return that window, or None after saying why not."""
        from PySide6.QtWidgets import QApplication, QFileDialog

        from app.views.table_export import save_folder

        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self,
                self.tr("Open offline copy"),
                str(save_folder()),
                self.tr("Offline copies (*.sqlite *.db)"),
            )
            if not path:
                return None
        from app.views.help import offline_copy_context

        try:
            ctx = offline_copy_context(self.ctx, path, runner_parent=QApplication.instance())
        except Exception as exc:
            self.show_error(self.tr("Open offline copy"), exc)
            return None
        window = MainWindow(ctx)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.destroyed.connect(lambda *_: ctx.Session.kw["bind"].dispose())
        window.show()
        return window

    def show_error(self, title: str, exc: BaseException | str) -> None:
        """Show an error as a readable message (never a traceback), without blocking."""
        from app.views.errors import error_text
        from app.views.messages import inform

        inform(self, title, error_text(exc), warning=True)

    # --- state ---------------------------------------------------------------------------

    def _restore(self) -> None:
        geometry = self._ws.restore("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    def _save(self) -> None:
        self._ws.save("main/geometry", self.saveGeometry())
        for key, page in self.pages.built():
            page.save_state(self._ws, f"page/{key}")

    def _reset_layout(self) -> None:
        self._ws.reset()
        self.resize(1360, 860)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._save()
        self.ctx.runner.cancel_all()
        super().closeEvent(event)


def restart_command(
    argv: list[str] | None = None, *, database: str | None = None
) -> tuple[str, list[str]]:
    """Return the program and arguments that start GridDesk as it was started now (the same
    flags, ``sys.argv[1:]`` unless ``argv`` is given). With ``database`` (a URL, '' for the
    local file) it opens that database whatever flag or GRIDDESK_DB chose the current one."""
    import sys

    from app.credentials import without_passwords

    args = without_passwords(list(sys.argv[1:] if argv is None else argv))
    if database is not None:
        kept: list[str] = []
        skip = False
        for a in args:
            if skip:
                skip = False
            elif a == "--db":
                skip = True
            elif not a.startswith("--db="):
                kept.append(a)
        args = ["--db", database.strip() or default_url(), *kept]
    if getattr(sys, "frozen", False):  # a packaged build: the executable is GridDesk itself
        return sys.executable, args
    return sys.executable, ["-m", "app.cli", *args]


class _LazyPages(Mapping[str, PageWidget]):
    """The window's pages by key, in sidebar order; a page is built on first access."""

    def __init__(self, window: MainWindow) -> None:
        self._window = window
        self._factories: dict[str, Factory] = {}
        self._built: dict[str, PageWidget] = {}

    def add(self, key: str, factory: Factory) -> None:
        self._factories[key] = factory

    def __getitem__(self, key: str) -> PageWidget:
        if key not in self._built:
            self._built[key] = self._window._build_page(key, self._factories[key])
        return self._built[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)

    def built(self) -> list[tuple[str, PageWidget]]:
        """Return the pages built so far."""
        return list(self._built.items())
