"""A branch's own settings, which its senior supervisor keeps."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.models import Branch
from app.models.enums import Role
from app.services.auth import UserInfo
from app.services.errors import NotAllowed
from app.services.importer.values import LIMIT_CEILING_YUAN


class SettingError(ValueError):
    """A setting value that cannot be used, in words."""


@dataclass(frozen=True)
class BranchSettings:
    code: str
    name: str
    grace_days: int
    max_amount_yuan: int


def branch_settings(session: Session, branch_id: int) -> BranchSettings:
    branch = session.get_one(Branch, branch_id)
    return BranchSettings(branch.code, branch.name, branch.grace_days, branch.max_amount_yuan)


def set_amount_limit(
    session: Session, *, actor: UserInfo | None, branch_id: int, yuan: int
) -> BranchSettings:
    """Set the largest premium, due or receipt the branch's imports accept (the caller
    commits). Only a senior supervisor of the branch may (anyone, on a database without users)."""
    if actor is not None and (
        actor.role is not Role.SENIOR_SUPERVISOR or actor.branch_id != branch_id
    ):
        raise NotAllowed(
            f"{actor.login} ({actor.role}) may not change the branch's settings: only its "
            "senior supervisor may"
        )
    if not 1 <= yuan <= LIMIT_CEILING_YUAN:
        raise SettingError(
            f"the amount limit must be between 1 and {LIMIT_CEILING_YUAN:,} yuan, not {yuan:,}"
        )
    branch = session.get_one(Branch, branch_id)
    branch.max_amount_yuan = yuan
    session.flush()
    return branch_settings(session, branch_id)


def start_branch(
    session: Session,
    *,
    code: str,
    name: str,
    login: str,
    display_name: str,
    password: str,
) -> int:
    """Create an empty branch and its first senior supervisor, on a database that holds no
    branch yet, and return the branch's id (the caller commits). The branch's extracts are
    imported next (app.services.importer)."""
    from sqlalchemy import func, select

    from app.services.accounts import add_account

    code, name = code.strip(), name.strip()
    if not code or len(code) > 32 or any(c.isspace() for c in code):
        raise SettingError("a branch code has 1 to 32 characters and no spaces")
    if not name or len(name) > 100:
        raise SettingError("a branch name has 1 to 100 characters")
    if session.scalar(select(func.count()).select_from(Branch)):
        raise SettingError("this database already holds a branch")
    branch = Branch(code=code, name=name, city="")
    session.add(branch)
    session.flush()
    add_account(
        session,
        actor=None,
        login=login,
        display_name=display_name,
        role=Role.SENIOR_SUPERVISOR,
        password=password,
        branch_code=code,
    )
    return branch.id
