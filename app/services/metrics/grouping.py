"""The fields reports group by, as SQL expressions with a readable label for each group."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Grid, Specialist, Team
from app.services.errors import DomainError

# contact_band: the customer's days from pool entry to first contact (metrics.handoff).
PERSISTENCY_FIELDS = (
    "grid",
    "specialist",
    "team",
    "payment_mode",
    "product",
    "cohort",
    "contact_band",
)
FUNNEL_FIELDS = ("grid", "specialist", "team", "cohort")


class GroupingError(DomainError, ValueError):
    """A grouping the figures do not offer."""


@dataclass(frozen=True)
class Labels:
    """Readable names of grids ('code name'), specialists ('employee_no name') and teams
    (name), looked up once per report."""

    grids: dict[int, str]
    specialists: dict[int, str]
    teams: dict[int, str]

    @classmethod
    def load(
        cls, session: Session, fields: Collection[str] = ("grid", "specialist", "team")
    ) -> Labels:
        """Return the names of the groups of ``fields`` (the others are left empty)."""
        conn = session.connection()
        grids = specialists = teams = {}
        if "grid" in fields:
            grids = {
                i: f"{c} {n}" for i, c, n in conn.execute(select(Grid.id, Grid.code, Grid.name))
            }
        if "specialist" in fields:
            rows = conn.execute(select(Specialist.id, Specialist.employee_no, Specialist.name))
            specialists = {i: f"{e} {n}" for i, e, n in rows}
        if "team" in fields:
            teams = {i: n for i, n in conn.execute(select(Team.id, Team.name))}
        return cls(grids=grids, specialists=specialists, teams=teams)

    def name(self, field: str, key) -> str:
        if key is None:
            return {
                "grid": "(no grid)",
                "specialist": "(unassigned)",
                "team": "(no team)",
            }.get(field, "(none)")
        if field == "grid":
            found = self.grids.get(key)
        elif field == "specialist":
            found = self.specialists.get(key)
        elif field == "team":
            found = self.teams.get(key)
        else:
            return str(key)
        return str(key) if found is None else found


def check_field(by: str | None, allowed: tuple[str, ...]) -> None:
    if by is not None and by not in allowed:
        raise GroupingError("grouping.unknown", by=by, choices=list(allowed))
