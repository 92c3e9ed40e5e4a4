"""Measuring tables as Qt draws them: which cells and headers a user sees cut.

A cell is cut when its text is wider than the room the style gives it (the cell less the
grid line, the focus-frame margins and any check box or icon): Qt then wraps it onto a line
the row has no room for, or draws it with "…". A header line is cut when it is wider than
the header's label room (the section less its margins and, in a sortable table, the sort
arrow): Qt clips it. Each cut reads
``where/column/row: text (needs N px, has M px)``, N and M being widths of the column.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QStyle,
    QStyleOptionComboBox,
    QStyleOptionHeader,
    QStyleOptionViewItem,
    QTableView,
    QTreeView,
    QWidget,
)

ROWS = 200  # the rows of a table measured: those loaded first


@dataclass(frozen=True)
class Cut:
    where: str  # page/table
    column: str  # the column's header, on one line
    row: int | None  # None: the header itself
    text: str
    needs: int  # the column width the text needs
    has: int  # the column's width

    def __str__(self) -> str:
        row = "header" if self.row is None else f"row {self.row}"
        return f"{self.where}/{self.column}/{row}: {self.text!r} (needs {self.needs} px, has {self.has} px)"


def tables(widget: QWidget) -> list[QAbstractItemView]:
    """Return the tables and trees shown in ``widget`` (those hidden, in another tab or a
    closed dialog, left out)."""
    found = [widget, *widget.findChildren(QAbstractItemView)]
    return [
        v for v in found if isinstance(v, QTableView | QTreeView) and v.isVisible() and v.model()
    ]


def header_of(view: QAbstractItemView) -> QHeaderView:
    if isinstance(view, QTableView):
        return view.horizontalHeader()
    assert isinstance(view, QTreeView)
    return view.header()


def column_name(view: QAbstractItemView, column: int) -> str:
    text = view.model().headerData(column, Qt.Orientation.Horizontal)
    return " ".join(str(text or column).split())


def column_key(view: QAbstractItemView, column: int) -> str:
    """The column's key in the app's models (Column.key), else its number."""
    model = view.model()
    while not hasattr(model, "columns") and hasattr(model, "sourceModel"):
        model = model.sourceModel()  # a proxy keeps the source's columns
    columns = getattr(model, "columns", None)
    if columns is not None and column < len(columns):
        return str(columns[column].key)
    return str(column)


def shown_columns(view: QAbstractItemView) -> list[int]:
    header = header_of(view)
    return [c for c in range(header.count()) if not header.isSectionHidden(c)]


def header_cuts(view: QAbstractItemView, where: str) -> list[Cut]:
    """The header lines wider than their section's label room."""
    header = header_of(view)
    style = header.style()
    sortable = isinstance(view, QTableView | QTreeView) and view.isSortingEnabled()
    metrics = QFontMetricsF(header.font())
    cuts: list[Cut] = []
    for c in shown_columns(view):
        text = str(view.model().headerData(c, Qt.Orientation.Horizontal) or "")
        option = QStyleOptionHeader()
        option.initFrom(header)
        option.state |= QStyle.StateFlag.State_Horizontal
        option.orientation = Qt.Orientation.Horizontal
        option.section = c
        option.text = text
        option.textAlignment = header.defaultAlignment()
        option.rect = QRect(0, 0, header.sectionSize(c), header.height())
        # Any column of a sortable table may show the arrow: it is clicked on any header.
        option.sortIndicator = (
            QStyleOptionHeader.SortIndicator.SortDown
            if sortable
            else QStyleOptionHeader.SortIndicator.None_
        )
        room = style.subElementRect(QStyle.SubElement.SE_HeaderLabel, option, header).width()
        for line in text.split("\n"):
            width = math.ceil(metrics.horizontalAdvance(line))
            if width > room:
                has = header.sectionSize(c)
                cuts.append(Cut(where, column_name(view, c), None, line, has + width - room, has))
    return cuts


def cell_cuts(
    view: QAbstractItemView,
    where: str,
    *,
    elidable: Collection[str] = (),
    rows: int = ROWS,
) -> list[Cut]:
    """The cells (of the first ``rows`` rows) whose text Qt draws cut. A column whose key is
    in ``elidable`` may cut a text the cell's tooltip carries whole."""
    model = view.model()
    header = header_of(view)
    style = view.style()
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    cuts: list[Cut] = []
    # A table draws its grid in the last pixel of each column: the cell has the rest.
    grid = 1 if isinstance(view, QTableView) and view.showGrid() else 0
    for c in shown_columns(view):
        width = header.sectionSize(c)
        may_elide = column_key(view, c) in elidable
        for r in range(min(model.rowCount(), rows)):
            if isinstance(view, QTableView) and view.isRowHidden(r):
                continue
            index = model.index(r, c)
            option = QStyleOptionViewItem()
            view.initViewItemOption(option)
            option.rect = QRect(0, 0, width - grid, max(view.sizeHintForRow(r), 1))
            delegate = view.itemDelegateForIndex(index)
            delegate.initStyleOption(option, index)
            text = option.text
            box = option.features & QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
            if box:
                check = style.subElementRect(
                    QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, view
                )
                if check.right() > option.rect.right():
                    needs = check.right() + 1 + margin + grid
                    cuts.append(Cut(where, column_name(view, c), r, "☐", needs, width))
            if not text:
                continue
            rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, view)
            room = rect.width() - 2 * margin
            metrics = QFontMetricsF(option.font)
            needs = max(math.ceil(metrics.horizontalAdvance(line)) for line in text.split("\n"))
            if needs <= room and "…" not in text:
                continue
            tip = str(index.data(Qt.ItemDataRole.ToolTipRole) or "")
            if may_elide and text in tip:
                continue
            cuts.append(Cut(where, column_name(view, c), r, text, width + needs - room, width))
    return cuts


def combo_cuts(combo: QComboBox, where: str) -> list[Cut]:
    """The choices of ``combo`` wider than the field that shows the one chosen (Qt clips it:
    a name shown as its first letters)."""
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    style = combo.style()
    field = style.subControlRect(
        QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, combo
    )
    room = field.width() - 2  # Qt draws the text 1 px in from each side
    metrics = QFontMetricsF(combo.font())
    cuts = []
    for i in range(combo.count()):
        text = combo.itemText(i)
        needs = math.ceil(metrics.horizontalAdvance(text))
        if needs > room:
            cuts.append(Cut(where, "editor", i, text, combo.width() + needs - room, combo.width()))
    return cuts


def scrolls_sideways(view: QAbstractItemView) -> bool:
    return view.horizontalScrollBar().maximum() > 0


def layout_cuts(
    widget: QWidget,
    where: str,
    *,
    elidable: Mapping[str, Collection[str]] | None = None,
    wide: Iterable[str] = (),
    rows: int = ROWS,
) -> list[str]:
    """Every problem of the tables shown in ``widget``, in words: a table that needs sideways
    scrolling (unless its object name is in ``wide``), a header line or a cell cut.
    ``elidable`` maps a table's object name to the column keys that may elide (a tooltip
    carrying the whole text)."""
    elidable = elidable or {}
    wide = set(wide)
    found: list[str] = []
    for view in tables(widget):
        name = f"{where}/{view.objectName() or type(view).__name__}"
        if scrolls_sideways(view) and view.objectName() not in wide:
            widths = ", ".join(
                f"{column_name(view, c)} {header_of(view).sectionSize(c)}"
                for c in shown_columns(view)
            )
            excess = header_of(view).length() - view.viewport().width()
            found.append(
                f"{name}: scrolls sideways, its columns {excess} px wider than the "
                f"{view.viewport().width()} px it has ({widths})"
            )
        found += [str(cut) for cut in header_cuts(view, name)]
        keys = elidable.get(view.objectName(), ())
        found += [str(cut) for cut in cell_cuts(view, name, elidable=keys, rows=rows)]
    return found
