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

# Enough of the file to see its encoding and its first rows; a character cut at the end of
# the sample is allowed.
SAMPLE = 1024 * 1024
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc")


class FileProblem(ValueError):
    """The file as a whole cannot be read (wrong type, empty, broken); the message says why."""


@dataclass
class Table:
    """An iterator of (row number as a spreadsheet shows it, cells) from the first row on,
    how far through the file it is (0..1), and how to let go of the file."""

    rows: Iterator[tuple[int, list[object]]]
    progress: Callable[[], float]
    close: Callable[[], None]
    sheet: str | None = None


def detect_encoding(sample: bytes) -> str:
    """Return the encoding of a CSV sample: utf-8-sig, utf-16, utf-8 or gb18030."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312: one decoder reads all three.
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise FileProblem("is neither UTF-8 nor GBK/GB18030 text") from None


def open_table(path: Path, sheet_names: tuple[str, ...] = ()) -> Table:
    """Return the rows of a CSV or XLSX file; raise FileProblem if it is neither."""
    if not path.exists():
        raise FileProblem("does not exist")
    if path.is_dir():
        raise FileProblem("is a folder, not a file")
    try:
        with path.open("rb") as f:
            head = f.read(SAMPLE)
    except OSError as exc:
        raise FileProblem(f"cannot be opened ({exc.strerror or exc})") from None
    if not head.strip():
        raise FileProblem("is empty")
    if head.startswith(b"PK\x03\x04"):
        return _xlsx(path, sheet_names)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        raise FileProblem("is not a valid .xlsx workbook (save it again from Excel as .xlsx)")
    if suffix == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem("is an old .xls workbook: save it from Excel as .xlsx or .csv")
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if head.startswith(_BINARY_MAGIC) or (b"\x00" in head and not utf16):
        raise FileProblem("is not a text (CSV) or Excel (.xlsx) file")
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
            raise FileProblem(
                f"has bytes that are not {encoding} text after row {n}: "
                "save the whole file in one encoding (UTF-8 or GBK)"
            ) from None
        except csv.Error as exc:
            raise FileProblem(f"is not well-formed CSV at row {n + 1}: {exc}") from None
        finally:
            text.close()

    return Table(rows(), lambda: min(1.0, raw.tell() / size) if not raw.closed else 1.0, text.close)


def _xlsx(path: Path, names: tuple[str, ...]) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

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
        raise FileProblem(f"is not a readable .xlsx workbook ({exc})") from None
    if not wb.worksheets:
        close()
        raise FileProblem("is a workbook without sheets")
    titles = {t.strip().lower(): t for t in wb.sheetnames}
    title = next((titles[n.lower()] for n in names if n.lower() in titles), None)
    ws = wb[title] if title else wb.worksheets[0]
    total = ws.max_row if isinstance(ws.max_row, int) and ws.max_row > 1 else None
    at = [0]

    def rows() -> Iterator[tuple[int, list[object]]]:
        try:
            for n, cells in enumerate(ws.iter_rows(values_only=True), start=1):
                at[0] = n
                yield n, list(cells)
        finally:
            close()

    return Table(rows(), lambda: min(1.0, at[0] / total) if total else 0.0, close, ws.title)
