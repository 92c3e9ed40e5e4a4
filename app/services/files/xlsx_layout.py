"""Laid-out sheets for the small workbooks (meeting, scorecard, visit lists), written with the
same library as the streamed exports (``app.services.files.xlsx``): xlsxwriter.

xlsxwriter takes a cell's whole format when the cell is written, while these workbooks are laid
out in passes (a table, then colour on some of its rows, a note under it). A :class:`Sheet`
therefore keeps its cells in memory (a few thousand at most) with their style as xlsxwriter
format properties, merged pass by pass, and writes them when the book is saved: one format per
distinct style. Rows and columns are numbered from 1, as a spreadsheet shows them.

Text is always written as text: nothing becomes a formula, and a text a spreadsheet could run
(``app.services.files.inert``) also carries Excel's quote prefix, so editing the cell does not turn it
into one either. A workbook goes to its file whole, or not at all (the callers write to a
temporary name they rename on success).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.services.files.inert import RISKY_FIRST, is_risky
from app.services.files.xlsx import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    WORKBOOK_OPTIONS,
    Printing,
    apply_printing,
)

Style = Mapping[str, Any]  # xlsxwriter format properties: {"bold": True, "num_format": "0.0%"}
_PLAIN: Style = {}
Area = tuple[int, int, int, int]  # first row, first column, last row, last column (from 1)


@dataclass
class Series:
    """A chart series: its values and categories as areas of the sheet, its name a cell."""

    values: Area
    categories: Area
    name: tuple[int, int] | None = None
    options: dict[str, Any] = field(default_factory=dict)  # line, data_labels, smooth…


@dataclass
class Chart:
    """A native Excel chart, placed at ``anchor`` (``"F2"``); its series read the sheet's cells,
    so it stays live when the numbers are edited."""

    kind: str  # xlsxwriter's: "line", "bar" (horizontal), "column"
    anchor: str
    series: list[Series]
    title: str = ""
    x_axis: dict[str, Any] = field(default_factory=dict)
    y_axis: dict[str, Any] = field(default_factory=dict)
    legend: dict[str, Any] | None = None  # None: no legend
    size_cm: tuple[float, float] = (15.0, 7.5)  # width, height


class Sheet:
    """One sheet of a :class:`LaidOutBook`, kept in memory until the book is saved."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._cells: dict[tuple[int, int], list[Any]] = {}  # (row, col) -> [value, style]
        self.widths: dict[int, float] = {}  # column -> Excel's width units
        self.heights: dict[int, float] = {}  # row -> points
        self.freeze: tuple[int, int] | None = None  # the first row and column that scroll
        self.autofilter: Area | None = None
        self.printing = Printing()
        self.gridlines = True
        self.rules: list[tuple[Area, dict[str, Any]]] = []  # conditional formats
        self.charts: list[Chart] = []

    # A cell holds the style it was given, shared with the other cells given the same one (a
    # table's column format): never changed in place, replaced by a merged copy instead.

    def write(self, row: int, col: int, value: Any, style: Style | None = None) -> None:
        """Put ``value`` in the cell, adding ``style`` to any style it has."""
        cell = self._cells.get((row, col))
        if cell is None:
            self._cells[(row, col)] = [value, style or _PLAIN]
        else:
            cell[0] = value
            if style:
                cell[1] = {**cell[1], **style}

    def style(self, row: int, col: int, style: Style) -> None:
        """Add ``style`` to the cell's style, keeping its value."""
        cell = self._cells.setdefault((row, col), [None, _PLAIN])
        cell[1] = {**cell[1], **style}

    def value(self, row: int, col: int) -> Any:
        cell = self._cells.get((row, col))
        return None if cell is None else cell[0]

    @property
    def max_row(self) -> int:
        return max((r for r, _ in self._cells), default=0)

    def conditional(self, area: Area, formula: str, style: Style, *, stop: bool = False) -> None:
        """Style the cells of ``area`` where ``formula`` (written for its first cell, without
        the ``=``) holds; the rule follows edits and sorting in Excel."""
        self.rules.append((area, {"formula": formula, "style": dict(style), "stop": stop}))

    def width(self) -> float:
        """Return the width of the columns given one, in Excel's units."""
        return sum(self.widths.values())


class LaidOutBook:
    """A workbook of :class:`Sheet` s, written to ``path`` by :meth:`save`."""

    def __init__(self) -> None:
        self.sheets: list[Sheet] = []

    def add_sheet(self, title: str) -> Sheet:
        sheet = Sheet(title)
        self.sheets.append(sheet)
        return sheet

    def save(self, path: Path, *, title: str = "") -> None:
        import xlsxwriter

        wb = xlsxwriter.Workbook(
            str(path),
            {**WORKBOOK_OPTIONS, "in_memory": True},  # a few hundred kB: no temporary files
        )
        try:
            if title:
                wb.set_properties({"title": title})
            formats = _Formats(wb)
            for sheet in self.sheets:
                _write_sheet(wb, formats, sheet)
        finally:
            wb.close()


class _Formats:
    """One xlsxwriter format per distinct style (found by the style object first: the cells of a
    column share theirs; the sheets hold every style object until the book is written)."""

    def __init__(self, wb: Any) -> None:
        self._wb = wb
        self._cache: dict[tuple[tuple[str, Any], ...], Any] = {}
        self._by_object: dict[int, tuple[Style, Any]] = {}

    def get(self, style: Style) -> Any:
        """The format of a style a sheet holds (looked up by the object from the second time)."""
        if not style:
            return None
        seen = self._by_object.get(id(style))
        if seen is not None and seen[0] is style:  # the entry holds its style: no id reused
            return seen[1]
        fmt = self.made(style)
        self._by_object[id(style)] = (style, fmt)
        return fmt

    def made(self, style: Style) -> Any:
        """The format of a style made for one cell (an object that does not last: by value)."""
        key = tuple(sorted(style.items()))
        fmt = self._cache.get(key)
        if fmt is None:
            fmt = self._cache[key] = self._wb.add_format(dict(style))
        return fmt


def _write_sheet(wb: Any, formats: _Formats, sheet: Sheet) -> None:
    ws = wb.add_worksheet(sheet.title)
    for col, w in sorted(sheet.widths.items()):
        ws.set_column(col - 1, col - 1, w)
    for row, h in sorted(sheet.heights.items()):
        ws.set_row(row - 1, h)
    for (row, col), (value, style) in sheet._cells.items():  # any order: xlsxwriter sorts
        _write_cell(ws, formats, row - 1, col - 1, value, style)
    if sheet.freeze is not None:
        ws.freeze_panes(sheet.freeze[0] - 1, sheet.freeze[1] - 1)
    if sheet.autofilter is not None:
        r1, c1, r2, c2 = sheet.autofilter
        ws.autofilter(r1 - 1, c1 - 1, r2 - 1, c2 - 1)
    if not sheet.gridlines:
        ws.hide_gridlines(2)  # neither on screen nor printed
    apply_printing(ws, sheet.printing)
    for (r1, c1, r2, c2), rule in sheet.rules:
        ws.conditional_format(
            r1 - 1,
            c1 - 1,
            r2 - 1,
            c2 - 1,
            {
                "type": "formula",
                "criteria": "=" + rule["formula"],
                "format": formats.get(rule["style"]),
                "stop_if_true": rule["stop"],
            },
        )
    for chart in sheet.charts:
        ws.insert_chart(chart.anchor, _chart(wb, sheet.title, chart))


def _write_cell(ws: Any, formats: _Formats, r: int, c: int, value: Any, style: Style) -> None:
    if isinstance(value, str) and value:
        if value[0] in RISKY_FIRST and is_risky(value):
            ws.write_string(r, c, value, formats.made({**style, "quote_prefix": True}))
        else:
            ws.write_string(r, c, value, formats.get(style))
    elif isinstance(value, bool):
        ws.write_boolean(r, c, value, formats.get(style))
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(
            r, c, float(value) if isinstance(value, Decimal) else value, formats.get(style)
        )
    elif isinstance(value, date):  # datetimes too
        if "num_format" in style:
            ws.write_datetime(r, c, value, formats.get(style))
        else:
            fmt = DATETIME_FORMAT if isinstance(value, datetime) else DATE_FORMAT
            ws.write_datetime(r, c, value, formats.made({**style, "num_format": fmt}))
    elif value is None or value == "":
        if style:
            ws.write_blank(r, c, None, formats.get(style))
    else:  # anything else is shown as its text
        _write_cell(ws, formats, r, c, str(value), style)


PIXELS_PER_CM = 96 / 2.54


def _chart(wb: Any, sheet: str, spec: Chart) -> Any:
    chart = wb.add_chart({"type": spec.kind})
    for s in spec.series:
        r1, c1, r2, c2 = s.values
        q1, d1, q2, d2 = s.categories
        series: dict[str, Any] = {
            "values": [sheet, r1 - 1, c1 - 1, r2 - 1, c2 - 1],
            "categories": [sheet, q1 - 1, d1 - 1, q2 - 1, d2 - 1],
            **s.options,
        }
        if s.name is not None:
            series["name"] = [sheet, s.name[0] - 1, s.name[1] - 1]
        chart.add_series(series)
    if spec.title:
        chart.set_title({"name": spec.title})
    if spec.x_axis:
        chart.set_x_axis(spec.x_axis)
    if spec.y_axis:
        chart.set_y_axis(spec.y_axis)
    chart.set_legend(spec.legend if spec.legend is not None else {"none": True})
    w, h = spec.size_cm
    chart.set_size({"width": round(w * PIXELS_PER_CM), "height": round(h * PIXELS_PER_CM)})
    return chart
