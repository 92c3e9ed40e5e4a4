"""The row loop of a table import: read lazily, parse each cell, check keys, and hand chunks to
the kind's writer, collecting problems instead of stopping at the first."""

from __future__ import annotations

from array import array
from functools import partial
from pathlib import Path
from unicodedata import normalize

import numpy as np

from app.services.importer.context import Context, Pending
from app.services.importer.kinds import (
    COLUMNS,
    KEYS,
    SHEET_NAMES,
    match_headers,
    max_length,
    missing_choices,
)
from app.services.importer.problems import ImportFailed, Problem
from app.services.importer.readers import FileProblem, Table, open_table
from app.services.importer.values import ValueProblem, parse_amount_fen
from app.services.importer.writers import WRITERS
from app.services.messages import Alternatives, Message
from app.services.progress import JobState, check

CHUNK = 5_000
HEADER_SEARCH = 10  # rows looked at for the header
MAX_PROBLEMS = 50


class KeyLog:
    """Every row's key and values as two 64-bit hashes (20 bytes a row however long the keys),
    so a key that comes back later in the file with other values is found at the end.

    Two different keys share a hash with a chance of about n²/2⁶⁵ (1e-8 for a million rows).
    """

    def __init__(self) -> None:
        self.keys = array("q")
        self.values = array("q")
        self.rows = array("l")

    def add(self, key: tuple, values: tuple, row: int) -> None:
        self.keys.append(hash(key))
        self.values.append(hash(values))
        self.rows.append(row)

    def conflicts(self, limit: int) -> list[tuple[int, int]]:
        """Return (row, first row) of the rows repeating an earlier key with other values."""
        if len(self.keys) < 2:
            return []
        keys = np.frombuffer(self.keys, dtype=np.int64)
        order = np.argsort(keys, kind="stable")  # a key's rows stay in file order
        k = keys[order]
        starts = np.ones(len(k), dtype=bool)
        starts[1:] = k[1:] != k[:-1]
        if starts.all():
            return []
        first = np.maximum.accumulate(np.where(starts, np.arange(len(k)), 0))
        vals = np.frombuffer(self.values, dtype=np.int64)[order]
        bad = np.flatnonzero(~starts & (vals != vals[first]))
        rows = np.frombuffer(self.rows, dtype=np.int32 if self.rows.itemsize == 4 else np.int64)
        out = sorted((int(rows[order[i]]), int(rows[order[first[i]]])) for i in bad)
        return out[:limit]


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def import_table(
    ctx: Context, kind: str, path: Path, state: JobState, *, chunk_size: int | None = None
) -> int:
    """Import the rows of a CSV or XLSX file of ``kind``; return how many were read. Raise
    ImportFailed with every problem found (up to MAX_PROBLEMS) if any row is wrong."""
    name = path.name
    try:
        table = open_table(path, (kind, *SHEET_NAMES.get(kind, ())))
    except FileProblem as exc:
        raise ImportFailed([Problem(name, None, None, exc.message)]) from None
    try:
        return _rows(ctx, kind, table, name, state, chunk_size or CHUNK)
    except FileProblem as exc:  # unreadable before the first data row
        raise ImportFailed([Problem(name, None, None, exc.message)]) from None
    finally:
        table.close()


def _header(kind: str, table: Table, name: str) -> dict[str, int]:
    """Find the header row: the first row naming every required column among the first few
    (exports often carry a title row or two above it). Return {column: position}."""
    best = None  # the row most like a header, for the message when none is complete
    for looked, (rownum, cells) in enumerate(table.rows, start=1):
        if not any(cells):
            continue
        headers = ["" if c is None else str(c).strip() for c in cells]
        found, missing = match_headers(kind, headers)
        choices = missing_choices(kind, found)
        if not missing and not choices:
            return found
        if best is None or len(found) > best[0]:
            best = (len(found), rownum, headers, [(c,) for c in missing] + choices)
        if looked >= HEADER_SEARCH:
            break
    if best is None:
        raise ImportFailed([Problem(name, None, None, Message("file.empty"))])
    _, rownum, headers, groups = best
    shown = [h for h in headers if h] or Message("import.no_headers")
    raise ImportFailed(
        [
            Problem(name, rownum, group[0].name, Message(
                "import.column_missing_one" if len(group) == 1 else "import.column_missing",
                names=Alternatives(
                    Message("import.column_names", name=c.name, zh=c.zh) for c in group
                ),
                headers=shown,
            ))
            for group in groups
        ]
    )  # fmt: skip


def _limited(parse, ctx: Context):
    """Return the cell reader ``parse``, held to the branch's amount limit if it reads amounts."""
    if parse is parse_amount_fen:
        return partial(parse_amount_fen, maximum_yuan=ctx.max_amount_yuan)
    return parse


def _rows(
    ctx: Context, kind: str, table: Table, name: str, state: JobState, chunk_size: int
) -> int:
    found = _header(kind, table, name)
    ctx.present = frozenset(found)
    columns = [(c.name, found[c.name], _limited(c.parse, ctx), c.required,
                max_length(kind, c.name)) for c in COLUMNS[kind] if c.name in found]  # fmt: skip
    key_columns = KEYS[kind]
    has_lists = kind == "specialists"  # its grids column is a list, which cannot be hashed
    writer = WRITERS[kind]
    problems: list[Problem] = []
    keys = KeyLog()
    chunk: list[Pending] = []
    chunk_keys: set[tuple] = set()
    rows = 0

    def flush() -> None:
        ctx.write = not problems
        problems.extend(Problem(name, r, c, m) for r, c, m in writer(ctx, chunk))
        chunk.clear()
        chunk_keys.clear()

    try:
        for rownum, cells in table.rows:
            if not any(cells):
                continue  # a blank row
            rows += 1
            values: dict[str, object] = {}
            ok = True
            width = len(cells)
            for col, pos, parse, required, longest in columns:
                raw = cells[pos] if pos < width else None
                if raw.__class__ is str:  # clean() inlined: this loop runs for every cell
                    raw = raw.strip() if raw.isascii() else normalize("NFKC", raw).strip()  # type: ignore[union-attr]
                    if not raw:
                        raw = None
                if raw is None:
                    if required:
                        problems.append(Problem(name, rownum, col, "is required but empty"))
                        ok = False
                    continue
                try:
                    value = values[col] = parse(raw)
                except ValueProblem as exc:
                    problems.append(Problem(name, rownum, col, str(exc)))
                    ok = False
                    continue
                if longest and len(value) > longest:  # type: ignore[arg-type]
                    problems.append(Problem(name, rownum, col, f"is {len(value)} characters long: at most {longest} fit"))  # type: ignore[arg-type]  # fmt: skip
                    ok = False
            if not ok:
                if len(problems) >= MAX_PROBLEMS:
                    break
                continue
            key = tuple(values.get(k) for k in key_columns)  # optional for ONE_OF kinds
            everything = tuple(values.values())
            if has_lists:
                everything = tuple(_hashable(v) for v in everything)
            keys.add(key, everything, rownum)
            if key in chunk_keys:
                continue  # the same row again in this chunk: the key log judges it at the end
            chunk_keys.add(key)
            chunk.append(Pending(rownum, values))
            if len(chunk) >= chunk_size:
                flush()
                check(state)
                state.report(
                    min(0.95, table.progress() * 0.95), Message("progress.rows_read", rows=rows)
                )
                if len(problems) >= MAX_PROBLEMS:
                    break
    except FileProblem as exc:
        problems.append(Problem(name, None, None, exc.message))
    if chunk and len(problems) < MAX_PROBLEMS:
        flush()
    for row, first in keys.conflicts(MAX_PROBLEMS):
        column = key_columns[0]
        problems.append(Problem(name, row, column, f"the same {' + '.join(key_columns)} as row {first}, with other values"))  # fmt: skip
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise ImportFailed(problems[:MAX_PROBLEMS], stopped_early=len(problems) >= MAX_PROBLEMS)
    return rows
