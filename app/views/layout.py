"""Layout helpers shared by pages and dialogs."""

from __future__ import annotations

from PySide6.QtWidgets import QSplitter, QTableView


def content_width(table: QTableView) -> int:
    """Return the width ``table`` needs to show every visible column whole, whatever its last
    column is stretched to now."""
    header = table.horizontalHeader()
    shown = [i for i in range(header.count()) if not header.isSectionHidden(i)]
    widths = [max(header.sectionSizeHint(i), table.sizeHintForColumn(i)) for i in shown]
    if widths and header.stretchLastSection():  # a stretched last column keeps its default
        widths[-1] = max(widths[-1], header.defaultSectionSize())
    vertical = table.verticalHeader().width() if table.verticalHeader().isVisible() else 0
    scroll = table.verticalScrollBar().sizeHint().width()
    return sum(widths) + vertical + scroll + 2 * table.frameWidth()


def share_by_content(split: QSplitter) -> None:
    """Size the tables side by side in ``split`` to their columns: each gets what it needs and
    the last one the room left over, or, when the splitter is too narrow for all, widths in
    proportion to their needs."""
    tables = [split.widget(i) for i in range(split.count())]
    if not all(isinstance(t, QTableView) for t in tables):
        raise TypeError("share_by_content sizes tables only")
    total = sum(split.sizes())
    if total <= 0:
        return
    need = [content_width(t) for t in tables]  # type: ignore[arg-type]
    if sum(need) <= total:
        sizes = [*need[:-1], total - sum(need[:-1])]
    else:
        sizes = [total * n // sum(need) for n in need]
    split.setSizes(sizes)
