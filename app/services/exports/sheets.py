"""How exported sheets look: typed columns with number formats, a bold frozen header with an
autofilter, widths that fit the text (CJK characters count double), colour on rates that
fell, and print setup (landscape, as few pages wide as stay readable, header row repeated).

The sheets are ``app.services.files.xlsx_layout.Sheet`` s and the styles xlsxwriter's format
properties."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from xlsxwriter.utility import xl_col_to_name

from app.services.files.xlsx import a4_landscape, display_width
from app.services.files.xlsx_layout import Sheet, Style

FORMATS = {
    "text": "General",
    "int": "#,##0",
    "pct": "0.0%",
    "points": "+0.00;-0.00;0.00",
    "money": "#,##0.00",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "num1": "0.0",
}
# Display widths of formatted values, where the value's own text would mislead.
_FIXED_WIDTH = {"pct": 7, "points": 7, "date": 10, "datetime": 16, "num1": 6}
MAX_WIDTH = 60

# Fonts name the workbook's body font: a font without a name prints in a serif face in
# LibreOffice beside the Calibri body.
FONT = "Calibri"
# Headers are centred; a long one is split onto HEADER_LINES lines at a word's end (see
# wrap_header), so a column is about as wide as its values need: wide sheets print readably.
HEADER: Style = {
    "font_name": FONT,
    "bold": True,
    "font_color": "#1F3864",
    "pattern": 1,
    "bg_color": "#DDEBF7",
    "bottom": 1,
    "bottom_color": "#8EA9DB",
    "align": "center",
    "valign": "vcenter",
    "text_wrap": True,
}
HEADER_LINES = 2
SINGLE_LINE_HEADER = 12  # narrow characters a header may take before it is split
CLOSING = "）)、，。：；·"  # a line does not start with these
# Narrow characters a bold character takes (LibreOffice broke bold CJK headers a character
# early when they were counted as two).
BOLD_CJK = 2.4
BOLD_LATIN = 1.08
HEADER_LINE_POINTS = 15
FELL: Style = {"pattern": 1, "bg_color": "#F8CBAD", "font_color": "#9C0006"}
FELL_FONT: Style = {"font_name": FONT, "font_color": "#9C0006"}
ROSE: Style = {"pattern": 1, "bg_color": "#C6EFCE", "font_color": "#006100"}
# A rate on too few policies to judge: grey, never coloured.
PALE_FONT: Style = {"font_name": FONT, "font_color": "#A0A0A0", "italic": True}
FLAG_FILL: Style = {"pattern": 1, "bg_color": "#FFEB9C"}
TITLE_FONT: Style = {"font_name": FONT, "bold": True, "font_size": 16, "font_color": "#1F3864"}
BOLD: Style = {"font_name": FONT, "bold": True}
WRAPPED: Style = {"text_wrap": True, "valign": "top"}
LEFT: Style = {"align": "left"}


@dataclass(frozen=True)
class Col:
    """One column of a table: its header and the kind of value (a key of FORMATS)."""

    header: str
    kind: str = "text"
    width: int | None = None  # fixed display width (for streamed sheets, which cannot measure)


# One width function for every sheet (app.services.files.xlsx, the streaming writer, has it).
text_width = display_width


def wrap_header(text: str) -> str:
    """Return a long header split onto two lines where a reader would break it, so that Excel
    and LibreOffice, each with its own fonts, never break it themselves (继续率（保 / 费） or a
    lone closing bracket): after a space (kept at the line's end) or before an opening
    bracket, wherever the longer line is shortest. A header with no such place stays whole on
    one line (CJK words have no spaces to show where they end)."""
    if text_width(text) <= SINGLE_LINE_HEADER or "\n" in text:
        return text
    cuts = [
        i
        for i in range(1, len(text))
        if (text[i - 1] == " " or text[i] in "（(")
        and text[i] not in CLOSING
        and text[i - 1] not in "（("
        and text[:i].strip()
    ]
    if not cuts:
        return text
    best = min(cuts, key=lambda i: max(text_width(text[:i].rstrip()), text_width(text[i:])))
    return text[:best] + "\n" + text[best:]


def header_width(text: str) -> int:
    """Return the column width a (wrapped) header needs: its longest line in bold."""
    return math.ceil(max(_bold_width(line.rstrip()) for line in text.split("\n")))


def _bold_width(text: str) -> float:
    """Return how wide ``text`` prints in bold, in narrow characters: a bold CJK character
    takes BOLD_CJK of them, any other BOLD_LATIN."""
    return sum(BOLD_CJK if text_width(ch) == 2 else BOLD_LATIN for ch in text)


def value_width(value: object, kind: str) -> int:
    """Return the display width of a cell value as its number format shows it."""
    if value is None:
        return 0
    if kind in _FIXED_WIDTH:
        return _FIXED_WIDTH[kind]
    if kind == "money" and isinstance(value, (int, float, Decimal)):
        return len(f"{value:,.2f}")
    if kind == "int" and isinstance(value, (int, float, Decimal)):
        return len(f"{value:,.0f}")
    if isinstance(value, (date, datetime)):
        return 16 if isinstance(value, datetime) else 10
    return text_width(str(value))


def fit_width(width: int) -> float:
    """Return an Excel column width for text of ``width`` narrow characters, with padding."""
    return min(max(width, 4) + 3, MAX_WIDTH)


def column_letter(col: int) -> str:
    """Return the letter of column ``col`` (from 1): 1 -> "A"."""
    return xl_col_to_name(col - 1)


def write_table(
    ws: Sheet,
    columns: Sequence[Col],
    rows: Iterable[Sequence[object]],
    *,
    first_row: int = 1,
    freeze_first_column: bool = False,
) -> int:
    """Write a header and rows starting at ``first_row``; format, size, freeze and filter
    them; return the last row written."""
    headers = [wrap_header(col.header) for col in columns]
    for c, h in enumerate(headers, 1):
        ws.write(first_row, c, h, HEADER)
    widths = [header_width(h) for h in headers]
    if any("\n" in h for h in headers):
        ws.heights[first_row] = HEADER_LINES * HEADER_LINE_POINTS
    formats = [None if col.kind == "text" else {"num_format": FORMATS[col.kind]} for col in columns]
    r = first_row
    for r, values in enumerate(rows, first_row + 1):
        for c, (col, value) in enumerate(zip(columns, values, strict=True), 1):
            ws.write(r, c, value, formats[c - 1])
            widths[c - 1] = max(widths[c - 1], value_width(value, col.kind))
    for c, col in enumerate(columns, 1):
        ws.widths[c] = fit_width(col.width or widths[c - 1])
    ws.freeze = (first_row + 1, 2 if freeze_first_column else 1)
    ws.autofilter = (first_row, 1, max(r, first_row + 1), len(columns))
    print_setup(ws, header_rows=(first_row, first_row), title_columns=freeze_first_column)
    return r


def print_setup(
    ws: Sheet,
    *,
    header_rows: tuple[int, int] | None,
    footer: str = "",
    title_columns: bool = False,
) -> None:
    """Landscape A4, fitted to as few pages wide as keep the print readable (one for most
    sheets); header rows, and with ``title_columns`` the first column on a sheet wider than a
    page, repeated on every page."""
    ws.printing = a4_landscape(ws.width(), title_rows=header_rows, footer=footer)
    if ws.printing.pages_wide != 1 and title_columns:
        ws.printing.title_columns = (1, 1)


def colour_changes(
    ws: Sheet,
    *,
    change_col: int,
    rate_cols: Sequence[int],
    rows: range,
    base_col: int | None = None,
    min_base: int = 0,
) -> None:
    """Colour a fall red and a rise green in the change column, and the rates of the rows whose
    change is negative red, as conditional formats (they follow edits and sorting in Excel).
    With ``base_col`` (the policies a rate rests on), rows on fewer than ``min_base`` are never
    coloured and their rates and change are drawn pale instead."""
    if not rows:
        return
    ch = column_letter(change_col)
    first, last = rows.start, rows.stop - 1
    base = f"${column_letter(base_col)}{first}" if base_col else ""
    enough = f",{base}>={min_base}" if base else ""

    def rule(test: str) -> str:
        return f"AND(ISNUMBER(${ch}{first}),${ch}{first}{test}{enough})"

    if base:  # first: a pale row stops there
        for col in (*rate_cols, change_col):
            ws.conditional((first, col, last, col), f"{base}<{min_base}", PALE_FONT, stop=True)
    ws.conditional((first, change_col, last, change_col), rule("<0"), FELL)
    ws.conditional((first, change_col, last, change_col), rule(">0"), ROSE)
    for col in rate_cols:
        ws.conditional((first, col, last, col), rule("<0"), FELL)


def fill_rows(ws: Sheet, rows: Iterable[int], n_cols: int, style: Style) -> None:
    for r in rows:
        for c in range(1, n_cols + 1):
            ws.style(r, c, style)
