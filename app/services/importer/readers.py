"""Reading exchange files row by row: CSV in UTF-8, UTF-8 with BOM or GBK/GB18030 (detected),
and XLSX (the first sheet, or the sheet named after the kind), without loading the whole file."""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SAMPLE = 256 * 1024


class FileProblem(ValueError):
    """The file as a whole cannot be read (wrong type, empty, broken)."""


@dataclass
class Table:
    """A header and an iterator of (spreadsheet row number, cells)."""

    headers: list[str]
    rows: Iterator[tuple[int, list[object]]]
    sheet: str | None = None


def detect_encoding(sample: bytes) -> str:
    """Return the encoding of a CSV sample: utf-8-sig, utf-8 or gb18030."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)  # a character cut at the sample's end is fine
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise FileProblem("is neither UTF-8 nor GBK text") from None


def open_table(path: Path, kind: str, sheet_names: tuple[str, ...] = ()) -> Table:
    """Return the rows of a CSV or XLSX file."""
    if not path.exists():
        raise FileProblem("does not exist")
    if path.is_dir():
        raise FileProblem("is a folder, not a file")
    with path.open("rb") as f:
        head = f.read(SAMPLE)
    if not head.strip():
        raise FileProblem("is empty")
    if head.startswith(b"PK\x03\x04"):
        return _xlsx(path, (kind, *sheet_names))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise FileProblem("is not a valid .xlsx workbook (save it again from Excel as .xlsx)")
    if path.suffix.lower() == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem("is an old .xls workbook: save it as .xlsx or .csv")
    if b"\x00" in head:
        raise FileProblem("is not a text (CSV) or Excel (.xlsx) file")
    return _csv(path, detect_encoding(head), head)


def _csv(path: Path, encoding: str, head: bytes) -> Table:
    first_line = head.split(b"\n", 1)[0].decode(encoding, errors="replace")
    delimiter = max(",\t;", key=first_line.count) if any(d in first_line for d in ",\t;") else ","

    def rows() -> Iterator[tuple[int, list[object]]]:
        with path.open(encoding=encoding, newline="", errors="strict") as f:
            reader = csv.reader(f, delimiter=delimiter)
            try:
                next(reader)
                for cells in reader:
                    if any(c.strip() for c in cells):
                        yield reader.line_num, list(cells)
            except UnicodeDecodeError as exc:
                raise FileProblem(
                    f"has bytes that are not {encoding} text near byte {exc.start}"
                ) from None
            except csv.Error as exc:
                raise FileProblem(
                    f"is not well-formed CSV at line {reader.line_num}: {exc}"
                ) from None

    with path.open(encoding=encoding, newline="", errors="replace") as f:
        try:
            headers = next(csv.reader(f, delimiter=delimiter))
        except StopIteration:
            raise FileProblem("is empty") from None
    return Table([str(h) for h in headers], rows())


def _xlsx(path: Path, names: tuple[str, ...]) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # A file object, so a workbook saved under another extension is read all the same.
        wb = load_workbook(path.open("rb"), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, InvalidFileException) as exc:
        raise FileProblem(f"is not a readable .xlsx workbook ({exc})") from None
    ws = next((wb[n] for n in names if n in wb.sheetnames), wb.worksheets[0])
    it = ws.iter_rows(values_only=True)
    try:
        header_row = next(it)
    except StopIteration:
        wb.close()
        raise FileProblem(f"sheet '{ws.title}' is empty") from None
    headers = ["" if h is None else str(h) for h in header_row]

    def rows() -> Iterator[tuple[int, list[object]]]:
        try:
            for n, cells in enumerate(it, start=2):
                if any(c is not None and str(c).strip() for c in cells):
                    yield n, list(cells)
        finally:
            wb.close()

    return Table(headers, rows(), ws.title)
