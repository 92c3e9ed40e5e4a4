"""A table as the user sees it, written to an Excel workbook or a CSV file. No Qt here.

The views collect what a table shows (visible columns in their order, header labels in the
user's language, rows in the view's order) into a ``TableData``; this module writes it.
Excel gets typed cells (numbers as numbers, rates as percentages, dates as dates) under a bold,
frozen header with an autofilter; CSV gets the text as shown, UTF-8 with a byte-order mark so
Excel on a Chinese Windows opens it without garbling. Files are written beside the target and
renamed over it, so a failed or cancelled export never leaves half a file under the name chosen.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal

from app.services.clock import branch_tz
from app.services.errors import DomainError
from app.services.files.atomic import atomic_path
from app.services.files.inert import InertCsvWriter
from app.services.files.xlsx import DATE_FORMAT, DATETIME_FORMAT, Column, NumberFormat, book
from app.services.files.xlsx import display_width as xlsx_display_width
from app.services.files.xlsx import sheet_name as valid_sheet_name
from app.services.progress import JobState, check

Kind = Literal["text", "number", "percent", "date", "datetime"]
KINDS: tuple[str, ...] = ("text", "number", "percent", "date", "datetime")

PERCENT_FORMAT = "0.0%"
INTEGER_FORMAT = "0"
DECIMAL_FORMAT = "0.0#"
MAX_WIDTH = 60
WIDTH_SAMPLE = 2000  # rows looked at to fit a column's width
_EXCEL_MAX_ROWS = 1_048_576


class TableFileError(DomainError, ValueError):
    """A table that cannot be written as asked (a file type, a sheet too long)."""


@dataclass(frozen=True)
class TableData:
    """What a table shows: one header label and kind per column, and rows of cells.

    ``values`` holds typed cells (``None`` for an empty one) for Excel; ``texts`` the text as
    displayed, for CSV and for fitting column widths. Both have one list per row, in order.
    """

    headers: list[str]
    kinds: list[str]
    values: list[list[Any]]
    texts: list[list[str]]

    def __post_init__(self) -> None:
        if len(self.kinds) != len(self.headers):
            raise ValueError("one kind per header is needed")
        if len(self.values) != len(self.texts):
            raise ValueError("values and texts must have the same rows")
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown column kinds: {sorted(unknown)}")

    @property
    def row_count(self) -> int:
        return len(self.values)


def write_table(
    path: str | os.PathLike[str],
    table: TableData,
    *,
    sheet_name: str = "Sheet1",
    title: str = "",
    state: JobState | None = None,
    tz: str | None = None,
) -> Path:
    """Write ``table`` as ``.xlsx`` or ``.csv`` (by the file's suffix), times in the branch's
    time zone ``tz``; return the path."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".xlsx":
        write_xlsx(target, table, sheet_name=sheet_name, title=title, state=state, tz=tz)
    elif suffix == ".csv":
        write_csv(target, table, state=state)
    else:
        raise TableFileError("table.suffix", suffix=suffix or target.name)
    return target


def write_csv(
    path: str | os.PathLike[str],
    table: TableData,
    *,
    state: JobState | None = None,
) -> Path:
    """Write the header and the displayed text of every row as UTF-8 CSV with a BOM."""
    target = Path(path)
    with atomic_file(target, binary=False) as f:
        writer = InertCsvWriter(csv.writer(f, lineterminator="\r\n"))
        writer.writerow(table.headers)
        for row in _checked(table.texts, state):
            writer.writerow(row)
    return target


def write_xlsx(
    path: str | os.PathLike[str],
    table: TableData,
    *,
    sheet_name: str = "Sheet1",
    title: str = "",
    state: JobState | None = None,
    tz: str | None = None,
) -> Path:
    """Write one sheet with a bold frozen header, an autofilter, fitted widths and typed cells
    (aware times in the branch's time zone ``tz``), through the streaming writer
    (``app.services.files.xlsx``)."""
    if table.row_count + 1 > _EXCEL_MAX_ROWS:
        raise TableFileError(
            "table.too_many_rows", rows=table.row_count, maximum=_EXCEL_MAX_ROWS - 1
        )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    columns = [
        Column(header, _column_format(kind), width)
        for header, kind, width in zip(
            table.headers, table.kinds, fitted_widths(table), strict=True
        )
    ]
    kinds = table.kinds
    rows = (
        [_excel_value(value, kinds[c], tz) for c, value in enumerate(row)]
        for row in _checked(table.values, state)
    )
    with atomic_path(target) as tmp, book(tmp, title=title) as b:
        b.stream_sheet(valid_sheet_name(sheet_name), columns, rows, header=_HEADER)
    return target


# Bold, centred vertically, in the workbook's body font.
_HEADER = {"bold": True, "valign": "vcenter"}


def _column_format(kind: str) -> NumberFormat:
    """Text columns have none (their cells stay inert text); a number column's format follows
    each value (whole or not); the others have their kind's."""
    if kind == "text":
        return None
    if kind == "number":
        return _plain_number_format
    return _number_format(kind)


display_width = xlsx_display_width  # one width function for every sheet


def fitted_widths(table: TableData) -> list[float]:
    """Return a column width per column fitting the header and the widest of the first rows."""
    widths = [display_width(h) + 4 for h in table.headers]  # room for the filter button
    for row in table.texts[:WIDTH_SAMPLE]:
        for c, text in enumerate(row):
            w = display_width(text) + 2
            if w > widths[c]:
                widths[c] = w
    return [float(min(max(w, 6), MAX_WIDTH)) for w in widths]


@contextmanager
def atomic_file(target: Path, *, binary: bool) -> Iterator[IO[Any]]:
    """Yield a temporary file beside ``target``; rename it over ``target`` on success only."""
    target.parent.mkdir(parents=True, exist_ok=True)
    kw: dict[str, Any] = {} if binary else {"encoding": "utf-8-sig", "newline": ""}
    with atomic_path(target) as tmp, open(tmp, "wb" if binary else "w", **kw) as f:
        yield f


def _checked(rows: Sequence[list[Any]], state: JobState | None) -> Iterator[list[Any]]:
    """Yield the rows, reporting progress and stopping when the job is cancelled."""
    n = len(rows)
    step = max(1, n // 100)
    for i, row in enumerate(rows):
        if i % step == 0:
            check(state)
            if state is not None:
                state.report(i / n)
        yield row


def _number_format(kind: str) -> str | None:
    return {
        "percent": PERCENT_FORMAT,
        "date": DATE_FORMAT,
        "datetime": DATETIME_FORMAT,
    }.get(kind)


def _plain_number_format(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral()):
        return INTEGER_FORMAT
    return DECIMAL_FORMAT


def _excel_value(value: Any, kind: str, tz: str | None = None) -> Any:
    """Return ``value`` as a cell value Excel can hold (aware times made naive in the branch's
    time zone ``tz``: Excel has no zones)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(branch_tz(tz)).replace(tzinfo=None)
    if kind == "text" and not isinstance(value, str):
        return str(value)
    if kind == "date" and isinstance(value, datetime):
        return value.date()
    return value  # a placeholder such as "—" in a number column stays text
