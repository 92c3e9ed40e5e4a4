"""What every chunk of one import shares (``Context``) and a parsed row waiting to be written
(``Pending``): the plain types the writers take, a leaf the per-kind writers import."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.models.enums import AssignmentReason
from app.services.importer.values import MAX_AMOUNT_YUAN

RowProblem = tuple[int, str, str]  # row, column, message


@dataclass
class Pending:
    """A parsed row waiting to be written, with the row number it came from."""

    row: int
    values: dict[str, Any]


@dataclass
class Context:
    """What every chunk of one import shares."""

    session: Session
    branch_id: int
    tz: ZoneInfo
    present: frozenset[str]  # the file's columns
    # The largest amount a cell may hold, in yuan: the branch's limit.
    max_amount_yuan: int = MAX_AMOUNT_YUAN
    # Who the history records for what the import changes (the signed-in user's login).
    actor: str = "import"
    write: bool = True  # False once a problem was found: only check from then on
    inserted: int = 0
    updated: int = 0
    # Customers whose tasks or assignments were written: their 4-sell steps are derived again.
    customer_ids: set[int] = field(default_factory=set)
    # Assignment rows held until the whole file is read (a timeline may span chunks):
    # {("customer" or "grid", id): {effective day: (specialist id or None, reason)}}.
    assignments: dict[tuple[str, int], dict[date, tuple[int | None, AssignmentReason]]] = field(
        default_factory=dict
    )

    # Things the import did that a person should know, said in its result.
    notices: list[str] = field(default_factory=list)

    def count(self, inserted: int, updated: int) -> None:
        self.inserted += inserted
        self.updated += updated
