"""Layout helpers shared by pages and dialogs."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QStyle, QTableView


def content_width(table: QTableView) -> int:
    """Return the width ``table`` needs to show every visible column whole, whatever its last
    column is stretched to now."""
    header = table.horizontalHeader()
    shown = [i for i in range(header.count()) if not header.isSectionHidden(i)]
    widths = [fitted_width(table, i) for i in shown]
    if widths and header.stretchLastSection():  # a stretched last column keeps its default
        widths[-1] = max(widths[-1], header.defaultSectionSize())
    vertical = table.verticalHeader().width() if table.verticalHeader().isVisible() else 0
    scroll = table.verticalScrollBar().sizeHint().width()
    return sum(widths) + vertical + scroll + 2 * table.frameWidth()


def share_by_content(split: QSplitter, tables: Sequence[QTableView] | None = None) -> None:
    """Size the panes side by side in ``split`` to the columns of their tables (``tables``,
    one per pane, the panes themselves by default): each gets what its table needs, with
    whatever surrounds the table in its pane, and the last one the room left over; when the
    splitter is too narrow for all, widths in proportion to their needs."""
    # widget(i) is None only for an index past count(), so none is dropped here.
    panes = [w for i in range(split.count()) if (w := split.widget(i)) is not None]
    given = list(tables) if tables is not None else panes
    tables = [t for t in given if isinstance(t, QTableView)]
    if len(tables) != len(given) or len(tables) != len(panes):
        raise TypeError("share_by_content needs one table per pane")
    total = sum(split.sizes())
    if total <= 0:
        return
    need = [
        content_width(t) + max(0, pane.width() - t.width())
        for pane, t in zip(panes, tables, strict=True)
    ]
    if sum(need) <= total:
        sizes = [*need[:-1], total - sum(need[:-1])]
    else:
        sizes = [total * n // sum(need) for n in need]
    split.setSizes(sizes)


def refit_side_by_side(split: QSplitter, tables: Sequence[QTableView] | None = None) -> None:
    """Fit the columns of the tables side by side in ``split`` again after their values
    changed (an edited plan: a longer name, a mark); share the width again only if one of them
    needs more than it has now, else the division the user chose stays."""
    panes = [w for i in range(split.count()) if (w := split.widget(i)) is not None]
    views = [t for t in (tables if tables is not None else panes) if isinstance(t, QTableView)]
    for t in views:
        fit_columns(t)
    if any(content_width(t) > t.width() for t in views):
        share_by_content(split, tables)


# Room left in a header section for the sort arrow, instead of the header's full height that
# Qt reserves in every section (twice as much for a two-line header).
SORT_ARROW_ROOM = 14


def fitted_width(table: QTableView, column: int) -> int:
    """Return the width column ``column`` needs: its contents, or its header text (the
    longest line of it) with the header's margins and a small room for the sort arrow."""
    header = table.horizontalHeader()
    model = table.model()
    text = str(model.headerData(column, Qt.Orientation.Horizontal) or "") if model else ""
    metrics = header.fontMetrics()
    label = max((metrics.horizontalAdvance(line) for line in text.split("\n")), default=0)
    margin = header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
    return max(table.sizeHintForColumn(column), label + 2 * margin + SORT_ARROW_ROOM)


def fit_columns(table: QTableView) -> None:
    """Size every column to what it needs (:func:`fitted_width`): a two-line header takes the
    width of its longer line, and a table of many short columns needs no sideways scrolling
    (``resizeColumnsToContents`` reserves the header's full height for the sort arrow)."""
    header = table.horizontalHeader()
    if table.model() is None:
        return
    for c in range(header.count()):
        if not header.isSectionHidden(c):
            header.resizeSection(c, fitted_width(table, c))
