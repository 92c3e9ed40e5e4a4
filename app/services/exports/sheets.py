"""How exported sheets look: typed columns with number formats, a bold frozen header with an
autofilter, widths that fit the text (CJK characters count double), colour on rates that
fell, and print setup (landscape, as few pages wide as stay readable, header row repeated)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.services.xlsx import display_width, pages_wide

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
HEADER_FONT = Font(name=FONT, bold=True, color="1F3864")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_BORDER = Border(bottom=Side(style="thin", color="8EA9DB"))
# Headers are centred; a long one is split onto HEADER_LINES lines at a word's end (see
# wrap_header), so a column is about as wide as its values need: wide sheets print readably.
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
HEADER_LINES = 2
SINGLE_LINE_HEADER = 12  # narrow characters a header may take before it is split
CLOSING = "）)、，。：；·"  # a line does not start with these
# Narrow characters a bold character takes (LibreOffice broke bold CJK headers a character
# early when they were counted as two).
BOLD_CJK = 2.4
BOLD_LATIN = 1.08
HEADER_LINE_POINTS = 15
FELL_FILL = PatternFill("solid", fgColor="F8CBAD")
FELL_FONT = Font(name=FONT, color="9C0006")
ROSE_FILL = PatternFill("solid", fgColor="C6EFCE")
ROSE_FONT = Font(name=FONT, color="006100")
# A rate on too few policies to judge: grey, never coloured.
PALE_FONT = Font(name=FONT, color="A0A0A0", italic=True)
FLAG_FILL = PatternFill("solid", fgColor="FFEB9C")
TITLE_FONT = Font(name=FONT, bold=True, size=16, color="1F3864")
BOLD = Font(name=FONT, bold=True)


@dataclass(frozen=True)
class Col:
    """One column of a table: its header and the kind of value (a key of FORMATS)."""

    header: str
    kind: str = "text"
    width: int | None = None  # fixed display width (for streamed sheets, which cannot measure)


# One width function for every sheet (app.services.xlsx, the streaming writer, has it).
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


def write_table(
    ws: Worksheet,
    columns: Sequence[Col],
    rows: Iterable[Sequence[object]],
    *,
    first_row: int = 1,
    freeze_first_column: bool = False,
) -> int:
    """Write a header and rows starting at ``first_row``; format, size, freeze and filter
    them; return the last row written."""
    for c, col in enumerate(columns, 1):
        cell = ws.cell(row=first_row, column=c, value=wrap_header(col.header))
        cell.font, cell.fill, cell.border, cell.alignment = (
            HEADER_FONT,
            HEADER_FILL,
            HEADER_BORDER,
            HEADER_ALIGN,
        )
    headers = [wrap_header(col.header) for col in columns]
    widths = [header_width(h) for h in headers]
    if any("\n" in h for h in headers):
        ws.row_dimensions[first_row].height = HEADER_LINES * HEADER_LINE_POINTS
    r = first_row
    for r, values in enumerate(rows, first_row + 1):
        for c, (col, value) in enumerate(zip(columns, values, strict=True), 1):
            cell = ws.cell(row=r, column=c, value=value)
            if col.kind != "text":
                cell.number_format = FORMATS[col.kind]
            widths[c - 1] = max(widths[c - 1], value_width(value, col.kind))
    for c, col in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(c)].width = fit_width(col.width or widths[c - 1])
    last_col = get_column_letter(len(columns))
    ws.freeze_panes = f"{'B' if freeze_first_column else 'A'}{first_row + 1}"
    ws.auto_filter.ref = f"A{first_row}:{last_col}{max(r, first_row + 1)}"
    print_setup(
        ws, header_rows=(first_row, first_row), title_columns="A:A" if freeze_first_column else ""
    )
    return r


# Column width units an A4 landscape page holds at 100 % (0.4" margins), and the smallest
# scale a printed sheet may shrink to before it takes a second page wide.
def sheet_width(ws) -> float:
    """Return the width of the columns given a width, in Excel's units (the exports give
    every column they write one)."""
    return sum(d.width or 0 for d in ws.column_dimensions.values())


def print_setup(
    ws, *, header_rows: tuple[int, int] | None, footer: str = "", title_columns: str = ""
) -> None:
    """Landscape A4, fitted to as few pages wide as keep the print readable (one for most
    sheets); header rows, and ``title_columns`` ("A:A") on a sheet wider than a page, repeated
    on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    wide = pages_wide(sheet_width(ws))
    ws.page_setup.fitToWidth = wide
    ws.page_setup.fitToHeight = 0
    if wide > 1 and title_columns:
        ws.print_title_cols = title_columns
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    if header_rows is not None:
        ws.print_title_rows = f"{header_rows[0]}:{header_rows[1]}"
    if footer:
        ws.oddFooter.center.text = footer
    ws.oddHeader.center.text = "&A"  # the sheet name


def colour_changes(
    ws: Worksheet,
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
    ch = get_column_letter(change_col)
    first, last = rows.start, rows.stop - 1
    base = f"${get_column_letter(base_col)}{first}" if base_col else ""
    enough = f",{base}>={min_base}" if base else ""

    def rule(test: str, fill: PatternFill, font: Font) -> FormulaRule:
        return FormulaRule(
            formula=[f"AND(ISNUMBER(${ch}{first}),${ch}{first}{test}{enough})"],
            fill=fill,
            font=font,
        )

    cells = f"{ch}{first}:{ch}{last}"
    ws.conditional_formatting.add(cells, rule("<0", FELL_FILL, FELL_FONT))
    ws.conditional_formatting.add(cells, rule(">0", ROSE_FILL, ROSE_FONT))
    for col in rate_cols:
        letter = get_column_letter(col)
        ws.conditional_formatting.add(
            f"{letter}{first}:{letter}{last}", rule("<0", FELL_FILL, FELL_FONT)
        )
    if base:
        for col in (*rate_cols, change_col):
            letter = get_column_letter(col)
            ws.conditional_formatting.add(
                f"{letter}{first}:{letter}{last}",
                FormulaRule(formula=[f"{base}<{min_base}"], font=PALE_FONT, stopIfTrue=True),
            )


def fill_rows(ws: Worksheet, rows: Iterable[int], n_cols: int, fill: PatternFill) -> None:
    for r in rows:
        for c in range(1, n_cols + 1):
            ws.cell(row=r, column=c).fill = fill
