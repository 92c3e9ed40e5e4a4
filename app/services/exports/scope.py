"""What an export covers: the whole branch, one team or one specialist, limited by the role.

A senior supervisor and an analyst may export the branch, any team or any specialist of their
branch; a supervisor only their own team(s) and the specialists in them. Without a user (the
command line run by an operator who holds the database URL) any scope may be chosen, and
contact data stay masked.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Branch, Specialist, Team
from app.services.errors import DomainError
from app.services.people.auth import UserInfo
from app.services.words import Texts


class ScopeError(DomainError, ValueError):
    """The scope is unknown, malformed, or outside what the user may see."""


@dataclass(frozen=True)
class ExportScope:
    """A resolved scope: ``team_ids``/``specialist_ids`` None means not limited that way."""

    kind: str  # "branch", "team" or "specialist"
    branch_id: int
    branch_name: str
    team_ids: frozenset[int] | None = None
    specialist_ids: frozenset[int] | None = None
    names: tuple[str, ...] = ()  # the teams' or the specialist's readable names
    code: str = ""  # team code(s) or employee number, for file names

    def describe(self, t: Texts) -> str:
        """Return the scope as a reader of the exported file should see it."""
        if self.kind == "branch":
            return f"{t['scope_branch']} · {self.branch_name}"
        key = "scope_team" if self.kind == "team" else "scope_specialist"
        return f"{t[key]} · {'、'.join(self.names)}"


def find_branch(session: Session, code: str | None = None, user: UserInfo | None = None) -> int:
    """Return the id of the branch: the user's, the one with ``code``, or the only one."""
    if user is not None:
        if code is not None:
            own = session.scalar(select(Branch.code).where(Branch.id == user.branch_id))
            if own != code:
                raise ScopeError("scope.other_branch", login=user.login, own=own, branch=code)
        return user.branch_id
    stmt = select(Branch.id) if code is None else select(Branch.id).where(Branch.code == code)
    ids = session.scalars(stmt).all()
    if code is not None and not ids:
        raise ScopeError("scope.no_branch", branch=code)
    if not ids:
        raise ScopeError("scope.no_branch_yet")
    if len(ids) > 1:
        raise ScopeError("scope.branch_needed")
    return ids[0]


def resolve_scope(
    session: Session,
    text: str | None,
    *,
    branch_id: int,
    user: UserInfo | None = None,
) -> ExportScope:
    """Return the scope written as ``branch``, ``team:CODE`` or ``specialist:EMPNO``.

    ``None`` means the widest scope the user may see: the branch, or a supervisor's own teams.
    Raises ScopeError for an unknown team or specialist, or one outside the user's teams.
    """
    branch_name = session.scalar(select(Branch.name).where(Branch.id == branch_id)) or ""
    allowed = user.team_scope() if user is not None else None
    if text is None or not text.strip():
        if allowed is None:
            return ExportScope("branch", branch_id, branch_name)
        return _team_scope(session, branch_id, branch_name, allowed)
    kind, _, value = text.strip().partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if kind == "branch" and not value:
        if allowed is not None:
            raise ScopeError("scope.own_team_only", login=user.login if user else "")
        return ExportScope("branch", branch_id, branch_name)
    if kind == "team" and value:
        tid = session.scalar(select(Team.id).where(Team.branch_id == branch_id, Team.code == value))
        if tid is None:
            raise ScopeError("scope.no_team", team=value)
        if allowed is not None and tid not in allowed:
            raise ScopeError("scope.not_your_team", team=value)
        return _team_scope(session, branch_id, branch_name, {tid})
    if kind == "specialist" and value:
        row = session.execute(
            select(Specialist.id, Specialist.name, Specialist.team_id).where(
                Specialist.branch_id == branch_id, Specialist.employee_no == value
            )
        ).first()
        if row is None:
            raise ScopeError("scope.no_specialist", specialist=value)
        if allowed is not None and row.team_id not in allowed:
            raise ScopeError("scope.specialist_not_yours", specialist=value)
        return ExportScope(
            "specialist",
            branch_id,
            branch_name,
            team_ids=frozenset({row.team_id}),
            specialist_ids=frozenset({row.id}),
            names=(f"{row.name} ({value})",),
            code=value,
        )
    raise ScopeError("scope.unreadable", text=text)


def _team_scope(
    session: Session, branch_id: int, branch_name: str, team_ids: Collection[int]
) -> ExportScope:
    rows = session.execute(
        select(Team.code, Team.name)
        .where(Team.branch_id == branch_id, Team.id.in_(list(team_ids)))
        .order_by(Team.code)
    ).all()
    return ExportScope(
        "team",
        branch_id,
        branch_name,
        team_ids=frozenset(team_ids),
        names=tuple(name for _, name in rows),
        code="+".join(code for code, _ in rows),
    )
