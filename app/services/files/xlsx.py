"""The streaming half of the one Excel writer, xlsxwriter: sheets written row by row in its
constant-memory mode, so memory stays flat whatever the row count. The detail export and every
table the app exports (``app.services.files.table_file``) write through it. The meeting, scorecard
and visit-list workbooks, small and laid out in passes with Excel's own charts, are written by
the same library through ``app.services.files.xlsx_layout`` (styled by
``app.services.exports.sheets``, with the same widths: :func:`display_width`). openpyxl only
reads workbooks (imports, tests).

xlsxwriter rather than openpyxl's write-only mode: on the 295,029 task rows of the city demo
the detail export took 1.47 x a plain sqlite3 + xlsxwriter script with openpyxl, whose
per-cell XML writing was 80 % of the time (benchmarks/README.md, Exports).

Every sheet gets a styled, frozen header with an autofilter, column widths and typed cells
with their number formats. Text is always written as text (``write_string``): nothing becomes
a formula, and a text a spreadsheet could run (``app.services.files.inert``) also carries Excel's
quote prefix, so editing the cell does not turn it into one either.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.services.files.inert import RISKY_FIRST, is_risky

# A column's number format: None for text, a format for every value, or one chosen per value.
NumberFormat = str | Callable[[Any], str | None] | None

PAGE_WIDTH_UNITS = 145  # an A4 landscape page's width in Excel's column units
MIN_PRINT_SCALE = 0.68  # a printed sheet is never shrunk below this
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Column:
    header: str
    number_format: NumberFormat = None
    width: float = 10.0  # Excel's width units


@dataclass(frozen=True)
class Print:
    """How a sheet prints: landscape A4, fitted to as few pages wide as keep it readable, the
    header row repeated on every page, the sheet's name at the top."""

    footer: str = ""


# What every workbook GridDesk writes asks of xlsxwriter: text stays text (no formula, link or
# number made of it); a NaN is #NUM! in its cell, not a failed export.
WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
}


@dataclass
class Printing:
    """How a sheet prints, rows and columns counted from 1 (:func:`a4_landscape` is the
    exports' way)."""

    landscape: bool = False
    paper: int = 0  # 9: A4
    pages_wide: int | None = None  # fitted to this many pages across (and any number down)
    title_rows: tuple[int, int] | None = None  # repeated on every page
    title_columns: tuple[int, int] | None = None
    centred: bool = False
    side_margin: float | None = None  # inches
    header: str = ""  # Excel's codes: "&A" the sheet's name; centred
    footer: str = ""


def a4_landscape(width: float, *, title_rows: tuple[int, int] | None, footer: str = "") -> Printing:
    """Landscape A4, centred, fitted to as few pages wide as keep a sheet of ``width`` units
    readable, ``title_rows`` repeated on every page, the sheet's name at the top."""
    return Printing(
        landscape=True,
        paper=9,  # A4
        pages_wide=pages_wide(width),
        title_rows=title_rows,
        centred=True,
        side_margin=0.4,
        header="&A",
        footer=footer,
    )


def apply_printing(ws: Any, p: Printing) -> None:
    """Set up xlsxwriter's sheet ``ws`` to print as ``p`` says."""
    if p.landscape:
        ws.set_landscape()
    if p.paper:
        ws.set_paper(p.paper)
    if p.pages_wide is not None:
        ws.fit_to_pages(p.pages_wide, 0)
    if p.title_rows is not None:
        ws.repeat_rows(p.title_rows[0] - 1, p.title_rows[1] - 1)
    if p.title_columns is not None:
        ws.repeat_columns(p.title_columns[0] - 1, p.title_columns[1] - 1)
    if p.centred:
        ws.center_horizontally()
    if p.side_margin is not None:
        ws.set_margins(left=p.side_margin, right=p.side_margin)
    if p.header:
        ws.set_header("&C" + p.header)
    if p.footer:
        ws.set_footer("&C" + p.footer)


class _Doubled(dict):
    """``str.translate`` table: a wide or full-width character (East Asian width W or F) to two
    characters, any other to itself; each character is looked up in Unicode's table once, then
    the translation runs in C (a long sheet's names and addresses are mostly CJK)."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        out = self[code] = ch * 2 if unicodedata.east_asian_width(ch) in ("W", "F") else ch
        return out


_DOUBLED = _Doubled()


def display_width(text: str) -> int:
    """Return how many narrow characters ``text`` takes on screen (CJK characters count two)."""
    if text.isascii():  # codes, numbers, Latin names: one each (most cells of a long sheet)
        return len(text)
    return len(text.translate(_DOUBLED))


# Excel refuses a sheet name with these characters, longer than 31 UTF-16 units, starting or
# ending with an apostrophe, or named History (its own).
SHEET_NAME_UNITS = 31
_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, units: int) -> str:
    """Return ``text`` cut to at most ``units`` UTF-16 units (a rare CJK character or an emoji
    takes two), at a character's end."""
    while _utf16_units(text) > units:
        text = text[:-1]
    return text


def sheet_name(name: str, taken: set[str] | None = None, *, fallback: str = "Sheet1") -> str:
    r"""Return ``name`` made a sheet name Excel accepts: none of ``[]:*?/\``, at most 31 units
    as Excel counts them, no apostrophe or space at either end, never empty (``fallback``).
    With ``taken`` (the workbook's names so far, lower-cased: Excel compares them so), the name
    is also made unique with " (2)", " (3)"... and added to ``taken``."""
    base = name.translate(_SHEET_FORBIDDEN).strip("' ") or fallback

    def fit(suffix: str) -> str:
        return _cut(base, SHEET_NAME_UNITS - len(suffix)).rstrip("' ") + suffix

    title, n = fit(""), 2
    if taken is not None:
        while title.lower() in taken or title.lower() == "history":
            title, n = fit(f" ({n})"), n + 1
        taken.add(title.lower())
    return title


def pages_wide(total_width: float) -> int:
    """Return how many A4 landscape pages wide a sheet of ``total_width`` units prints on, so
    that it never shrinks below MIN_PRINT_SCALE."""
    return max(1, math.ceil(total_width / (PAGE_WIDTH_UNITS / MIN_PRINT_SCALE)))


class Book:
    """A workbook being streamed to a file (see :func:`book`)."""

    def __init__(self, path: Path, *, title: str = "") -> None:
        import xlsxwriter

        self._wb = xlsxwriter.Workbook(
            str(path),
            {**WORKBOOK_OPTIONS, "constant_memory": True},
        )
        if title:
            self._wb.set_properties({"title": title})
        self._formats: dict[str, Any] = {}
        self._quoted = self._wb.add_format({"quote_prefix": True})

    def _format(self, number_format: str) -> Any:
        fmt = self._formats.get(number_format)
        if fmt is None:
            fmt = self._formats[number_format] = self._wb.add_format({"num_format": number_format})
        return fmt

    def stream_sheet(
        self,
        title: str,
        columns: Sequence[Column],
        rows: Iterable[Sequence[Any]],
        *,
        header: dict[str, Any],
        printed: Print | None = None,
        every: int = 2_000,
        on_rows: Callable[[int], None] | None = None,
    ) -> int:
        """Add a sheet ``title`` and stream ``rows`` into it under a header formatted with
        the xlsxwriter properties ``header``. ``on_rows(n)`` hears every ``every`` rows and
        the rest at the end. Return the rows written."""
        ws = self._wb.add_worksheet(title)
        for c, col in enumerate(columns):
            ws.set_column(c, c, col.width)
        if columns:
            ws.freeze_panes(1, 0)
        if printed is not None:
            width = sum(col.width for col in columns)
            apply_printing(ws, a4_landscape(width, title_rows=(1, 1), footer=printed.footer))
        head = self._wb.add_format(header)
        quoted_head = self._wb.add_format({**header, "quote_prefix": True})
        for c, col in enumerate(columns):
            ws.write_string(0, c, col.header, quoted_head if is_risky(col.header) else head)

        fixed = [
            (c, self._format(col.number_format))
            for c, col in enumerate(columns)
            if isinstance(col.number_format, str)
        ]
        chosen = [
            (c, col.number_format)
            for c, col in enumerate(columns)
            if col.number_format is not None and not isinstance(col.number_format, str)
        ]
        texts = [c for c, col in enumerate(columns) if col.number_format is None]
        write_string, quoted = ws.write_string, self._quoted
        n = 0
        for row in rows:
            n += 1
            for c in texts:
                v = row[c]
                if v is None or v == "":
                    continue
                if v.__class__ is not str:
                    v = str(v)
                if v[0] in RISKY_FIRST and is_risky(v):
                    write_string(n, c, v, quoted)
                else:
                    write_string(n, c, v)
            for c, fmt in fixed:
                v = row[c]
                if v is not None:
                    self._typed(ws, n, c, v, fmt)
            for c, pick in chosen:
                v = row[c]
                if v is not None:
                    chosen_format = None if v.__class__ is str else pick(v)  # type: ignore[operator]
                    self._typed(ws, n, c, v, self._format(chosen_format) if chosen_format else None)
            if on_rows is not None and n % every == 0:
                on_rows(every)
        if columns:
            ws.autofilter(0, 0, n, len(columns) - 1)
        if on_rows is not None:
            on_rows(n % every)
        return n

    def _typed(self, ws: Any, r: int, c: int, v: Any, fmt: Any) -> None:
        if isinstance(v, bool):
            ws.write_boolean(r, c, v, fmt)
        elif isinstance(v, (int, float)):
            ws.write_number(r, c, v, fmt)
        elif isinstance(v, date):  # datetimes too
            ws.write_datetime(r, c, v, fmt or self._format(_date_format(v)))
        elif isinstance(v, Decimal):
            ws.write_number(r, c, float(v), fmt)
        else:  # a placeholder ("—") in a typed column: text
            text = str(v)
            ws.write_string(r, c, text, self._quoted if is_risky(text) else fmt)

    def close(self) -> None:
        self._wb.close()


def _date_format(v: date) -> str:
    return DATETIME_FORMAT if isinstance(v, datetime) else DATE_FORMAT


@contextmanager
def book(path: Path, *, title: str = "") -> Iterator[Book]:
    """Yield a :class:`Book` writing to ``path`` (a temporary name the caller renames over
    the target on success); the file is complete once the block ends without an error."""
    b = Book(path, title=title)
    try:
        yield b
    except BaseException:
        import contextlib

        with contextlib.suppress(Exception):  # already failing: the first error is told
            b.close()
        raise
    b.close()
