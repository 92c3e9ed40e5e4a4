"""What an import returns, and the error that says which rows of a file are wrong."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.changes import SOME, Changes

SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: its name, the row as a spreadsheet shows it (the header is
    row 1; for GeoJSON the feature's position), the column, and what is wrong."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            unit = "feature" if self.file.lower().endswith((".geojson", ".json")) else "row"
            where.append(f"{unit} {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


class ImportFailed(Exception):
    """The file was rejected and nothing of it was written; ``problems`` says why."""

    def __init__(self, problems: list[Problem], *, stopped_early: bool = False) -> None:
        self.problems = problems
        lines = [str(p) for p in problems[:SHOWN_PROBLEMS]]
        more = len(problems) - SHOWN_PROBLEMS
        if more > 0:
            lines.append(f"… and {more} more problem{'s' if more > 1 else ''}")
        if stopped_early:
            lines.append(f"(checking stopped after {len(problems)} problems)")
        file = problems[0].file if problems else "the file"
        head = f"{file} was not imported, nothing was changed:"
        super().__init__("\n".join([head, *lines]))


@dataclass(frozen=True)
class ImportResult:
    """What an import did: rows read (blank rows aside), rows added and rows already there."""

    kind: str
    file: str
    rows: int
    inserted: int
    updated: int
    # What a person should know about what the import did (one sentence each).
    notices: tuple[str, ...] = ()

    @property
    def changes(self) -> Changes:
        """An import may touch any row of its kind and what follows from it: all of them."""
        return Changes(customers=SOME, grids=SOME, tasks=SOME, specialists=SOME)
