"""A branch's own settings, which its senior supervisor keeps."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.models import Branch
from app.models.enums import Role
from app.services.errors import DomainError, NotAllowed
from app.services.importer.values import LIMIT_CEILING_YUAN
from app.services.metrics.handoff import HandoffTargets, TargetError, handoff_targets
from app.services.metrics.scorecard import StandardError, Standards, scorecard_standards
from app.services.people.auth import UserInfo


class SettingError(DomainError, ValueError):
    """A setting value that cannot be used, in words."""


@dataclass(frozen=True)
class BranchSettings:
    code: str
    name: str
    grace_days: int
    max_amount_yuan: int
    handoff: HandoffTargets
    scorecard: Standards


def branch_settings(session: Session, branch_id: int) -> BranchSettings:
    branch = session.get_one(Branch, branch_id)
    return BranchSettings(
        branch.code,
        branch.name,
        branch.grace_days,
        branch.max_amount_yuan,
        handoff_targets(session, branch_id),
        scorecard_standards(session, branch_id),
    )


def may_change_settings(actor: UserInfo | None, branch_id: int) -> bool:
    """Only a senior supervisor of the branch may (anyone, on a database without users)."""
    return actor is None or (actor.role is Role.SENIOR_SUPERVISOR and actor.branch_id == branch_id)


def _check_actor(actor: UserInfo | None, branch_id: int) -> None:
    if actor is not None and not may_change_settings(actor, branch_id):
        raise NotAllowed("settings.not_senior", login=actor.login, role=actor.role)


def set_handoff_targets(
    session: Session, *, actor: UserInfo | None, branch_id: int, targets: HandoffTargets
) -> BranchSettings:
    """Set the branch's hand-off targets in days from pool entry (the caller commits)."""
    _check_actor(actor, branch_id)
    try:
        targets.check()
    except TargetError as exc:
        raise SettingError(exc.code, **exc.params) from None
    branch = session.get_one(Branch, branch_id)
    branch.handoff_sms_days = targets.sms_days
    branch.handoff_contact_days = targets.contact_days
    branch.handoff_service_days = targets.service_days
    session.flush()
    return branch_settings(session, branch_id)


def set_scorecard_standards(
    session: Session, *, actor: UserInfo | None, branch_id: int, standards: Standards
) -> BranchSettings:
    """Set the branch's monthly scorecard standards in whole percent (the caller commits)."""
    _check_actor(actor, branch_id)
    try:
        standards.check()
    except StandardError as exc:
        raise SettingError(exc.code, **exc.params) from None
    branch = session.get_one(Branch, branch_id)
    branch.scorecard_renewal_pct = standards.renewal_pct
    branch.scorecard_persistency_pct = standards.persistency_pct
    branch.scorecard_tasks_pct = standards.tasks_pct
    branch.scorecard_contact_pct = standards.contact_pct
    session.flush()
    return branch_settings(session, branch_id)


def set_amount_limit(
    session: Session, *, actor: UserInfo | None, branch_id: int, yuan: int
) -> BranchSettings:
    """Set the largest premium, due or receipt the branch's imports accept (the caller
    commits). Only a senior supervisor of the branch may (anyone, on a database without users)."""
    _check_actor(actor, branch_id)
    if not 1 <= yuan <= LIMIT_CEILING_YUAN:
        raise SettingError("settings.amount_limit", maximum=LIMIT_CEILING_YUAN, yuan=yuan)
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

    from app.services.people.accounts import add_account

    code, name = code.strip(), name.strip()
    if not code or len(code) > 32 or any(c.isspace() for c in code):
        raise SettingError("branch.bad_code", maximum=32)
    if not name or len(name) > 100:
        raise SettingError("branch.bad_name", maximum=100)
    if session.scalar(select(func.count()).select_from(Branch)):
        raise SettingError("branch.exists")
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
