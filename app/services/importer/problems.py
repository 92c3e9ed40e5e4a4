"""What an import returns, and the error that says which rows of a file are wrong."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.changes import SOME, Changes
from app.services.errors import DomainError
from app.services.messages import Lines, Message

SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: its name, the row as a spreadsheet shows it (the header is
    row 1; for GeoJSON the feature's position), the column, and what is wrong: a Message for a
    problem of the file as a whole (the views word it in the user's language), English words
    for a problem of a row's values."""

    file: str
    row: int | None
    column: str | None
    message: str | Message

    def words(self) -> Message:
        """The problem with where it is, as a message."""
        where: list[object] = [self.file]
        if self.row is not None:
            feature = self.file.lower().endswith((".geojson", ".json"))
            where.append(Message("import.at_feature" if feature else "import.at_row", row=self.row))
        if self.column:
            where.append(Message("import.at_column", column=self.column))
        return Message("import.problem", where=where, message=self.message)

    def __str__(self) -> str:
        return str(self.words())


class ImportFailed(DomainError):
    """The file was rejected and nothing of it was written; ``problems`` says why."""

    def __init__(self, problems: list[Problem], *, stopped_early: bool = False) -> None:
        lines: list[Message] = [p.words() for p in problems[:SHOWN_PROBLEMS]]
        more = len(problems) - SHOWN_PROBLEMS
        if more > 0:
            lines.append(Message("import.more_one" if more == 1 else "import.more", n=more))
        if stopped_early:
            lines.append(Message("import.stopped", n=len(problems)))
        file = problems[0].file if problems else Message("import.the_file")
        super().__init__("import.failed", file=file, problems=Lines(lines))
        self.problems = problems


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
