"""Reading exchange files row by row without loading them whole: CSV in UTF-8, UTF-8 with BOM,
UTF-16 (Excel's "Unicode text") or GBK/GB18030, detected; XLSX through openpyxl's read-only
mode, from the sheet named after the kind or else the first sheet."""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from app.services.errors import DomainError

# Enough of the file to see its encoding and its first rows; a character cut at the end of
# the sample is allowed.
SAMPLE = 1024 * 1024
# A workbook is refused, before anything of it is unpacked, when one of its parts would unpack
# to more than this (openpyxl holds the shared strings in memory) or a sheet has more cells
# than this (claimed by its dimension, or met while reading): both far above what a nightly
# extract saved from Excel holds. Larger extracts come as CSV, which has no such limits.
MAX_XLSX_PART = 200 * 1024 * 1024
MAX_XLSX_CELLS = 2_000_000
EXCEL_ROWS = 1_048_576  # the last row Excel has
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc")


class FileProblem(DomainError, ValueError):
    """The file as a whole cannot be read (wrong type, empty, broken); the message says why
    (after the file's name)."""


@dataclass
class Table:
    """An iterator of (row number as a spreadsheet shows it, cells) from the first row on,
    how far through the file it is (0..1), and how to let go of the file."""

    rows: Iterator[tuple[int, list[object]]]
    progress: Callable[[], float]
    close: Callable[[], None]
    sheet: str | None = None


# Characters a Chinese exchange file does not hold, but GBK bytes read as UTF-8 often give:
# C1 controls, Latin Extended to N'Ko (GBK 郑叶 d6a3 d2b6 is valid UTF-8: U+05A3 U+04B6) and the
# private use area (where GB18030 puts what UTF-8 bytes read as GBK sometimes give).
_UNLIKELY = re.compile("[\x80-\x9f\u0100-\u07ff\ue000-\uf8ff]")


def detect_encoding(sample: bytes) -> str:
    """Return the encoding of a CSV sample (the whole of it decides): utf-8-sig, utf-16, utf-8
    or gb18030. Bytes valid in both UTF-8 and GB18030 are read the way that gives fewer
    characters a Chinese exchange file does not hold; UTF-8 on a tie."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf8 = _decoded(sample, "utf-8")
    unlikely = len(_UNLIKELY.findall(utf8)) if utf8 is not None else None
    if unlikely == 0:
        return "utf-8"
    # GB18030 is a superset of GBK and GB2312: one decoder reads all three.
    gb = _decoded(sample, "gb18030")
    if gb is not None and (unlikely is None or len(_UNLIKELY.findall(gb)) < unlikely):
        return "gb18030"
    if utf8 is not None:
        return "utf-8"
    raise FileProblem("file.encoding")


def _decoded(sample: bytes, encoding: str) -> str | None:
    """Return the sample decoded strictly (a character cut at its end aside), or None."""
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:
        return None


def open_table(path: Path, sheet_names: tuple[str, ...] = ()) -> Table:
    """Return the rows of a CSV or XLSX file; raise FileProblem if it is neither."""
    if not path.exists():
        raise FileProblem("file.missing")
    if path.is_dir():
        raise FileProblem("file.folder")
    try:
        with path.open("rb") as f:
            head = f.read(SAMPLE)
    except OSError as exc:
        raise FileProblem("file.cannot_open", problem=exc.strerror or str(exc)) from None
    if not head.strip():
        raise FileProblem("file.empty")
    if head.startswith(b"PK\x03\x04"):
        return _xlsx(path, sheet_names)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        raise FileProblem("file.bad_xlsx")
    if suffix == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem("file.xls")
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if head.startswith(_BINARY_MAGIC) or (b"\x00" in head and not utf16):
        raise FileProblem("file.not_table")
    return _csv(path, detect_encoding(head), head)


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def _csv(path: Path, encoding: str, head: bytes) -> Table:
    first_line = head.decode(encoding, errors="replace").lstrip("\ufeff").split("\n", 1)[0]
    # Files made for Excel may start with "sep=;", a line Excel reads and does not show.
    hint = re.fullmatch(r"sep=(.)\s*", first_line)
    delimiter = hint.group(1) if hint else _delimiter(first_line)
    size = max(path.stat().st_size, 1)
    raw = path.open("rb")
    text = io.TextIOWrapper(raw, encoding=encoding, newline="", errors="strict")
    reader = csv.reader(text, delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[object]]]:
        # Excel shows one row per record (a quoted cell may hold line breaks) and blank lines
        # as empty rows, so the row number counts records.
        n = 0
        try:
            if hint:
                next(reader, None)
            for cells in reader:
                n += 1
                if n == 1 and cells:
                    cells[0] = cells[0].lstrip("\ufeff")
                yield n, cells  # type: ignore[misc]
        except UnicodeDecodeError:
            raise FileProblem("file.mixed_encoding", encoding=encoding, row=n) from None
        except csv.Error as exc:
            raise FileProblem("file.bad_csv", row=n + 1, problem=str(exc)) from None
        finally:
            text.close()

    return Table(rows(), lambda: min(1.0, raw.tell() / size) if not raw.closed else 1.0, text.close)


def _check_parts(path: Path) -> None:
    """Refuse a workbook one of whose parts would unpack to more than MAX_XLSX_PART bytes.
    The sizes are the ones the zip declares; zipfile never unpacks more than that."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileProblem("file.unreadable_xlsx", problem=str(exc)) from None
    for part in parts:
        if part.file_size > MAX_XLSX_PART:
            raise FileProblem(
                "file.part_too_large",
                part=part.filename,
                mb=_mb(part.file_size),
                maximum=_mb(MAX_XLSX_PART),
            )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f}"


def _check_size(title: str, rows: object, columns: object) -> None:
    """Refuse a sheet whose dimension claims more than MAX_XLSX_CELLS cells: openpyxl would
    pad every row to the claimed width and fill every row up to the claimed height."""
    if not (isinstance(rows, int) and isinstance(columns, int)):
        return  # no dimension: the cells are counted while reading
    if rows * columns > MAX_XLSX_CELLS:
        raise FileProblem(
            "file.sheet_too_large", sheet=title, rows=rows, columns=columns, maximum=MAX_XLSX_CELLS
        )


def _counted(rows: Iterator[tuple[int, list[object]]]) -> Iterator[tuple[int, list[object]]]:
    """Pass the rows on, refusing rows past Excel's last one and more than MAX_XLSX_CELLS cells
    (a sheet without a dimension can still place a cell at row 2,000,000,000)."""
    cells = 0
    for n, row in rows:
        cells += len(row)
        if n > EXCEL_ROWS:
            raise FileProblem("file.row_beyond", row=n, last=EXCEL_ROWS)
        if cells > MAX_XLSX_CELLS:
            raise FileProblem("file.too_many_cells", maximum=MAX_XLSX_CELLS, row=n)
        yield n, row


def _xlsx(path: Path, names: tuple[str, ...]) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _check_parts(path)
    fh = path.open("rb")  # a file object, so a workbook under another extension reads too

    def close() -> None:
        wb.close()
        fh.close()

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no default style" and the like
            wb = load_workbook(fh, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, InvalidFileException) as exc:
        fh.close()
        raise FileProblem("file.unreadable_xlsx", problem=str(exc)) from None
    if not wb.worksheets:
        close()
        raise FileProblem("file.no_sheets")
    titles = {t.strip().lower(): t for t in wb.sheetnames}
    title = next((titles[n.lower()] for n in names if n.lower() in titles), None)
    ws = wb[title] if title else wb.worksheets[0]
    try:
        _check_size(ws.title, ws.max_row, ws.max_column)
    except FileProblem:
        close()
        raise
    total = ws.max_row if isinstance(ws.max_row, int) and ws.max_row > 1 else None
    at = [0]

    def rows() -> Iterator[tuple[int, list[object]]]:
        try:
            for n, cells in _counted(enumerate(ws.iter_rows(values_only=True), start=1)):
                at[0] = n
                yield n, list(cells)
        finally:
            close()

    return Table(rows(), lambda: min(1.0, at[0] / total) if total else 0.0, close, ws.title)
