"""Small, correct Qt item models over plain rows.

``RowTableModel`` holds a list of frozen dataclass rows (rosters, reports). ``KeysetTableModel``
reads a page of rows at a time as the view scrolls, continuing from the last row's key (task
queues of hundreds of thousands of rows). Both are checked with pytest-qt's qtmodeltester.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

R = TypeVar("R")

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row object itself
SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # a value that sorts right (numbers as numbers)
EXPORT_ROLE = Qt.ItemDataRole.UserRole + 3  # the typed value a spreadsheet should hold
KIND_ROLE = (
    Qt.ItemDataRole.UserRole + 4
)  # header: the column's kind (app.services.files.table_file)

_Index = QModelIndex | QPersistentModelIndex
_PALE = QColor("#8c959f")
_ALERT = QBrush(QColor("#b3261e"))


def plain_text(value: Any) -> str:
    """The default display of a cell: the value as a string, nothing for None."""
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: its key, header, how to get the value and how to show it.

    ``kind`` says how the value goes into a spreadsheet ("text", "number", "percent", "date",
    "datetime"); left empty it is "number" for a numeric column shown as is, "date" for a date
    shown as is, else "text" (the cell's display text is exported).
    """

    key: str
    header: str
    value: Callable[[R], Any]
    text: Callable[[Any], str] = plain_text
    numeric: bool = False
    alert: Callable[[R], bool] | None = None
    tooltip: Callable[[R], str] | None = None
    kind: str = ""
    header_tip: str = ""  # what the column means, shown over its header
    # A value on too small a base to judge (a rate on a few policies): drawn pale.
    pale: Callable[[R], bool] | None = None


def column_kind(column: Column, sample: Any = None) -> str:
    """Return how ``column`` is exported (see ``Column.kind``)."""
    if column.kind:
        return column.kind
    if column.text is plain_text:
        if column.numeric:
            return "number"
        if isinstance(sample, date) and not isinstance(sample, datetime):
            return "date"
    return "text"


def _cell(column: Column, row: Any, role: int) -> Any:
    if role == Qt.ItemDataRole.DisplayRole:
        return column.text(column.value(row))
    if role == SORT_ROLE:
        value = column.value(row)
        if value is None:
            return float("-inf") if column.numeric else ""
        return float(value) if column.numeric else str(value)
    if role == ROW_ROLE:
        return row
    if role == EXPORT_ROLE:  # None for text: the exporter takes the display text instead
        value = column.value(row)
        return value if column_kind(column, value) != "text" else None
    if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
        return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if role == Qt.ItemDataRole.ForegroundRole and column.alert is not None and column.alert(row):
        return _ALERT
    if role == Qt.ItemDataRole.ForegroundRole and column.pale is not None and column.pale(row):
        return _PALE
    if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
        return column.tooltip(row)
    return None


def export_cell(column: Column, row: Any) -> tuple[Any, str]:
    """Return a cell's export value (None for a text column) and its display text."""
    return _cell(column, row, EXPORT_ROLE), _cell(column, row, Qt.ItemDataRole.DisplayRole)


def _header(columns: Sequence[Column], section: int, orientation: Qt.Orientation, role: int) -> Any:
    horizontal = orientation == Qt.Orientation.Horizontal
    if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(columns):
        return columns[section].header
    if role == Qt.ItemDataRole.ToolTipRole and horizontal and 0 <= section < len(columns):
        return columns[section].header_tip or None
    if role == KIND_ROLE and horizontal and 0 <= section < len(columns):
        return columns[section].kind or None
    return None


class RowTableModel(QAbstractTableModel, Generic[R]):
    """A table over a list of rows, replaced as a whole when new data arrives."""

    def __init__(self, columns: Sequence[Column[R]], parent=None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._rows: list[R] = []

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, row: int) -> R:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        return _cell(self.columns[index.column()], self._rows[index.row()], role)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: N802
        return _header(self.columns, section, orientation, role)


class KeysetTableModel(QAbstractTableModel, Generic[R]):
    """A table read a page at a time in the database's order, each page from the key the last
    one ended at: the first page shows as soon as it is read, and scrolling to the end fetches
    the next (``canFetchMore`` / ``fetchMore``). How many rows match is not known here.

    ``fetch_page(after)`` returns ``(rows, next_key)``, next_key None at the end;
    ``fetch_rows(ids)`` reads given rows afresh. Sorting only emits ``sort_requested``.
    """

    sort_requested = Signal(str, bool)  # column key, descending

    def __init__(
        self,
        columns: Sequence[Column[R]],
        fetch_page: Callable[[Any], tuple[Sequence[R], Any]],
        fetch_rows: Callable[[Sequence[int]], Sequence[R]],
        *,
        row_id: Callable[[R], int],
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._fetch_page = fetch_page
        self._fetch_rows = fetch_rows
        self._row_id = row_id
        self._rows: list[R] = []
        self._after: Any = None
        self._more = False

    def set_first_page(self, rows: Sequence[R], after: Any) -> None:
        """Show a first page read elsewhere (in the background) and the key that follows it."""
        self.beginResetModel()
        self._rows = list(rows)
        self._after = after
        self._more = False  # a view asks for more as the reset ends: not inside it
        self.endResetModel()
        self._more = after is not None

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: N802, B008
        return not parent.isValid() and self._more

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: N802, B008
        if parent.isValid() or not self._more:
            return
        rows, after = self._fetch_page(self._after)
        self._after, self._more = after, after is not None
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()

    def all_pages(self):
        """Yield every page from the start, read afresh (thread-safe when the fetch is)."""
        after = None
        while True:
            rows, after = self._fetch_page(after)
            yield list(rows)
            if after is None:
                return

    def fetch_rows(self, ids: Sequence[int]) -> list[R]:
        return list(self._fetch_rows(ids))

    def ids(self) -> list[int]:
        return [self._row_id(r) for r in self._rows]

    def row_id(self, row: R) -> int:
        return self._row_id(row)

    def invalidate(self, ids: Sequence[int] | None = None) -> None:
        """Read the given rows (all shown, for None) again in place."""
        wanted = set(self.ids() if ids is None else ids)
        fresh = {self._row_id(r): r for r in self._fetch_rows(sorted(wanted))} if wanted else {}
        for i, r in enumerate(self._rows):
            rid = self._row_id(r)
            if rid in fresh:
                self._rows[i] = fresh[rid]
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(self.columns) - 1)
            )

    def row_at(self, row: int) -> R | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.row_at(index.row())
        return None if row is None else _cell(self.columns[index.column()], row, role)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: N802
        return _header(self.columns, section, orientation, role)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if 0 <= column < len(self.columns):
            self.sort_requested.emit(
                self.columns[column].key, order == Qt.SortOrder.DescendingOrder
            )
