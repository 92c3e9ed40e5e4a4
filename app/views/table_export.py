"""Any table of the app saved as Excel or CSV, or copied, from its context menu.

``install_table_export(view, name=..., runner=...)`` gives a QTableView the menu. What is
written is what the view shows: its visible columns in their on-screen order, the header labels
as displayed (in the user's language), the rows in the current sort and filter order, and the
cells as the models give them (contact data is already masked there for the user's role).
Typed values (numbers, rates, dates) come from ``EXPORT_ROLE`` when the model offers it.

Rows held in memory are read on the GUI thread (a few microseconds a cell) and written in the
background; a ``KeysetTableModel`` (task queues of hundreds of thousands of rows) has its rows
read in the background as well, page by page from the start, in its sort order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractProxyModel,
    QDate,
    QModelIndex,
    QObject,
    QStandardPaths,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QTableView

from app.services.files.inert import csv_value
from app.services.files.table_file import TableData, write_table
from app.services.messages import Message
from app.services.progress import check
from app.views.calendar import py_date, zone
from app.views.errors import show_error
from app.views.i18n import arg, translate
from app.views.operations import BackgroundRunner, JobState
from app.views.table_models import (
    EXPORT_ROLE,
    KIND_ROLE,
    KeysetTableModel,
    export_cell,
)

_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


def visible_columns(view: QTableView) -> list[int]:
    """Return the logical indexes of the view's visible columns, in on-screen order."""
    header = view.horizontalHeader()
    out = []
    for visual in range(header.count()):
        logical = header.logicalIndex(visual)
        if not header.isSectionHidden(logical):
            out.append(logical)
    return out


def _kind_of(values: Sequence[Any]) -> str:
    for v in values:
        if v is None:
            continue
        if isinstance(v, datetime):
            return "datetime"
        if isinstance(v, date):
            return "date"
        if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
            return "number"
        return "text"
    return "text"


def table_data(
    headers: list[str],
    header_kinds: list[str | None],
    cells: list[list[tuple[Any, str]]],
) -> TableData:
    """Return the ``TableData`` of rows of (export value, display text) cells.

    A column's kind is the one its header declares, else the type of its first typed value;
    a cell without a typed value holds its display text (an empty cell when there is none).
    """
    ncols = len(headers)
    kinds = [header_kinds[c] or _kind_of([row[c][0] for row in cells[:200]]) for c in range(ncols)]
    values = []
    texts = []
    for row in cells:
        out = []
        for c, (value, text) in enumerate(row):
            if kinds[c] == "text" or value is None:
                out.append(text or None)
            else:
                out.append(value)
        values.append(out)
        texts.append([text for _, text in row])
    return TableData(headers=headers, kinds=kinds, values=values, texts=texts)


def read_view(view: QTableView, rows: Sequence[int] | None = None) -> TableData:
    """Return what ``view`` shows (all rows, or the given view rows) as a ``TableData``."""
    model = view.model()
    cols = visible_columns(view)
    if rows is None:
        rows = [r for r in range(model.rowCount()) if not view.isRowHidden(r)]
    source, down = _source_of(model)
    src_rows = [down(model.index(r, 0)).row() for r in rows]
    probe = rows[0] if rows else 0
    src_cols = [down(model.index(probe, c)).column() if rows else c for c in cols]
    headers, kinds = _headers(source, src_cols)
    display = Qt.ItemDataRole.DisplayRole
    cells = []
    for r in src_rows:
        line = []
        for c in src_cols:
            index = source.index(r, c)
            text = source.data(index, display)
            line.append((source.data(index, EXPORT_ROLE), "" if text is None else str(text)))
        cells.append(line)
    return table_data(headers, kinds, cells)


def _source_of(
    model: QAbstractItemModel,
) -> tuple[QAbstractItemModel, Callable[[QModelIndex], QModelIndex]]:
    """Return the model under the view's plain proxies and a function mapping an index to it.

    The cells are read from that model with direct Python calls: PySide6 6.12 on Python 3.11
    loses a reference to None each time Python reads, through Qt (``QModelIndex.data()``, a
    proxy's ``data()``), a role a Python model answers with None; tens of thousands of such reads
    free None and abort the program. Proxies that compute cells of their own are kept.
    """
    chain = []
    while isinstance(model, QAbstractProxyModel) and not _computes_data(model):
        chain.append(model)
        model = model.sourceModel()

    def down(index: QModelIndex) -> QModelIndex:
        for proxy in chain:
            index = proxy.mapToSource(index)
        return index

    return model, down


def _computes_data(model: QAbstractItemModel) -> bool:
    """Return whether a Python class of ``model`` overrides ``data`` or ``headerData``."""
    return any(
        ("data" in k.__dict__ or "headerData" in k.__dict__)
        for k in type(model).__mro__
        if not k.__module__.startswith(("PySide6", "Shiboken"))
    )


def _headers(model: QAbstractItemModel, cols: list[int]) -> tuple[list[str], list[str | None]]:
    horizontal = Qt.Orientation.Horizontal
    headers = [
        str(model.headerData(c, horizontal, Qt.ItemDataRole.DisplayRole) or "").replace("\n", " ")
        for c in cols
    ]
    kinds = [model.headerData(c, horizontal, KIND_ROLE) for c in cols]
    return headers, kinds


def keyset_reader(view: QTableView) -> Callable[[JobState], TableData]:
    """Return a background job reading every row of the view's ``KeysetTableModel``, page by
    page from the start (not only the pages scrolled to)."""
    model = view.model()
    assert isinstance(model, KeysetTableModel)
    cols = visible_columns(view)
    headers, kinds = _headers(model, cols)
    columns = [model.columns[c] for c in cols]

    def read(state: JobState) -> TableData:
        cells: list[list[tuple[Any, str]]] = []
        for rows in model.all_pages():
            check(state)
            cells.extend([export_cell(col, row) for col in columns] for row in rows)
        return table_data(headers, kinds, cells)

    return read


def save_folder() -> Path:
    """Return the folder a save dialog starts in: the user's Documents folder when it exists,
    else their home folder (a new account, or a Linux desktop without one, has none)."""
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if documents and Path(documents).is_dir():
        return Path(documents)
    return Path.home()


def default_file_name(name: str, suffix: str, *, today: date | None = None) -> str:
    """Return e.g. ``专员_2026-11-20.xlsx``: the table's name and the day, safe as a file name."""
    day = (today or py_date(QDate.currentDate())).isoformat()
    stem = _UNSAFE.sub("_", name).strip("._") or "table"
    return f"{stem}_{day}{suffix}"


class TableExporter(QObject):
    """The context menu of one table view and the exports it starts.

    Signals:
        exported(str): a file was written (its path).
    """

    exported = Signal(str)

    def __init__(self, view: QTableView, *, name: str, runner: BackgroundRunner) -> None:
        super().__init__(view)
        self.setObjectName("table_export")
        self.view = view
        self.name = name
        self.runner = runner
        self.copy_action = QAction(translate("TableExport", "Copy"), view)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.copy_action.triggered.connect(self.copy_selection)
        view.addAction(self.copy_action)
        self.xlsx_action = QAction(translate("TableExport", "Export table as Excel…"), view)
        self.xlsx_action.triggered.connect(lambda: self.export_table(suffix=".xlsx"))
        self.csv_action = QAction(translate("TableExport", "Export table as CSV…"), view)
        self.csv_action.triggered.connect(lambda: self.export_table(suffix=".csv"))
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._show_menu)

    def menu(self) -> QMenu:
        """Return the context menu (built afresh: the copy entry depends on the selection)."""
        menu = QMenu(self.view)
        self.copy_action.setEnabled(bool(self._selected_rows()))
        menu.addAction(self.copy_action)
        menu.addSeparator()
        has_rows = self.view.model() is not None and self.view.model().rowCount() > 0
        for action in (self.xlsx_action, self.csv_action):
            action.setEnabled(has_rows)
            menu.addAction(action)
        return menu

    def _show_menu(self, pos) -> None:
        menu = self.menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    # --- copy ----------------------------------------------------------------------------

    def _selected_rows(self) -> list[int]:
        selection = self.view.selectionModel()
        if selection is None:
            return []
        return sorted({i.row() for i in selection.selectedIndexes()})

    def copy_selection(self) -> str:
        """Copy the selected rows' visible cells as tab-separated text; return the text."""
        rows = self._selected_rows()
        if not rows:
            return ""
        table = read_view(self.view, rows)
        text = "\n".join("\t".join(_tsv(t) for t in line) for line in table.texts)
        QGuiApplication.clipboard().setText(text)
        return text

    # --- export --------------------------------------------------------------------------

    def ask_path(self, suffix: str) -> str:
        """Ask where to save; return the path chosen ('' when cancelled)."""
        start = str(save_folder() / default_file_name(self.name, suffix))
        filters = (
            translate("TableExport", "Excel workbook (*.xlsx)")
            if suffix == ".xlsx"
            else translate("TableExport", "CSV, UTF-8 (*.csv)")
        )
        path, _ = QFileDialog.getSaveFileName(
            self.view, translate("TableExport", "Export table"), start, filters
        )
        if path and Path(path).suffix.lower() != suffix:
            path += suffix
        return path

    def export_table(self, path: str | None = None, *, suffix: str = ".xlsx") -> str | None:
        """Write the table to ``path`` (asked for when None) in the background; return the
        path, or None when the user cancelled. ``exported`` is emitted once it is written."""
        if path is None:
            path = self.ask_path(suffix)
            if not path:
                return None
        target = str(path)
        name = self.name
        if isinstance(self.view.model(), KeysetTableModel):
            read = keyset_reader(self.view)
        else:
            # Rows in memory are read here (about 5 µs a cell; a few thousand rows in this app).
            QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                table = read_view(self.view)
            finally:
                QGuiApplication.restoreOverrideCursor()

            def read(_state: JobState) -> TableData:
                return table

        def job(state: JobState) -> str:
            data = read(state)
            write_table(target, data, sheet_name=name, title=name, state=_Half(state), tz=zone())
            return target

        self.runner.start(
            f"table_export.{id(self)}.{target}",  # a new export of the same file replaces it
            job,
            on_done=self._written,
            on_error=self._failed,
            progress_parent=self.view.window(),
            progress_title=arg(translate("TableExport", "Exporting %1…"), name),
        )
        return target

    def _written(self, path: str) -> None:
        window = self.view.window()
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(arg(translate("TableExport", "Saved %1"), path), 10_000)
        self.exported.emit(path)

    def _failed(self, exc: BaseException) -> None:
        show_error(self.view, translate("TableExport", "Export table"), exc)


class _Half:
    """Reports the writing as the second half of the job's progress."""

    def __init__(self, state: JobState) -> None:
        self._state = state

    def report(self, fraction: float, step: Message | None = None) -> None:
        self._state.report(0.5 + fraction / 2, step)

    def cancelled(self) -> bool:
        return self._state.cancelled()


def _tsv(text: str) -> str:
    """A cell as pasted into a spreadsheet: on one line, and never a live formula (a name
    starting with = + - @ gets the ' that spreadsheets read as "text")."""
    return csv_value(text.replace("\t", " ").replace("\r", " ").replace("\n", " "))


def install_table_export(view: QTableView, *, name: str, runner: BackgroundRunner) -> TableExporter:
    """Give ``view`` a context menu to copy rows and export the table; return the exporter."""
    return TableExporter(view, name=name, runner=runner)
