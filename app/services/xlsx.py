"""The one streaming Excel writer: a sheet written row by row into openpyxl's write-only
workbook, so memory stays flat whatever the row count. The detail export and every table the
app exports (``app.services.table_file``) write through it; the meeting and scorecard
workbooks, small and laid out cell by cell with charts, use ``app.services.exports.sheets``
on ordinary sheets, with the same widths (:func:`display_width`).

Every sheet gets a styled, frozen header with an autofilter, column widths, typed cells with
their number formats (one styled cell per format reused row after row: creating a styled cell
per value cost more than writing it) and text that cannot run as a formula
(``app.services.inert``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.services.inert import inert_cell, mark_text, text_columns_inert

# A column's number format: None for text, a format for every value, or one chosen per value.
NumberFormat = str | Callable[[Any], str | None] | None


@dataclass(frozen=True)
class Column:
    header: str
    number_format: NumberFormat = None
    width: float = 10.0  # Excel's width units


def display_width(text: str) -> int:
    """Return how many narrow characters ``text`` takes on screen (CJK characters count two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def stream_sheet(
    wb: Any,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    header_style: Callable[[Any], None],
    setup: Callable[[Any], None] | None = None,
    every: int = 2_000,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """Append a sheet ``title`` to the write-only workbook ``wb`` and stream ``rows`` into it
    under a header styled by ``header_style(cell)``; ``setup(ws)`` adds what the sheet needs
    besides (print settings). ``on_rows(n)`` hears every ``every`` rows and the rest at the
    end. Return the rows written."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    for c, col in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(c)].width = col.width
    if columns:
        ws.freeze_panes = "A2"
    if setup is not None:
        setup(ws)
    header = []
    for col in columns:
        cell = mark_text(WriteOnlyCell(ws, value=col.header))
        header_style(cell)
        header.append(cell)
    ws.append(header)

    fixed: dict[int, Any] = {}  # column -> its one styled cell
    chosen: dict[int, tuple[Callable[[Any], str | None], dict[str, Any]]] = {}
    for c, col in enumerate(columns):
        fmt = col.number_format
        if isinstance(fmt, str):
            cell = WriteOnlyCell(ws)
            cell.number_format = fmt
            fixed[c] = cell
        elif fmt is not None:
            chosen[c] = (fmt, {})
    texts = [c for c, col in enumerate(columns) if col.number_format is None]
    n = 0
    for source in rows:
        row = list(source)
        for c, cell in fixed.items():
            v = row[c]
            if v is None:
                continue
            if v.__class__ is str:  # a placeholder ("—") in a typed column: text, inert
                row[c] = inert_cell(ws, v)
                continue
            cell.value = v
            row[c] = cell
        for c, (pick, cells) in chosen.items():
            v = row[c]
            if v is None:
                continue
            if v.__class__ is str:
                row[c] = inert_cell(ws, v)
                continue
            fmt = pick(v)
            if fmt is None:
                continue
            cell = cells.get(fmt)
            if cell is None:
                cell = cells[fmt] = WriteOnlyCell(ws)
                cell.number_format = fmt
            cell.value = v
            row[c] = cell
        text_columns_inert(ws, row, texts)
        # Write-only mode writes the row out now: its styled cells are free for the next.
        ws.append(row)
        n += 1
        if on_rows is not None and n % every == 0:
            on_rows(every)
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{n + 1}"
    if on_rows is not None:
        on_rows(n % every)
    return n


def close_quietly(wb: Any) -> None:
    """Finish a failed write-only workbook's streamed sheets, so their writers let their
    temporary files go; nothing is saved."""
    import contextlib

    for ws in wb.worksheets:
        with contextlib.suppress(Exception):  # already failing: the first error is told
            ws.close()
