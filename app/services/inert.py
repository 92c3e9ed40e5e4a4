"""Text that leaves GridDesk stays text: no exported value can become a live formula.

A customer name, address, product, task outcome, team or specialist name comes from outside
(core-system extracts, imports) and may start with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return. A spreadsheet opening the file would run such a value as a formula
(``=HYPERLINK("http://…?x="&A1)`` sends the row away). Following OWASP's guidance on CSV
injection:

- in CSV, such a value is written with a leading ``'`` (``csv_value``, ``InertCsvWriter``);
- in XLSX, such a cell is a string cell with Excel's quote prefix, so neither opening the
  file nor editing the cell turns it into a formula (``inert_cell``, ``make_workbook_inert``).

A value that is only a signed number, perhaps with a unit (``-12.5``, ``+8613800000000``,
``+8 pts``, ``-3.5 个百分点``), is left alone: it holds no call, reference or operator a
spreadsheet could run, a phone number keeps its ``+`` and a change keeps its sign.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d,]*(\.\d+)?%?( ?[A-Za-z\u4e00-\u9fff]+)?")


def is_risky(value: object) -> bool:
    """Return True when a spreadsheet could read ``value`` as a formula."""
    return (
        isinstance(value, str)
        and value.startswith(TRIGGERS)
        and _PLAIN_NUMBER.fullmatch(value) is None
    )


def csv_value(value: Any) -> Any:
    """Return ``value`` as a CSV field that no spreadsheet runs (a risky text gets a ``'``)."""
    return "'" + value if is_risky(value) else value


def csv_row(row: Iterable[Any]) -> list[Any]:
    """Return the row with every risky text made inert for CSV."""
    return [csv_value(v) for v in row]


class InertCsvWriter:
    """A ``csv.writer`` whose every row is made inert first."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(csv_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def mark_text(cell: Any) -> Any:
    """Make an openpyxl cell holding a risky text a plain string cell with the quote prefix;
    return the cell."""
    if is_risky(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def inert_cell(ws: Any, value: Any) -> Any:
    """Return what to append to a write-only sheet for ``value``: the value itself, or a string
    cell with the quote prefix when the value is a risky text."""
    if not is_risky(value):
        return value
    from openpyxl.cell import WriteOnlyCell

    return mark_text(WriteOnlyCell(ws, value=value))


def text_columns_inert(ws: Any, row: list[Any], text_columns: Sequence[int]) -> list[Any]:
    """Replace, in place, each risky text among ``text_columns`` of a write-only row by an inert
    cell; return the row."""
    for i in text_columns:
        v = row[i]
        if v.__class__ is str and v and v[0] in RISKY_FIRST:
            row[i] = inert_cell(ws, v)
    return row


# The first characters of a risky text: a cheap test before is_risky's.
RISKY_FIRST = frozenset(t[0] for t in TRIGGERS)


def make_workbook_inert(wb: Any) -> int:
    """Turn every cell of a (normal-mode) workbook that would run as a formula into text;
    return how many cells were changed. GridDesk writes no formulas of its own, so every
    formula cell is data that came in from outside."""
    changed = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if is_risky(cell.value):
                    mark_text(cell)
                    changed += 1
    return changed
